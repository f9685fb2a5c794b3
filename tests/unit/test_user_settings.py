"""settings.json: merged updates, atomic writes, damage set aside, no lost update between owners."""

from __future__ import annotations

import json
import stat
import threading
from pathlib import Path

import pytest

from director_desktop.errors import DirectorError
from director_desktop.user_settings import UserSettings


def test_update_merges_keys_and_none_removes_one(tmp_path: Path) -> None:
    settings = UserSettings(tmp_path / "data" / "settings.json")
    assert settings.get("llm") is None
    settings.update(llm={"provider": "builtin"}, window={"width": 900})
    settings.update(window=None, theme="dark")
    assert json.loads(settings.path.read_text()) == {
        "llm": {"provider": "builtin"},
        "theme": "dark",
    }
    assert settings.get("theme") == "dark"
    assert not list(settings.path.parent.glob(".settings-*"))  # no temp file left behind
    assert stat.S_IMODE(settings.path.stat().st_mode) == 0o600  # user-only, as API keys need


def test_an_unreadable_file_is_set_aside_not_deleted(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_text("{not json")
    settings = UserSettings(path)
    assert settings.get("llm") is None
    assert not path.exists()  # moved aside, not deleted
    assert (tmp_path / "settings.json.unreadable").read_text() == "{not json"


def test_a_data_dir_that_is_a_file_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    settings = UserSettings(blocker / "settings.json")
    for attempt in (lambda: settings.get("llm"), lambda: settings.update(theme="dark")):
        with pytest.raises(DirectorError) as caught:
            attempt()
        assert caught.value.code == "settings_io"
    assert blocker.read_text() == ""


def test_two_owners_of_one_file_never_lose_each_others_updates(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    # The composition root builds one UserSettings and hands it to the window and the engine.
    window = engine = UserSettings(path)
    rounds = 150

    def write(owner: UserSettings, key: str) -> None:
        for n in range(rounds):
            owner.update(**{key: n})

    threads = [
        threading.Thread(target=write, args=(window, "window")),
        threading.Thread(target=write, args=(engine, "llm")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert json.loads(path.read_text()) == {"window": rounds - 1, "llm": rounds - 1}
