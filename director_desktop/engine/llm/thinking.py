"""Split a thinking model's `<think>…</think>` out of its streamed answer text.

Models such as Qwen3 and DeepSeek-R1 write their reasoning between `<think>` and `</think>` before
the answer. A server may pass that through as plain content, in chunks cut anywhere (`<th` +
`ink>`), so the splitter holds back the tail of a chunk that could still be the start of a tag
and decides when the next chunk comes. Text inside the tags becomes thinking, the rest answer;
the tags themselves are never emitted. An unclosed `<think>` at the end of the stream leaves
everything after it as thinking (the model was cut off while reasoning). Standard library only.
"""

from __future__ import annotations

OPEN = "<think>"
CLOSE = "</think>"


class ThinkSplitter:
    """Feeds of streamed text → (answer, thinking) pieces, tags removed."""

    def __init__(self) -> None:
        self._inside = False
        self._pending = ""
        self._after_close = False

    @property
    def inside(self) -> bool:
        """Whether the stream is inside a `<think>` block right now."""
        return self._inside

    def feed(self, text: str) -> list[tuple[str, str]]:
        """`text` → a list of `(kind, piece)`, kind `answer` or `thinking`, in stream order."""
        buffer = self._pending + text
        self._pending = ""
        pieces: list[tuple[str, str]] = []
        while buffer:
            tag = CLOSE if self._inside else OPEN
            at = buffer.find(tag)
            if at >= 0:
                self._emit(pieces, buffer[:at])
                buffer = buffer[at + len(tag) :]
                self._inside = not self._inside
                # a model puts a blank line between its thinking and the answer: not answer text
                self._after_close = not self._inside
                continue
            keep = _partial_tag_suffix(buffer, tag)
            self._emit(pieces, buffer[: len(buffer) - keep])
            self._pending = buffer[len(buffer) - keep :]
            break
        return pieces

    def finish(self) -> list[tuple[str, str]]:
        """What is still held back at the end of the stream (a tag that never completed)."""
        pieces: list[tuple[str, str]] = []
        self._emit(pieces, self._pending)
        self._pending = ""
        return pieces

    def _emit(self, pieces: list[tuple[str, str]], text: str) -> None:
        if not text:
            return
        kind = "thinking" if self._inside else "answer"
        if kind == "answer" and self._after_close:
            text = text.lstrip("\n")
            if not text:
                return
            self._after_close = False
        if pieces and pieces[-1][0] == kind:
            pieces[-1] = (kind, pieces[-1][1] + text)
        else:
            pieces.append((kind, text))


def _partial_tag_suffix(text: str, tag: str) -> int:
    """The length of the longest end of `text` that is a proper start of `tag` (0 if none)."""
    for size in range(min(len(tag) - 1, len(text)), 0, -1):
        if text.endswith(tag[:size]):
            return size
    return 0
