"""Session titles a model makes: after a session's first reply, the chosen model names the chat.

With no model chosen (the built-in assistant) nothing happens: the session keeps the name its
first input gave it (`turns.session_name`, the first 60 characters). A model's title is cleaned
(`clean_title`: one line, no markup or control characters, a few words, at most 60 characters)
before the store sees it, and the store writes it only while the user has not named the session
(`Store.name_session_by_model`, one statement), so a name the user typed is never replaced, even
by a title that was being written while they typed it. A title that fails or times out is
dropped without a word: the session keeps its name, and the chat is not disturbed.
Imports the engine seam, the provider seam, background, protocol and the store for typing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import unicodedata
from typing import TYPE_CHECKING, Protocol

from director_desktop.background import BackgroundTasks
from director_desktop.engine.base import Publisher
from director_desktop.engine.llm.base import ChatMessage, ChatProvider, TextDelta
from director_desktop.errors import DirectorError
from director_desktop.protocol import Message

if TYPE_CHECKING:
    from director_desktop.store import Store

log = logging.getLogger(__name__)

TITLE_CHARS = 60
TITLE_WORDS = 8
TITLE_TOKENS = 24
TITLE_TIMEOUT = 30.0
PROMPT_CHARS = 1500  # of the input and of the reply: a title needs the gist, not the whole turn
INSTRUCTION = (
    "Name this chat in three to six words. Answer with the name only: no quotes, no "
    "punctuation at the end, no explanation."
)
_THINK = re.compile(r"<think>.*?(</think>|$)", re.DOTALL | re.IGNORECASE)
_TAG = re.compile(r"<[^>]*>")
# Markup and quotes, curly ones by code point (U+2018/19/1C/1D, U+00AB/BB). Angle brackets
# too: `_TAG` removes whole tags, but a model can leave a lone `<` with no `>` after it.
_MARKUP = re.compile('[`*_#<>\\[\\]{}|~"\u2018\u2019\u201c\u201d\u00ab\u00bb]')
_LABEL = re.compile(r"^(title|name|chat name|chat title)\s*:\s*", re.IGNORECASE)
_TRAILING = re.compile(r"[\s.,;:!?'-]+$")


class HasProvider(Protocol):
    """An engine that may answer with a model (the router); `provider` is None without one."""

    @property
    def provider(self) -> ChatProvider | None: ...


def clean_title(raw: str) -> str:
    """A model's answer made into a title: its first line, no reasoning block, tag, markup,
    control or format character, at most `TITLE_WORDS` words and `TITLE_CHARS` characters (cut
    at a word). Empty when nothing usable is left."""
    text = _TAG.sub(" ", _THINK.sub(" ", raw))
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        return ""
    # Cc/Cf/Co/Cs/Cn: control, format (bidi overrides, zero-width), private, surrogate, unassigned.
    line = "".join(
        " " if unicodedata.category(ch).startswith("C") else ch for ch in lines[0]
    ).strip()
    line = _LABEL.sub("", _MARKUP.sub(" ", line))
    words = line.split()[:TITLE_WORDS]
    title = ""
    for word in words:
        longer = f"{title} {word}" if title else word
        if len(longer) > TITLE_CHARS:
            break
        title = longer
    if not title and words:  # one word longer than a title: cut it
        title = words[0][:TITLE_CHARS]
    return _TRAILING.sub("", title)


def title_request(input_text: str, reply_text: str) -> list[ChatMessage]:
    return [
        {"role": "system", "content": INSTRUCTION},
        {
            "role": "user",
            "content": f"User: {input_text[:PROMPT_CHARS]}\n\n"
            f"Assistant: {reply_text[:PROMPT_CHARS]}\n\n{INSTRUCTION}",
        },
    ]


def text_of(message: Message) -> str:
    """The text a message shows: its text items joined (images, videos and the rest left out)."""
    parts = [str(item.get("text") or "") for item in message.get("content", [])]
    return " ".join(" ".join(parts).split())


class SessionTitler:
    """Names sessions after their first reply, in the background (`after_first_reply`)."""

    def __init__(
        self,
        store: Store,
        engine: object,
        publisher: Publisher,
        *,
        timeout: float = TITLE_TIMEOUT,
    ) -> None:
        self._store = store
        self._engine = engine
        self._publisher = publisher
        self._timeout = timeout
        self._tasks = BackgroundTasks()

    def provider(self) -> ChatProvider | None:
        """The model answering now; None for the built-in assistant (or any modelless engine)."""
        provider = getattr(self._engine, "provider", None)
        return provider if provider is not None and hasattr(provider, "stream_chat") else None

    def after_first_reply(self, session_id: str, input_message: Message, reply: Message) -> None:
        """Start naming `session_id` from its first turn, when a model is chosen."""
        provider = self.provider()
        if provider is None or self._tasks.closed:
            return
        self._tasks.spawn(
            self._name(provider, session_id, text_of(input_message), text_of(reply)),
            name=f"title {session_id}",
        )

    async def wait_idle(self) -> None:
        await self._tasks.wait()

    async def close(self) -> None:
        await self._tasks.aclose()

    async def _name(self, provider: ChatProvider, session_id: str, asked: str, said: str) -> None:
        try:
            async with asyncio.timeout(self._timeout):
                raw = await self.ask(provider, asked, said)
        except (DirectorError, TimeoutError) as exc:
            log.info("no title made", extra={"session_id": session_id, "error": repr(exc)})
            return
        title = clean_title(raw)
        if not title:
            return
        if await self._store.name_session_by_model(session_id, title) is not None:
            await self._publisher.sessions_changed()

    @staticmethod
    async def ask(provider: ChatProvider, asked: str, said: str) -> str:
        await provider.ready()
        pieces: list[str] = []
        stream = provider.stream_chat(title_request(asked, said), [], max_tokens=TITLE_TOKENS)
        async with contextlib.aclosing(stream):
            async for event in stream:
                if isinstance(event, TextDelta):
                    pieces.append(event.text)
        return "".join(pieces)
