"""The providers on real engines: the OpenAI-compatible provider against xllamacpp's own HTTP
server on loopback, the embedded provider's direct path, local-server detection, GGUF headers."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from director_desktop.engine.llm.base import Finish, TextDelta, ToolSpec
from director_desktop.engine.llm.gguf_info import read_gguf_info
from director_desktop.engine.llm.llamacpp import LlamaCppProvider
from director_desktop.engine.llm.openai_http import (
    OpenAICompatProvider,
    detect_local_servers,
    normalize_base_url,
)
from director_desktop.errors import ModelError
from tests.fixtures.llama_server import serve_openai
from tests.unit.llm_support import models

pytestmark = pytest.mark.anyio

SEARCH: ToolSpec = {
    "type": "function",
    "function": {
        "name": "search_chats",
        "description": "search",
        "parameters": {
            "type": "object",
            "properties": {"query": {"type": "string"}},
            "required": ["query"],
        },
    },
}


@pytest.fixture(scope="module")
def gguf(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return models(tmp_path_factory.mktemp("models"))


@pytest.fixture(scope="module")
def http_servers(gguf: dict[str, Path]) -> Iterator[dict[str, tuple[str, str]]]:
    key = "sk-" + uuid.uuid4().hex
    servers = {name: serve_openai(gguf[name], key) for name in ("chat", "tool")}
    yield {name: (server.listening_address, key) for name, server in servers.items()}
    servers.clear()


async def model_id(address: str, key: str) -> str:
    provider = OpenAICompatProvider(address, "", api_key=key)
    try:
        return str((await provider.list_models())[0]["id"])
    finally:
        await provider.close()


async def test_openai_provider_streams_text_over_sse(
    http_servers: dict[str, tuple[str, str]],
) -> None:
    address, key = http_servers["chat"]
    provider = OpenAICompatProvider(address, await model_id(address, key), api_key=key)
    try:
        await provider.ready()
        assert provider.state.state == "ready"
        assert provider.context_length == 4096, "llama.cpp's server reports its context"
        events = [
            e
            async for e in provider.stream_chat(
                [{"role": "user", "content": "hi"}], [], max_tokens=64
            )
        ]
    finally:
        await provider.close()
    assert isinstance(events[-1], Finish)
    assert events[-1].reason in ("stop", "length")
    assert all(isinstance(e, TextDelta) for e in events[:-1])


async def test_openai_provider_joins_streamed_tool_calls(
    http_servers: dict[str, tuple[str, str]],
) -> None:
    address, key = http_servers["tool"]
    provider = OpenAICompatProvider(address, await model_id(address, key), api_key=key)
    try:
        events = [
            e
            async for e in provider.stream_chat(
                [{"role": "user", "content": "find"}], [SEARCH], max_tokens=64
            )
        ]
    finally:
        await provider.close()
    finish = events[-1]
    assert isinstance(finish, Finish)
    assert finish.reason == "tool_calls"
    assert [c.name for c in finish.tool_calls] == ["search_chats"]
    assert finish.tool_calls[0].id
    assert '"query"' in finish.tool_calls[0].arguments


async def test_openai_provider_errors_are_clear_and_never_show_the_key(
    http_servers: dict[str, tuple[str, str]],
) -> None:
    address, key = http_servers["chat"]
    wrong = OpenAICompatProvider(address, "m", api_key="sk-wrong-key")
    with pytest.raises(ModelError) as refused:
        await wrong.ready()
    await wrong.close()
    assert refused.value.code == "model_unauthorized"
    assert "sk-wrong-key" not in refused.value.message
    assert wrong.state.state == "error"

    unknown = OpenAICompatProvider(address, "no-such-model", api_key=key)
    with pytest.raises(ModelError) as missing:
        await unknown.ready()
    await unknown.close()
    assert missing.value.code == "model_not_found"

    nobody = OpenAICompatProvider("http://127.0.0.1:9", "m")  # the discard port: nothing listens
    with pytest.raises(ModelError) as unreachable:
        await nobody.ready()
    await nobody.close()
    assert "cannot reach" in unreachable.value.message


async def test_a_prompt_larger_than_the_context_is_a_context_overflow(
    gguf: dict[str, Path],
) -> None:
    provider = LlamaCppProvider(gguf["chat"], context_length=512)
    try:
        with pytest.raises(ModelError) as raised:
            async for _ in provider.stream_chat(
                [{"role": "user", "content": "word " * 2000}], [], max_tokens=8
            ):
                pass
    finally:
        await provider.close()
    assert raised.value.code == "context_overflow"


async def test_detection_finds_a_running_server_and_skips_closed_ports(
    gguf: dict[str, Path],
) -> None:
    server = serve_openai(gguf["chat"], None)
    port = int(server.listening_address.rsplit(":", 1)[1])
    try:
        found = await detect_local_servers(2.0, [("closed", 9), ("llama.cpp server", port)])
    finally:
        del server
    assert len(found) == 1
    assert found[0]["name"] == "llama.cpp server"
    assert found[0]["base_url"] == f"http://127.0.0.1:{port}/v1"
    assert len(found[0]["models"]) == 1


def test_base_urls_are_normalized() -> None:
    assert normalize_base_url("http://127.0.0.1:11434") == "http://127.0.0.1:11434/v1"
    assert normalize_base_url("http://127.0.0.1:1234/v1/") == "http://127.0.0.1:1234/v1"
    assert (
        normalize_base_url("https://api.example/openai/v1/chat/completions")
        == "https://api.example/openai/v1"
    )
    with pytest.raises(ModelError):
        normalize_base_url("localhost:8080")


def test_gguf_headers_are_read_without_loading(gguf: dict[str, Path], tmp_path: Path) -> None:
    info = read_gguf_info(gguf["chat"])
    assert (info.architecture, info.context_length, info.has_chat_template) == ("llama", 4096, True)
    assert info.size == gguf["chat"].stat().st_size
    truncated = tmp_path / "cut.gguf"
    truncated.write_bytes(gguf["chat"].read_bytes()[:3000])
    for path, code in [(truncated, "model_corrupt"), (tmp_path / "none.gguf", "model_missing")]:
        with pytest.raises(ModelError) as raised:
            read_gguf_info(path)
        assert raised.value.code == code
        assert path.name in raised.value.message
