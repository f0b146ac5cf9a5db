#!/usr/bin/env python3
"""Build the briefs: `python build.py --help`, the same as the `briefing` command.

The work lives in the installed package `briefing` (src/briefing); `make build`
installs it into .venv, so run this file with .venv/bin/python.
"""

import sys

try:
    from briefing.cli import main
except ImportError as err:  # run with a Python that has not got Briefing installed
    sys.exit(f"build.py: Briefing is not installed in this Python ({err.name} is missing): "
             "run `make build` once, then `.venv/bin/python build.py`")

if __name__ == "__main__":
    sys.exit(main(prog="build.py"))
