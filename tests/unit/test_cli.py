"""The command line: options become Settings; bad options are refused before anything starts."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from director_desktop import cli, headless


def settings_for(*argv: str):  # type: ignore[no-untyped-def]
    return cli.settings_from(cli.parser().parse_args(list(argv)))


def test_options_become_settings(tmp_path: Path) -> None:
    settings = settings_for(
        "--headless",
        "--port",
        "8123",
        "--data-dir",
        str(tmp_path / "d"),
        "--log-dir",
        str(tmp_path / "l"),
        "--token",
        "a-token-of-twenty-chars",
    )
    assert settings.headless is True
    assert settings.port == 8123
    assert settings.data_dir == (tmp_path / "d").resolve()
    assert settings.log_dir == (tmp_path / "l").resolve()
    assert settings.token == "a-token-of-twenty-chars"
    assert settings.host == "127.0.0.1"
    assert settings.is_loopback


def test_each_launch_gets_a_fresh_token() -> None:
    first, second = settings_for("--headless"), settings_for("--headless")
    assert first.token != second.token
    assert len(first.token) >= 43  # 256 bits, urlsafe base64


@pytest.mark.parametrize(
    "argv", [["--port", "70000"], ["--port", "x"], ["--token", "short"], ["--bogus"]]
)
def test_bad_options_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        settings_for(*argv)
    assert exited.value.code == 2
    assert "usage:" in capsys.readouterr().err


def test_url_line() -> None:
    settings = settings_for("--token", "t" * 20)
    assert (
        headless.url_line(settings, 4321)
        == f"Director Desktop at http://127.0.0.1:4321/#token={'t' * 20}"
    )
    wild = settings_for("--host", "0.0.0.0", "--token", "t" * 20)
    assert headless.url_line(wild, 1).startswith("Director Desktop at http://127.0.0.1:1/")
    lan = settings_for("--host", "192.168.1.5", "--token", "t" * 20)
    assert headless.url_line(lan, 1).startswith("Director Desktop at http://192.168.1.5:1/")


def test_non_loopback_host_warns(capsys: pytest.CaptureFixture[str]) -> None:
    headless.warn_not_loopback("0.0.0.0")
    assert "not loopback" in capsys.readouterr().err


def run_cli(code: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env["DIRECTOR_LOG_DIR"] = str(tmp_path / "logs")
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=env,
    )


@pytest.mark.parametrize(
    ("missing", "reason"),
    [
        # `sys.modules[name] = None` makes `import name` fail as a missing module does.
        ("director_desktop.launcher", "director_desktop.launcher cannot be imported"),
        ("webview", "no window could be opened here"),
    ],
)
def test_a_smoke_test_with_no_window_fails_instead_of_serving(
    tmp_path: Path, missing: str, reason: str
) -> None:
    code = (
        f"import sys; sys.modules[{missing!r}] = None\n"
        "from director_desktop import cli\n"
        f"sys.exit(cli.main(['--smoke-test', '--data-dir', {str(tmp_path / 'data')!r}]))\n"
    )
    done = run_cli(code, tmp_path)
    assert done.returncode != 0
    assert f"smoke test failed: {reason}" in done.stderr
    assert "serving at" not in done.stdout + done.stderr
