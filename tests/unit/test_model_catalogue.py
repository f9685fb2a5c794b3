"""The shipped model catalogue (`engine/llm/catalogue.json`) is well-formed, covers what issue 14
asks for, and the checks that guard it refuse a malformed entry; the memory fit and hub-link
parsing it relies on."""

from __future__ import annotations

import copy
import json

import pytest

from director_desktop.engine.llm import catalogue
from director_desktop.engine.llm.catalogue import GIB, check_entry, fit, parse, recommended
from director_desktop.engine.llm.hub import RepoRef, parse_repo
from director_desktop.errors import InvalidPayload

SHIPPED = json.loads(catalogue.PATH.read_text(encoding="utf-8"))


def test_every_shipped_entry_is_well_formed() -> None:
    shipped = catalogue.load()
    assert shipped.version >= 1
    assert len(shipped.entries) == len(SHIPPED["entries"])
    for entry in SHIPPED["entries"]:
        assert check_entry(entry) == entry


def test_the_catalogue_covers_three_chat_sizes_whisper_and_an_embedding_model() -> None:
    entries = catalogue.load().entries
    chat_classes = {e["size_class"] for e in entries if e["kind"] == "chat"}
    assert chat_classes == {"1B", "3-4B", "7-8B"}
    assert all(e["tools"] for e in entries if e["kind"] == "chat")
    assert {e["repo"] for e in entries if e["kind"] == "whisper"} == {"ggerganov/whisper.cpp"}
    assert [e["kind"] for e in entries].count("embedding") == 1
    assert len({(e["repo"], e["file"]) for e in entries}) == len(entries)


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        ({"repo": "no-slash"}, "owner/name"),
        ({"file": "model.bin"}, ".gguf"),
        ({"file": "../x.gguf"}, ".gguf"),
        ({"kind": "vision"}, "kind"),
        ({"memory_gb": 0}, "memory_gb"),
        ({"memory_gb": True}, "memory_gb"),
        ({"license": ""}, "license"),
        ({"license_url": "http://x"}, "https"),
        ({"extra": 1}, "unknown"),
    ],
)
def test_a_malformed_entry_is_refused(change: dict[str, object], complaint: str) -> None:
    entry = copy.deepcopy(SHIPPED["entries"][0]) | change
    with pytest.raises(ValueError, match=complaint):
        check_entry(entry)


def test_a_missing_field_and_a_repeated_id_are_refused() -> None:
    entry = copy.deepcopy(SHIPPED["entries"][0])
    del entry["license"]
    with pytest.raises(ValueError, match="missing"):
        check_entry(entry)
    twice = {"version": 1, "entries": [SHIPPED["entries"][0], SHIPPED["entries"][0]]}
    with pytest.raises(ValueError, match="unique"):
        parse(twice)


def test_memory_fit_and_the_recommendation_follow_the_machine() -> None:
    assert fit(2.0, 16 * GIB) == "fits"
    assert fit(7.0, 8 * GIB) == "tight"
    assert fit(7.0, 4 * GIB) == "too_big"
    assert fit(1.0, None) == "unknown"
    shipped = catalogue.load()
    big = recommended(shipped, 32 * GIB)
    small = recommended(shipped, 4 * GIB)
    tiny = recommended(shipped, 1 * GIB)
    memory = {e["id"]: e["memory_gb"] for e in shipped.entries}
    assert big is not None
    assert small is not None
    assert tiny is not None
    assert memory[big] > memory[small]
    assert fit(memory[small], 4 * GIB) == "fits"
    assert memory[tiny] == min(
        m for i, m in memory.items() if "whisper" not in i and "embed" not in i
    )


@pytest.mark.parametrize(
    ("text", "ref"),
    [
        ("Qwen/Qwen3-4B-GGUF", RepoRef("Qwen/Qwen3-4B-GGUF")),
        ("https://huggingface.co/Qwen/Qwen3-4B-GGUF", RepoRef("Qwen/Qwen3-4B-GGUF")),
        (
            "https://huggingface.co/Qwen/Qwen3-4B-GGUF/blob/main/Qwen3-4B-Q4_K_M.gguf",
            RepoRef("Qwen/Qwen3-4B-GGUF", "Qwen3-4B-Q4_K_M.gguf", "main"),
        ),
        (
            "hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF/resolve/abc123/x.gguf?download=true",
            RepoRef("bartowski/Llama-3.2-1B-Instruct-GGUF", "x.gguf", "abc123"),
        ),
        ("https://huggingface.co/o/n/tree/v2", RepoRef("o/n", None, "v2")),
    ],
)
def test_a_pasted_repository_or_file_link_is_understood(text: str, ref: RepoRef) -> None:
    assert parse_repo(text) == ref


@pytest.mark.parametrize("text", ["", "a", "a/b/c d", "https://example.com/o/n", "../etc/x"])
def test_anything_else_is_bad_repo(text: str) -> None:
    with pytest.raises(InvalidPayload) as caught:
        parse_repo(text)
    assert caught.value.code == "bad_repo"
