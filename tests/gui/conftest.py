"""Fixtures of the GUI tier; the helpers live in `support.py`."""

from __future__ import annotations

from tests.gui.support import apps, display

__all__ = ["apps", "display"]
