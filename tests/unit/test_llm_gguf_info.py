"""`read_gguf_info`: a GGUF file is only accepted when it is long enough for every tensor its
header describes. Files are written by the `gguf` package (llama.cpp's own Python writer), and
the expected tensor ends come from its reader — an implementation independent of ours."""

from __future__ import annotations

import struct
from pathlib import Path

import gguf
import numpy as np
import pytest

from director_desktop.engine.llm.gguf_info import (
    DEFAULT_ALIGNMENT,
    GGML_BLOCK_SIZES,
    read_gguf_info,
)
from director_desktop.errors import ModelError
from tests.fixtures.tiny_gguf import write_chat_model

Q = gguf.GGMLQuantizationType


def test_the_block_size_table_matches_gguf_py() -> None:
    reference = {int(kind): sizes for kind, sizes in gguf.GGML_QUANT_SIZES.items()}
    assert reference == GGML_BLOCK_SIZES
    assert DEFAULT_ALIGNMENT == gguf.GGUF_DEFAULT_ALIGNMENT


def data_end(path: Path) -> int:
    """Where the last tensor's data ends, by gguf-py's reader."""
    reader = gguf.GGUFReader(str(path))
    return max(int(t.data_offset) + int(t.n_bytes) for t in reader.tensors)


def refused(path: Path, name: str | None = None) -> str:
    with pytest.raises(ModelError) as raised:
        read_gguf_info(path, display_name=name)
    assert raised.value.code == "model_corrupt"
    return raised.value.message


@pytest.fixture(scope="module")
def chat(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return Path(write_chat_model(str(tmp_path_factory.mktemp("gguf") / "chat.gguf")))


def test_a_file_cut_anywhere_is_truncated_and_named(chat: Path, tmp_path: Path) -> None:
    data = chat.read_bytes()
    reader = gguf.GGUFReader(str(chat))
    infos_start = int(reader.tensors[0].field.offset)
    data_start = int(reader.data_offset)
    end = data_end(chat)
    assert len(data) >= end > data_start > infos_start
    cuts = {
        "inside the key/values": 100,
        "inside the tensor infos": infos_start + 5,
        "between the infos and the data": data_start - 1,
        "inside the data": data_start + 10,
        "one byte short": end - 1,
    }
    for where, cut in cuts.items():
        path = tmp_path / "cut.gguf"
        path.write_bytes(data[:cut])
        message = refused(path, "My Model.gguf")
        assert message.startswith("My Model.gguf: the model file is truncated"), (where, message)
        assert "cut.gguf" not in message
        if cut >= data_start:
            assert f"({cut} of {end} bytes)" in message, (where, message)
    whole = tmp_path / "whole.gguf"
    whole.write_bytes(data[:end])  # the padding after the last tensor is not needed
    info = read_gguf_info(whole)
    assert (info.architecture, info.context_length, info.size) == ("llama", 4096, end)


def test_quantized_tensors_and_a_custom_alignment(tmp_path: Path) -> None:
    path = tmp_path / "quant.gguf"
    writer = gguf.GGUFWriter(str(path), arch="llama")
    writer.add_custom_alignment(64)
    writer.add_tensor("norm", np.ones(7, dtype=np.float32))  # 28 bytes: padded to 64
    for name, kind, rows, cols in [
        ("q8", Q.Q8_0, 3, 64),
        ("q4k", Q.Q4_K, 2, 512),
        ("iq2", Q.IQ2_XXS, 1, 256),
        ("mx", Q.MXFP4, 5, 32),
        ("bf", Q.BF16, 3, 3),
    ]:
        block, size = gguf.GGML_QUANT_SIZES[kind]
        raw = np.zeros((rows, cols // block * size), dtype=np.uint8)
        writer.add_tensor(name, raw, raw_dtype=kind)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    end = data_end(path)
    data = path.read_bytes()
    path.write_bytes(data[:end])
    assert read_gguf_info(path).size == end
    path.write_bytes(data[: end - 1])
    assert f"({end - 1} of {end} bytes)" in refused(path)


def header_only(path: Path, tensors: list[tuple[str, tuple[int, ...], int]]) -> int:
    """A GGUF header with tensor infos and no data; returns where the data section starts."""
    writer = gguf.GGUFWriter(str(path), arch="llama")
    for name, shape, nbytes in tensors:
        writer.add_tensor_info(name, shape, np.dtype(np.float32), nbytes)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_ti_data_to_file()
    writer.close()
    size = path.stat().st_size
    return (size + DEFAULT_ALIGNMENT - 1) // DEFAULT_ALIGNMENT * DEFAULT_ALIGNMENT


def test_a_64_gib_model_is_checked_from_its_header_alone(tmp_path: Path) -> None:
    # A sparse file: reading any of its tensor data would take minutes and 64 GiB of memory.
    path = tmp_path / "huge.gguf"
    nbytes = 16 * 2**30 * 4
    start = header_only(path, [("w", (16, 2**30), nbytes)])
    with path.open("r+b") as handle:
        handle.truncate(start + nbytes)
    assert read_gguf_info(path).size == start + nbytes
    with path.open("r+b") as handle:
        handle.truncate(start + nbytes - 1)
    assert f"({start + nbytes - 1} of {start + nbytes} bytes)" in refused(path)


def test_an_unknown_tensor_type_is_not_guessed(tmp_path: Path) -> None:
    path = tmp_path / "future.gguf"
    start = header_only(path, [("known", (4,), 16), ("future", (4096,), 16384)])
    data = bytearray(path.read_bytes())
    # the second info ends with its type (u32) and offset (u64): give it a type no ggml has yet
    type_at = len(data) - 8 - 4
    assert struct.unpack_from("<I", data, type_at)[0] == int(Q.F32)
    struct.pack_into("<I", data, type_at, 250)
    path.write_bytes(bytes(data) + bytes(start - len(data) + 32))  # "known" whole, "future" not
    assert read_gguf_info(path).size == start + 32
    path.write_bytes(path.read_bytes()[: start + 15])  # the known tensor is still checked
    assert f"({start + 15} of {start + 16} bytes)" in refused(path)


def test_a_damaged_tensor_info_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "dims.gguf"
    header_only(path, [("w", (4,), 16)])
    data = bytearray(path.read_bytes())
    # info: name length (u64), name "w", n_dims (u32) ... ; n_dims 9 is more than ggml has
    n_dims_at = data.rindex(b"\x01\x00\x00\x00\x00\x00\x00\x00w") + 9
    struct.pack_into("<I", data, n_dims_at, 9)
    path.write_bytes(bytes(data))
    assert "header is damaged" in refused(path)
