"""`python -m director_desktop`."""

from __future__ import annotations

import sys

from director_desktop.cli import main

if __name__ == "__main__":
    sys.exit(main())
