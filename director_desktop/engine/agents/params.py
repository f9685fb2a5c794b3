"""Agent parameters as a user or a model writes them: times, asset ids, and the assets they name.

No parameter is ever a file system path. An asset id is a short token (`ASSET_ID`): a value with a
slash, a backslash, `..` or anything else is refused as `invalid_payload` before anything is
looked up, and an id is found only through the library in the turn's collection, which answers
`not_found` for another collection's asset. `times_in`/`ids_in` read the free text after an
`@agent` mention for the built-in assistant. Imports `errors`, `store` and `media`.
"""

from __future__ import annotations

import math
import re

from director_desktop.engine.agents.base import AgentContext
from director_desktop.errors import InvalidPayload, NotFound
from director_desktop.media.editing import Source
from director_desktop.media.library import MediaLibrary
from director_desktop.media.probe import Probe
from director_desktop.store import DEFAULT_COLLECTION, AssetKind, AssetRecord

ASSET_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,127}")
UUID = re.compile(r"\b[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}\b")
TIME = re.compile(r"(?<![\w.:])(\d+(?::\d{1,2}){0,2}(?:\.\d+)?)\s*s?(?![\w:])")
MAX_TIME = 7 * 24 * 3600.0


def collection_of(ctx: AgentContext) -> str:
    """The collection the turn is about: the input's, else the session's, else the default."""
    return ctx.collection_id or DEFAULT_COLLECTION


def asset_id(value: object, name: str) -> str:
    """`value` if it is shaped like an asset id; `invalid_payload` (a path, a name...) if not."""
    if not isinstance(value, str) or not ASSET_ID.fullmatch(value.strip()):
        raise InvalidPayload(f"{name} must be the id of an asset in the collection, not a path")
    return value.strip()


async def find_asset(
    library: MediaLibrary,
    ctx: AgentContext,
    value: object,
    name: str,
    *,
    kinds: tuple[AssetKind, ...] = ("video",),
    default: str | None = None,
) -> AssetRecord:
    """The asset `value` names, in the turn's collection and of one of `kinds`. With no value,
    `default` (the video the user is looking at), else `invalid_payload` asking which one."""
    if value is None or value == "":
        if default is None:
            what = " or ".join(kinds)
            raise InvalidPayload(f"which {what}? give {name} (the user is looking at none)")
        value = default
    found = await library.asset(asset_id(value, name), collection_id=collection_of(ctx))
    if found.kind not in kinds:
        raise NotFound(f"{found.name} is not a {' or '.join(kinds)}")
    return found


def source_of(library: MediaLibrary, asset: AssetRecord) -> Source:
    """The asset's file and probe, for `media.editing`; `not_found` when the file is gone."""
    if library.missing(asset):
        raise NotFound(f"the file of {asset.name} is missing (moved or deleted)")
    return Source(library.file_of(asset), Probe.from_json(asset.probe))


def parse_time(value: object, name: str) -> float:
    """Seconds from a number (42.5) or a clock string ("0:42", "1:02:05.5", "42s")."""
    if isinstance(value, bool):
        raise InvalidPayload(f"{name} must be a time: seconds (42.5) or m:ss (0:42)")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str) and (match := TIME.fullmatch(value.strip().lower())):
        seconds = _clock_seconds(match.group(1), name)
    else:
        raise InvalidPayload(f"{name} must be a time: seconds (42.5) or m:ss (0:42)")
    if not math.isfinite(seconds) or not 0 <= seconds <= MAX_TIME:
        raise InvalidPayload(f"{name} must be a time from 0 on")
    return seconds


def _clock_seconds(text: str, name: str) -> float:
    *upper, last = text.split(":")
    seconds = float(last)
    if upper and seconds >= 60:
        raise InvalidPayload(f"{name}: seconds after a colon go up to 59")
    for place, part in enumerate(reversed(upper)):
        if place == 0 and len(upper) == 2 and int(part) >= 60:
            raise InvalidPayload(f"{name}: minutes after the hours go up to 59")
        seconds += int(part) * 60 ** (place + 1)
    return seconds


def optional_number(value: object, name: str, default: float) -> float:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidPayload(f"{name} must be a number")
    return float(value)


def optional_text(value: object, name: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidPayload(f"{name} must be text")
    return " ".join(value.split()) or None


# --- free text (`@agent ...` with no model) -----------------------------------------------------
def ids_in(text: str) -> list[str]:
    """The asset ids (UUIDs, as the library makes them) written in `text`, in order."""
    return UUID.findall(text)


def times_in(text: str) -> list[float]:
    """The times written in `text` ("0:42", "1:02:05", "42s", "42.5"), in order; ids skipped."""
    found = []
    for match in TIME.finditer(UUID.sub(" ", text.lower())):
        try:
            found.append(_clock_seconds(match.group(1), "time"))
        except (InvalidPayload, ValueError):
            continue
    return found


def words_without(text: str, *, ids: bool = True, times: bool = True) -> str:
    """`text` with its ids and times taken out, spaces tidied."""
    if ids:
        text = UUID.sub(" ", text)
    if times:
        text = TIME.sub(" ", text)
    return " ".join(text.split())
