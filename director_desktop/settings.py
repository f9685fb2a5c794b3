"""Settings: everything a launch is configured with, built once in `cli.py` and passed down.

The only reader of `os.environ` and `platformdirs`. Imports nothing else from the project.
"""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import platformdirs

APP_NAME = "Director Desktop"
WINDOW_AGENT = "DirectorDesktop"
"""The product token the desktop window adds to its User-Agent (`DirectorDesktop/<version>`), so
the server can leave out a header only a browser needs (see `web/guard.py`)."""
LOOPBACK = "127.0.0.1"


def new_token() -> str:
    """A fresh per-launch token (PROTOCOL section 1: at least 128 bits)."""
    return secrets.token_urlsafe(32)


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    log_dir: Path
    host: str = LOOPBACK
    port: int = 0
    token: str = field(default_factory=new_token, repr=False)
    headless: bool = False
    smoke_test: bool = False
    # Copies of the environment variables other parts need, so nobody else reads os.environ.
    env: Mapping[str, str] = field(default_factory=dict, repr=False)

    @property
    def db_path(self) -> Path:
        return self.data_dir / "director.sqlite3"

    @property
    def backups_dir(self) -> Path:
        return self.data_dir / "backups"

    @property
    def models_dir(self) -> Path:
        return self.data_dir / "models"

    @property
    def media_dir(self) -> Path:
        return self.data_dir / "media"

    @property
    def staging_dir(self) -> Path:
        """Jobs' partial work (PROTOCOL 7): read by nothing else, cleaned of orphans at start."""
        return self.data_dir / "staging"

    @property
    def user_settings_path(self) -> Path:
        return self.data_dir / "settings.json"

    @property
    def lock_path(self) -> Path:
        return self.data_dir / "director.lock"

    @property
    def webview_storage_dir(self) -> Path:
        return self.data_dir / "webview"

    @property
    def secrets_path(self) -> Path:
        """The key file, used only when no OS keyring is usable."""
        return self.data_dir / "secrets.json"

    @property
    def log_level(self) -> int:
        """DEBUG when `DIRECTOR_DEBUG=1`, else INFO."""
        return logging.DEBUG if self.env.get("DIRECTOR_DEBUG") == "1" else logging.INFO

    @property
    def hf_endpoint(self) -> str:
        """The model hub's address: `HF_ENDPOINT` (the variable the hub's own client honours,
        so a mirror, a proxy or a test double can stand in), else the hub itself."""
        return (self.env.get("HF_ENDPOINT") or "https://huggingface.co").rstrip("/")

    @property
    def is_loopback(self) -> bool:
        return self.host in (LOOPBACK, "localhost", "::1")


def default_data_dir(environ: Mapping[str, str]) -> Path:
    override = environ.get("DIRECTOR_DATA_DIR")
    if override:
        return Path(override).expanduser().resolve()
    return platformdirs.user_data_path(APP_NAME, appauthor=False)


def default_log_dir(environ: Mapping[str, str]) -> Path:
    override = environ.get("DIRECTOR_LOG_DIR")
    if override:
        return Path(override).expanduser().resolve()
    return platformdirs.user_log_path(APP_NAME, appauthor=False)


def build_settings(
    *,
    data_dir: Path | None = None,
    log_dir: Path | None = None,
    host: str = LOOPBACK,
    port: int = 0,
    token: str | None = None,
    headless: bool = False,
    smoke_test: bool = False,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Resolve settings from explicit values, then the environment, then platform defaults."""
    env = dict(os.environ if environ is None else environ)
    return Settings(
        data_dir=(data_dir.expanduser().resolve() if data_dir else default_data_dir(env)),
        log_dir=(log_dir.expanduser().resolve() if log_dir else default_log_dir(env)),
        host=host,
        port=port,
        token=token or new_token(),
        headless=headless,
        smoke_test=smoke_test,
        env=env,
    )
