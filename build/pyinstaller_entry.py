"""The frozen app's entry point (director.spec): the same `main` as `python -m director_desktop`.

A script rather than the package's `__main__.py` so PyInstaller analyses `director_desktop` as a
package (relative imports, package data) instead of a loose top-level script.
"""

from __future__ import annotations

import sys

from director_desktop.cli import main

if __name__ == "__main__":
    sys.exit(main())
