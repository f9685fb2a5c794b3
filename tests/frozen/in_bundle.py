"""Run by the frozen app's own interpreter, never by the tests' (`support.run_in_bundle`): the app's
code as the bundle carries it, on the bundle's numpy, pysubs2 and whisper.cpp. It imports only
what the bundle holds (the standard library and `director_desktop`'s dependencies; nothing of
`tests`), and prints one JSON object as its last line of stdout.

    in_bundle.py subtitles CLIP WORK_DIR   pysubs2: SubRip and WebVTT text, the sidecars beside
                                           CLIP, and CLIP's embedded text tracks (extracted by
                                           the bundled FFmpeg into WORK_DIR), as the media index
                                           reads them
    in_bundle.py transcribe DATA_DIR MEDIA WORK_DIR
                                           what the `transcription` agent does with the speech to
                                           text chosen in DATA_DIR's settings.json: MEDIA's sound
                                           as 16 kHz WAV (the bundled FFmpeg), transcribed, as SRT

Both answer, beside their results, where numpy, pysubs2 and the whisper.cpp binding were imported
from, `sys._MEIPASS`, and every shared library mapped into the process (/proc/self/maps).
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

SRT = (
    "1\n00:00:00,500 --> 00:00:01,750\nHello <i>there</i>\n\n"
    "2\n00:00:02,000 --> 00:00:03,000\nWorld\n"
)
VTT = "WEBVTT\n\nNOTE not a cue\n\n00:00:01.000 --> 00:00:02.500\nA lighthouse keeper waves\n"


NOT_BUNDLED = ("pywhispercpp", "tqdm", "requests", "numpy.random", "numpy.fft", "numpy.testing")


def _importable(name: str) -> bool:
    import importlib.util

    try:
        return importlib.util.find_spec(name) is not None
    except ImportError:
        return False


def loaded_libraries() -> list[str]:
    with open("/proc/self/maps", encoding="utf-8") as maps:
        paths = {line.split(maxsplit=5)[-1].strip() for line in maps if ".so" in line}
    return sorted(p for p in paths if p.startswith("/"))


def where() -> dict[str, Any]:
    import _pywhispercpp  # type: ignore[import-not-found]
    import numpy
    import pysubs2

    return {
        "meipass": getattr(sys, "_MEIPASS", None),
        "frozen": bool(getattr(sys, "frozen", False)),
        "modules": {
            "numpy": numpy.__file__,
            "pysubs2": pysubs2.__file__,
            "_pywhispercpp": _pywhispercpp.__file__,
        },
        "numpy_version": numpy.__version__,
        "importable": {name: _importable(name) for name in NOT_BUNDLED},
        "libraries": loaded_libraries(),
    }


def cues(found: list[Any]) -> list[list[Any]]:
    return [[cue.start, cue.end, cue.text] for cue in found]


async def subtitles(clip: Path, work_dir: Path) -> dict[str, Any]:
    from director_desktop.media.ffmpeg import Ffmpeg
    from director_desktop.media.probe import probe
    from director_desktop.media.subtitles import embedded, parse, read_sidecars

    ffmpeg = Ffmpeg.locate({})
    inside = await embedded(ffmpeg, clip, await probe(ffmpeg, clip), work_dir)
    beside = read_sidecars(clip)
    return {
        "srt": cues(parse(SRT, "srt")),
        "vtt": cues(parse(VTT, "vtt")),
        "embedded": {track.label: cues(track.cues) for track in inside.tracks},
        "sidecars": {track.label: cues(track.cues) for track in beside.tracks},
        "notes": [*inside.notes, *beside.notes],
        "ffmpeg": str(ffmpeg.exe),
    }


async def transcribe(data_dir: Path, media: Path, work_dir: Path) -> dict[str, Any]:
    from director_desktop.engine.speech import build_transcriber, check_choice, to_srt
    from director_desktop.engine.speech.audio import extract_speech_audio, open_wav
    from director_desktop.media.ffmpeg import Ffmpeg
    from director_desktop.settings import build_settings
    from director_desktop.user_settings import UserSettings

    settings = build_settings(data_dir=data_dir, log_dir=work_dir / "logs", environ={})
    choice = check_choice(UserSettings(settings.user_settings_path).get("speech"))
    transcriber = build_transcriber(choice, models_dir=settings.models_dir)
    if transcriber is None:
        raise SystemExit(f"no speech to text chosen in {settings.user_settings_path}")
    await asyncio.to_thread(work_dir.mkdir, parents=True, exist_ok=True)  # a job's staging dir
    wav = await extract_speech_audio(Ffmpeg.locate({}), media, work_dir / "speech.wav")
    try:
        segments = await transcriber.transcribe(wav)
    finally:
        await transcriber.close()  # type: ignore[attr-defined]
    return {
        "transcriber": transcriber.name,
        "audio_seconds": open_wav(wav).duration,
        "segments": [
            {
                "start": s.start,
                "end": s.end,
                "text": s.text,
                "words": [[w.start, w.end, w.text] for w in s.words],
            }
            for s in segments
        ],
        "srt": to_srt(segments),
    }


def main(argv: list[str]) -> dict[str, Any]:
    command, *args = argv
    if command == "subtitles":
        result = asyncio.run(subtitles(Path(args[0]), Path(args[1])))
    elif command == "transcribe":
        result = asyncio.run(transcribe(Path(args[0]), Path(args[1]), Path(args[2])))
    else:
        raise SystemExit(f"in_bundle.py: unknown command {command!r}")
    return {**result, **where()}


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1:])), flush=True)
