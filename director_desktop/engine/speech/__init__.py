"""Speech to text (issue 13): the two kinds of `Transcriber` (media/transcript.py's seam), the
user's choice between them, the audio they take, and transcripts written out.

- `WhisperCppTranscriber` (whisper_cpp.py): whisper.cpp in-process through `pywhispercpp`, with
  a ggml model file of the models folder.
- `OpenAITranscriber` (openai_speech.py): any OpenAI-compatible `/v1/audio/transcriptions`.
- `SpeechSettings` / `build_transcriber` (settings.py): the `speech` key of settings.json.
- `extract_speech_audio` (audio.py): a library file's sound as the 16 kHz mono WAV they take.
- `to_srt` / `to_vtt` / `to_text` (formats.py); `TranscriptShelf` / `find_transcript` (shelf.py).
"""

from __future__ import annotations

from director_desktop.engine.speech.audio import extract_speech_audio
from director_desktop.engine.speech.formats import render, to_srt, to_text, to_vtt
from director_desktop.engine.speech.openai_speech import OpenAITranscriber, speech_base_url
from director_desktop.engine.speech.settings import (
    PROVIDERS,
    SpeechSettings,
    build_transcriber,
    check_choice,
)
from director_desktop.engine.speech.shelf import TranscriptShelf, find_transcript
from director_desktop.engine.speech.whisper_cpp import WhisperCppTranscriber, whisper_file_error

__all__ = [
    "PROVIDERS",
    "OpenAITranscriber",
    "SpeechSettings",
    "TranscriptShelf",
    "WhisperCppTranscriber",
    "build_transcriber",
    "check_choice",
    "extract_speech_audio",
    "find_transcript",
    "render",
    "speech_base_url",
    "to_srt",
    "to_text",
    "to_vtt",
    "whisper_file_error",
]
