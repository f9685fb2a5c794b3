"""Text shown on screen: each scene's thumbnail read by Tesseract OCR, for the media index.

Tesseract is optional and detected, not shipped: it is a program with its own language data
(`eng.traineddata`, ~4-23 MB a language) and libraries (leptonica), installed by the system's
package manager (Debian `tesseract-ocr`, Homebrew `tesseract`, the UB Mannheim installer on
Windows); the installer does not carry it. `SceneReader.locate` finds it (`DIRECTOR_TESSERACT`,
else `tesseract` on the PATH); without it the index job says so in a note and indexes the rest.

Each thumbnail (the scene's first frame, 320 px wide) is read as it is, with page segmentation
11 (sparse text: titles and captions anywhere in the picture), as TSV so each word's confidence
is known; words under `MIN_CONFIDENCE` and those with no letter or digit are dropped (a plain
background reads as noise when it reads as anything). One process a thumbnail, killed when the
job is stopped. Imports the standard library only.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Final

MIN_CONFIDENCE: Final = 60.0
TIMEOUT: Final = 30.0  # seconds for one picture
NOT_INSTALLED: Final = (
    "Text shown on screen was not read: Tesseract OCR is not installed (Debian/Ubuntu: "
    "apt install tesseract-ocr; macOS: brew install tesseract). Index again once it is."
)


class SceneReader:
    """Reads the words in a picture with the Tesseract program at `exe`."""

    def __init__(self, exe: Path) -> None:
        self.exe = exe

    @classmethod
    def locate(cls, env: Mapping[str, str]) -> SceneReader | None:
        """Tesseract at `DIRECTOR_TESSERACT`, else on the PATH; None when there is none."""
        given = env.get("DIRECTOR_TESSERACT")
        if given:
            path = Path(given)
            return cls(path) if path.is_file() and os.access(path, os.X_OK) else None
        found = shutil.which("tesseract")
        return cls(Path(found)) if found else None

    async def read(self, picture: Path) -> str:
        """The words Tesseract reads in `picture` with confidence, in reading order; "" when it
        reads none, fails or takes too long (a picture is worth no more than that)."""
        process = await asyncio.create_subprocess_exec(
            str(self.exe),
            str(picture),
            "stdout",
            "--psm",
            "11",
            "tsv",
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
        )
        try:
            out, _ = await asyncio.wait_for(process.communicate(), TIMEOUT)
        except TimeoutError:
            return ""
        finally:
            if process.returncode is None:  # stopped or timed out: never leave it running
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                await process.wait()
        if process.returncode != 0:
            return ""
        return words_of(out.decode("utf-8", errors="replace"))


def words_of(tsv: str) -> str:
    """The confident words of Tesseract's TSV output, one line per text line it found."""
    lines: dict[tuple[str, str, str], list[str]] = {}
    for row in tsv.splitlines()[1:]:
        cells = row.split("\t")
        if len(cells) < 12 or cells[0] != "5":  # level 5: a word
            continue
        try:
            confidence = float(cells[10])
        except ValueError:
            continue
        word = cells[11].strip()
        if confidence < MIN_CONFIDENCE or not any(ch.isalnum() for ch in word):
            continue
        lines.setdefault((cells[2], cells[3], cells[4]), []).append(word)
    return "\n".join(" ".join(words) for words in lines.values())
