"""Director Desktop: the Director chat experience as an offline desktop app."""

from __future__ import annotations

from importlib import metadata


def version() -> str:
    """The installed package version (DESIGN: the package metadata is the one source)."""
    try:
        return metadata.version("director-desktop")
    except metadata.PackageNotFoundError:  # running from a tree that was never installed
        return "0+unknown"
