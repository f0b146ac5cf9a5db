#!/usr/bin/env python3
"""Build the briefs: `python build.py --help`. The work lives in src/briefing."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "src"))

from briefing.cli import main

if __name__ == "__main__":
    sys.exit(main())
