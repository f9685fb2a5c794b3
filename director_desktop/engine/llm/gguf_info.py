"""Read a GGUF file's header: architecture, name, context length, chat template presence, and
whether the file is long enough to hold every tensor the header describes.

llama.cpp answers a missing, truncated or foreign file with one generic "Failed to init server";
reading the header first gives the user a specific reason, and the models list its context length
without loading anything. The tensor infos (name, dims, ggml type, offset) are part of the header,
so the file's expected length is known without reading a byte of tensor data (models are GBs).
Imports only `errors` and `protocol` (the listing's wire shape) from the project (the `gguf`
package is a test dependency: its `GGML_QUANT_SIZES` is the reference the unit tests check
`GGML_BLOCK_SIZES` against).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from director_desktop.errors import ModelError
from director_desktop.protocol import ModelFile

MAGIC = b"GGUF"
_SCALARS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q"}
_SCALARS |= {11: "<q", 12: "<d"}
_STRING, _ARRAY = 8, 9
_MAX_KV = 1 << 20
_MAX_TENSORS = 1 << 20
_MAX_STRING = 1 << 28
_MAX_DIMS = 4  # GGML_MAX_DIMS
DEFAULT_ALIGNMENT = 32  # GGUF_DEFAULT_ALIGNMENT, when `general.alignment` is absent

_QK_K = 256  # elements per "K-quant" super-block
# ggml type id -> (elements per block, bytes per block), as in ggml's type traits (copied from
# gguf-py's GGML_QUANT_SIZES; a unit test keeps the two equal).
GGML_BLOCK_SIZES: dict[int, tuple[int, int]] = {
    0: (1, 4),  # F32
    1: (1, 2),  # F16
    2: (32, 2 + 16),  # Q4_0
    3: (32, 2 + 2 + 16),  # Q4_1
    6: (32, 2 + 4 + 16),  # Q5_0
    7: (32, 2 + 2 + 4 + 16),  # Q5_1
    8: (32, 2 + 32),  # Q8_0
    9: (32, 4 + 4 + 32),  # Q8_1
    10: (_QK_K, 2 + 2 + _QK_K // 16 + _QK_K // 4),  # Q2_K
    11: (_QK_K, 2 + _QK_K // 4 + _QK_K // 8 + 12),  # Q3_K
    12: (_QK_K, 2 + 2 + _QK_K // 2 + 12),  # Q4_K
    13: (_QK_K, 2 + 2 + _QK_K // 2 + _QK_K // 8 + 12),  # Q5_K
    14: (_QK_K, 2 + _QK_K // 2 + _QK_K // 4 + _QK_K // 16),  # Q6_K
    15: (_QK_K, 4 + _QK_K + _QK_K // 8),  # Q8_K
    16: (_QK_K, 2 + _QK_K // 4),  # IQ2_XXS
    17: (_QK_K, 2 + _QK_K // 4 + _QK_K // 32),  # IQ2_XS
    18: (_QK_K, 2 + _QK_K // 4 + _QK_K // 8),  # IQ3_XXS
    19: (_QK_K, 2 + _QK_K // 8 + _QK_K // 16),  # IQ1_S
    20: (32, 2 + 16),  # IQ4_NL
    21: (_QK_K, 2 + _QK_K // 4 + _QK_K // 8 + _QK_K // 32 + 4),  # IQ3_S
    22: (_QK_K, 2 + _QK_K // 4 + _QK_K // 16),  # IQ2_S
    23: (_QK_K, 2 + 2 + _QK_K // 2 + _QK_K // 64),  # IQ4_XS
    24: (1, 1),  # I8
    25: (1, 2),  # I16
    26: (1, 4),  # I32
    27: (1, 8),  # I64
    28: (1, 8),  # F64
    29: (_QK_K, _QK_K // 8 + _QK_K // 16 + _QK_K // 32),  # IQ1_M
    30: (1, 2),  # BF16
    34: (_QK_K, 2 + 4 * 13),  # TQ1_0
    35: (_QK_K, 2 + 64),  # TQ2_0
    39: (32, 1 + 16),  # MXFP4
    40: (64, 4 + 32),  # NVFP4
    41: (128, 2 + 16),  # Q1_0
}


@dataclass(frozen=True)
class GGUFInfo:
    path: Path
    size: int
    architecture: str
    name: str | None
    context_length: int | None
    has_chat_template: bool
    kv_bytes_per_token: int | None = None
    """The KV cache's bytes per token of context at F16 (llama.cpp's default cache type), from
    the attention shape; None when the header does not say. Caps the default context by memory."""

    def as_dict(self) -> ModelFile:
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


def read_gguf_info(path: Path, display_name: str | None = None) -> GGUFInfo:
    """The header of a GGUF file; `ModelError` (`model_missing` / `model_corrupt`) otherwise.

    Messages name the file as `display_name` (default: the path's name) — an upload is checked
    while it is still a hidden temp file, and the user must read the name they chose.
    """
    label = display_name or path.name
    try:
        size = path.stat().st_size
        with path.open("rb") as handle:
            return _parse(path, label, size, _Reader(handle))
    except ModelError as exc:
        if label in exc.message:
            raise
        raise ModelError(f"{label}: {exc.message}", code=exc.code) from exc
    except FileNotFoundError as exc:
        raise ModelError(f"model file {label} not found", code="model_missing") from exc
    except IsADirectoryError as exc:
        raise ModelError(f"{label} is a folder, not a model file", code="model_corrupt") from exc
    except OSError as exc:
        raise ModelError(f"cannot read model file {label}: {exc.strerror}") from exc


def _damaged() -> ModelError:
    return ModelError("the model file's header is damaged", code="model_corrupt")


def _parse(path: Path, label: str, size: int, reader: _Reader) -> GGUFInfo:
    if reader.handle.read(4) != MAGIC:
        raise ModelError(f"{label} is not a GGUF model file", code="model_corrupt")
    version = reader.unpack("<I")
    if version not in (2, 3):
        raise ModelError(f"{label}: unsupported GGUF version {version}", code="model_corrupt")
    tensor_count = reader.unpack("<Q")
    kv_count = reader.unpack("<Q")
    if kv_count > _MAX_KV or tensor_count > _MAX_TENSORS:
        raise _damaged()
    meta: dict[str, str | int | float | bool] = {}  # scalar values only (lists are dropped)
    for _ in range(kv_count):
        key = reader.string()
        kind = reader.unpack("<I")
        # token lists are huge: skip them without building Python lists
        value = reader.value(kind, keep=not key.startswith("tokenizer.ggml."))
        if value is not None and not isinstance(value, list):
            meta[key] = value
    alignment = meta.get("general.alignment", DEFAULT_ALIGNMENT)
    if not isinstance(alignment, int) or alignment <= 0 or alignment & (alignment - 1):
        raise _damaged()  # llama.cpp refuses an alignment that is not a power of two
    needed = _data_end(reader, tensor_count, alignment)
    if size < needed:
        raise ModelError(
            f"the model file is truncated ({size} of {needed} bytes)", code="model_corrupt"
        )
    architecture = str(meta.get("general.architecture") or "")
    if not architecture:
        raise ModelError(f"{label} names no model architecture", code="model_corrupt")
    context = meta.get(f"{architecture}.context_length")
    return GGUFInfo(
        path=path,
        size=size,
        architecture=architecture,
        name=str(meta["general.name"]) if "general.name" in meta else None,
        context_length=int(context) if isinstance(context, int) else None,
        has_chat_template="tokenizer.chat_template" in meta,
        kv_bytes_per_token=_kv_bytes_per_token(meta, architecture),
    )


def _kv_bytes_per_token(meta: dict[str, str | int | float | bool], arch: str) -> int | None:
    """layers * KV heads * (key + value width) * 2 bytes; None when a value is missing."""

    def whole(key: str, default: int | None = None) -> int | None:
        value = meta.get(f"{arch}.{key}", default)
        ok = isinstance(value, int) and not isinstance(value, bool) and value > 0
        return value if ok and isinstance(value, int) else None

    layers, heads, width = (
        whole("block_count"),
        whole("attention.head_count"),
        whole("embedding_length"),
    )
    if layers is None or heads is None or width is None:
        return None
    kv_heads = whole("attention.head_count_kv", heads)
    key = whole("attention.key_length", width // heads)
    value = whole("attention.value_length", width // heads)
    if kv_heads is None or key is None or value is None:
        return None
    return layers * kv_heads * (key + value) * 2


def _data_end(reader: _Reader, tensor_count: int, alignment: int) -> int:
    """Where the last tensor's data ends, from the tensor infos alone (no tensor data is read).

    Each info is: name, n_dims, n_dims x ne, ggml type, offset from the start of the data
    section; that section starts at the first multiple of `alignment` after the infos.
    """
    end = 0
    for _ in range(tensor_count):
        name_length = reader.unpack("<Q")
        if name_length > _MAX_STRING:
            raise _damaged()
        reader.handle.seek(name_length, 1)  # a seek past the end is caught by the next read
        n_dims = reader.unpack("<I")
        if n_dims > _MAX_DIMS:
            raise _damaged()
        dims = [reader.unpack("<Q") for _ in range(n_dims)]
        kind, offset = reader.unpack("<I"), reader.unpack("<Q")
        block = GGML_BLOCK_SIZES.get(kind)
        if block is None:
            # A type this table does not know (a newer llama.cpp): its size would be a guess,
            # so this tensor is not checked; the file may still be long enough to load.
            continue
        elements_per_block, bytes_per_block = block
        if dims and dims[0] % elements_per_block:
            raise _damaged()  # llama.cpp refuses a row that is not a whole number of blocks
        elements = 1
        for ne in dims:
            elements *= ne
        end = max(end, offset + elements // elements_per_block * bytes_per_block)
    if end == 0:
        return 0
    header_end = reader.handle.tell()
    data_start = (header_end + alignment - 1) // alignment * alignment
    return data_start + end
