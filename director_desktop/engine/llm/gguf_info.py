"""Read a GGUF file's header: architecture, name, context length, chat template presence.

llama.cpp answers a missing, truncated or foreign file with one generic "Failed to init server";
reading the header first gives the user a specific reason, and the models list its context length
without loading anything. Standard library only (the `gguf` package is a test dependency).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from director_desktop.errors import ModelError

MAGIC = b"GGUF"
_SCALARS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q"}
_SCALARS |= {11: "<q", 12: "<d"}
_STRING, _ARRAY = 8, 9
_MAX_KV = 1 << 20
_MAX_STRING = 1 << 28


@dataclass(frozen=True)
class GGUFInfo:
    path: Path
    size: int
    architecture: str
    name: str | None
    context_length: int | None
    has_chat_template: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.path.name,
            "size": self.size,
            "architecture": self.architecture,
            "name": self.name,
            "context_length": self.context_length,
            "has_chat_template": self.has_chat_template,
        }


class _Reader:
    def __init__(self, handle: BinaryIO) -> None:
        self.handle = handle

    def unpack(self, fmt: str) -> Any:
        size = struct.calcsize(fmt)
        raw = self.handle.read(size)
        if len(raw) != size:
            raise ModelError("the model file is truncated", code="model_corrupt")
        return struct.unpack(fmt, raw)[0]

    def string(self) -> str:
        length = self.unpack("<Q")
        if length > _MAX_STRING:
            raise ModelError("the model file's header is damaged", code="model_corrupt")
        raw = self.handle.read(length)
        if len(raw) != length:
            raise ModelError("the model file is truncated", code="model_corrupt")
        return raw.decode("utf-8", errors="replace")

    def value(self, kind: int, keep: bool) -> Any:
        if kind in _SCALARS:
            return self.unpack(_SCALARS[kind])
        if kind == _STRING:
            return self.string()
        if kind == _ARRAY:
            item_kind, count = self.unpack("<I"), self.unpack("<Q")
            if item_kind in _SCALARS and not keep:
                self.handle.seek(struct.calcsize(_SCALARS[item_kind]) * count, 1)
                return None
            if item_kind == _STRING and not keep:
                for _ in range(count):
                    self.handle.seek(self.unpack("<Q"), 1)
                return None
            return [self.value(item_kind, keep) for _ in range(count)]
        raise ModelError("the model file's header is damaged", code="model_corrupt")


def read_gguf_info(path: Path) -> GGUFInfo:
    """The header of a GGUF file; `ModelError` (`model_missing` / `model_corrupt`) otherwise."""
    try:
        size = path.stat().st_size
        with path.open("rb") as handle:
            return _parse(path, size, _Reader(handle))
    except ModelError as exc:
        if path.name in exc.message:
            raise
        raise ModelError(f"{path.name}: {exc.message}", code=exc.code) from exc
    except FileNotFoundError as exc:
        raise ModelError(f"model file {path.name} not found", code="model_missing") from exc
    except IsADirectoryError as exc:
        raise ModelError(
            f"{path.name} is a folder, not a model file", code="model_corrupt"
        ) from exc
    except OSError as exc:
        raise ModelError(f"cannot read model file {path.name}: {exc.strerror}") from exc


def _parse(path: Path, size: int, reader: _Reader) -> GGUFInfo:
    if reader.handle.read(4) != MAGIC:
        raise ModelError(f"{path.name} is not a GGUF model file", code="model_corrupt")
    version = reader.unpack("<I")
    if version not in (2, 3):
        raise ModelError(f"{path.name}: unsupported GGUF version {version}", code="model_corrupt")
    reader.unpack("<Q")  # tensor count
    kv_count = reader.unpack("<Q")
    if kv_count > _MAX_KV:
        raise ModelError("the model file's header is damaged", code="model_corrupt")
    meta: dict[str, Any] = {}
    for _ in range(kv_count):
        key = reader.string()
        kind = reader.unpack("<I")
        # token lists are huge: skip them without building Python lists
        value = reader.value(kind, keep=not key.startswith("tokenizer.ggml."))
        if value is not None and not isinstance(value, list):
            meta[key] = value
    architecture = str(meta.get("general.architecture") or "")
    if not architecture:
        raise ModelError(f"{path.name} names no model architecture", code="model_corrupt")
    context = meta.get(f"{architecture}.context_length")
    return GGUFInfo(
        path=path,
        size=size,
        architecture=architecture,
        name=str(meta["general.name"]) if "general.name" in meta else None,
        context_length=int(context) if isinstance(context, int) else None,
        has_chat_template="tokenizer.chat_template" in meta,
    )
