"""The model catalogue: `catalogue.json`, a versioned data file shipped with the app.

Each entry names a file in a public model repository (chat models in three size classes, whisper
models for the transcription agent, one embedding model) with its quantization, licence, what it
is good for and the memory it needs. Sizes and hashes are not kept here: they change when a
repository is re-uploaded, so the hub is asked live (`hub.py`). `fit` says whether an entry fits
this machine's memory. Imports `errors` and `protocol`; standard library otherwise.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal, cast

from director_desktop.protocol import CatalogueEntry, JSONDict

PATH = Path(__file__).with_name("catalogue.json")
KINDS = ("chat", "whisper", "embedding")
GIB = 1024**3
# A model also needs room for its context (KV cache), the app and the system: an entry "fits"
# when it needs at most this share of the machine's memory, and is "tight" up to all of it.
COMFORT = 0.7
Fit = Literal["fits", "tight", "too_big", "unknown"]

_REPO = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,95}/[A-Za-z0-9][A-Za-z0-9._-]{0,95}")
_FILE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._ ()+-]{0,199}")
_SUFFIX = {"chat": ".gguf", "embedding": ".gguf", "whisper": ".bin"}
_FIELDS: dict[str, type | tuple[type, ...]] = {
    "id": str,
    "kind": str,
    "size_class": str,
    "name": str,
    "repo": str,
    "file": str,
    "revision": str,
    "quantization": str,
    "license": str,
    "license_url": str,
    "good_for": str,
    "memory_gb": (int, float),
    "tools": bool,
}


@dataclass(frozen=True)
class Catalogue:
    version: int
    entries: tuple[CatalogueEntry, ...]

    def entry(self, entry_id: str) -> CatalogueEntry | None:
        return next((e for e in self.entries if e["id"] == entry_id), None)


def check_entry(raw: object) -> CatalogueEntry:
    """One entry, checked field by field; `ValueError` naming what is wrong."""
    if not isinstance(raw, dict):
        raise ValueError("an entry must be an object")
    where = f"entry {raw.get('id')!r}"
    missing = set(_FIELDS) - set(raw)
    extra = set(raw) - set(_FIELDS)
    if missing or extra:
        raise ValueError(f"{where}: missing {sorted(missing)}, unknown {sorted(extra)}")
    for key, kind in _FIELDS.items():
        value = raw[key]
        if not isinstance(value, kind) or (isinstance(value, str) and not value.strip()):
            raise ValueError(f"{where}: {key} must be a non-empty {kind}")
    memory = raw["memory_gb"]
    if isinstance(memory, bool) or not isinstance(memory, int | float) or not 0 < memory < 512:
        raise ValueError(f"{where}: memory_gb must be a number of gigabytes")
    if raw["kind"] not in KINDS:
        raise ValueError(f"{where}: kind must be one of {KINDS}")
    if not _REPO.fullmatch(raw["repo"]):
        raise ValueError(f"{where}: repo must be owner/name")
    if not _FILE.fullmatch(raw["file"]) or not raw["file"].endswith(_SUFFIX[raw["kind"]]):
        raise ValueError(f"{where}: file must be a plain {_SUFFIX[raw['kind']]} name")
    if not raw["license_url"].startswith("https://"):
        raise ValueError(f"{where}: license_url must be an https URL")
    return cast(CatalogueEntry, raw)


def parse(data: JSONDict) -> Catalogue:
    version, entries = data.get("version"), data.get("entries")
    if not isinstance(version, int) or version < 1:
        raise ValueError("the catalogue needs a version number")
    if not isinstance(entries, list) or not entries:
        raise ValueError("the catalogue needs a list of entries")
    checked = tuple(check_entry(entry) for entry in entries)
    ids = [entry["id"] for entry in checked]
    if len(set(ids)) != len(ids):
        raise ValueError("catalogue ids must be unique")
    return Catalogue(version, checked)


@cache
def load(path: Path = PATH) -> Catalogue:
    """The shipped catalogue (read once)."""
    return parse(json.loads(path.read_text(encoding="utf-8")))


def machine_memory() -> int | None:
    """This machine's physical memory in bytes, or None where the system does not say."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, ValueError, OSError):  # Windows has no sysconf
        return None


def fit(memory_gb: float, memory: int | None) -> Fit:
    if not memory:
        return "unknown"
    need = memory_gb * GIB
    if need <= memory * COMFORT:
        return "fits"
    return "tight" if need <= memory else "too_big"


def recommended(catalogue: Catalogue, memory: int | None) -> str | None:
    """The id of the chat model to suggest: the one needing the most memory that still fits
    comfortably (bigger is better at the same quantization), else the smallest."""
    chat = [e for e in catalogue.entries if e["kind"] == "chat"]
    fitting = [e for e in chat if fit(e["memory_gb"], memory) == "fits"]
    pool = fitting or sorted(chat, key=lambda e: e["memory_gb"])[:1]
    return max(pool, key=lambda e: e["memory_gb"])["id"] if pool else None
