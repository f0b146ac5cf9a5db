"""`python -m briefing`: the same command line as `briefing` and `build.py`."""

import sys

from briefing.cli import main

sys.exit(main())
