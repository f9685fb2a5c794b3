"""Speech to text and subtitles inside the frozen app: whisper.cpp (the `_pywhispercpp` binding and
its libraries in `_internal/pywhispercpp.libs/`), numpy (`_internal/numpy.libs/`) and pysubs2,
loaded from the bundle and nowhere else, as a fresh user (empty HOME, no XDG_*) meets them.

- Inside the bundle (the frozen app's own interpreter, `support.run_in_bundle`): pysubs2 reads
  SubRip and WebVTT, a video's sidecars and its embedded text track (extracted by the bundled
  FFmpeg); and, after the user put a whisper ggml file in `<data dir>/models/`, chose it with
  `PUT /config/speech` on the frozen headless app and uploaded a video with espeak-ng speech to
  `/videodb/collection/default/upload`, the `transcription` agent's steps on that choice and that
  upload (the sound as 16 kHz WAV, whisper.cpp, SRT). Every shared library mapped into that
  process must come from the onedir, glibc's excepted.
- Through the app, as the UI drives it: a `@transcription` chat turn on that upload, then
  `GET /media/{id}/transcript?format=srt` (the route only reads transcripts: it answers 404
  before); and, with no speech to text chosen, `@index` on a video with a subtitle track, whose
  transcript is then that track. (Each is an xfail if the app registers no such agent.)

The model is the tests' tiny random-weight whisper file (tests/fixtures/tiny_whisper.py): its words
are gibberish, so only the segments' times are checked (inside the audio), never the words.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import time
import uuid
import wave
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import test_all
from tests.fixtures.tiny_whisper import write_tiny_whisper
from tests.frozen.support import FreshUser, Headless, bundled_ffmpeg, run_in_bundle
from tests.integration.support import ChatClient, chat_payload

pytestmark = [pytest.mark.frozen, pytest.mark.slow, pytest.mark.timeout(1200)]

StartHeadless = Callable[[list[str], FreshUser, Path], Headless]
IN_BUNDLE = Path(__file__).with_name("in_bundle.py")
MODEL = "ggml-tiny-random.bin"
SPEECH = "Hello world. The red car drives to the market."
H264_AAC = ["-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-c:a", "aac"]
# What the process may map from outside the bundle: glibc (libc6). The bundle carries its own
# libstdc++/libgcc_s, which the loader finds first; the system's would do too (libstdc++6 and
# libgcc-s1 come with the .deb's WebKitGTK).
SYSTEM = re.compile(
    r"(ld-linux-x86-64|libc|libm|libdl|libpthread|librt|libstdc\+\+|libgcc_s)\.so[.\d]*"
)
SRT_CUE = re.compile(r"(\d\d):(\d\d):(\d\d),(\d\d\d) --> (\d\d):(\d\d):(\d\d),(\d\d\d)\n(.+)")
TRANSCRIPT_DEADLINE = 180.0


@dataclass(frozen=True)
class Spoken:
    wav: Path  # SPEECH said by espeak-ng, 16 kHz mono 16-bit
    video: Path  # testsrc 320x240 with that sound, H.264/AAC MP4, faststart
    seconds: float  # the WAV's length


def ffmpeg(binary: Path, *args: str) -> None:
    done = subprocess.run(
        [str(binary), "-hide_banner", "-nostdin", "-v", "error", "-y", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, (args, done.stderr[-2000:])


@pytest.fixture(scope="module")
def spoken(frozen_app: Path, tmp_path_factory: pytest.TempPathFactory) -> Spoken:
    """Made by espeak-ng and the bundled ffmpeg."""
    if shutil.which("espeak-ng") is None:
        if test_all():
            pytest.fail("DIRECTOR_TEST_ALL=1 but espeak-ng is missing (scripts/system-deps test)")
        pytest.skip("espeak-ng is not installed (scripts/system-deps test)")
    folder = tmp_path_factory.mktemp("spoken")
    binary = bundled_ffmpeg(frozen_app)
    raw, wav, video = folder / "espeak.wav", folder / "speech.wav", folder / "spoken.mp4"
    subprocess.run(["espeak-ng", "-w", str(raw), SPEECH], check=True, capture_output=True)
    ffmpeg(binary, "-i", str(raw), "-ac", "1", "-ar", "16000", "-c:a", "pcm_s16le", str(wav))
    with wave.open(str(wav), "rb") as reader:
        seconds = reader.getnframes() / reader.getframerate()
    assert 1.5 < seconds < 10, seconds
    # As long as the speech: `-shortest` alone lets the picture run on by up to half a second.
    picture = ["-f", "lavfi", "-i", f"testsrc=size=320x240:rate=25:duration={seconds:.3f}"]
    ffmpeg(binary, *picture, "-i", str(wav), "-t", f"{seconds:.3f}", *H264_AAC, "-ar", "16000",
           "-movflags", "+faststart", str(video))  # fmt: skip
    return Spoken(wav, video, seconds)


def check_from_the_bundle(report: dict[str, Any], frozen_app: Path) -> None:
    """numpy, pysubs2 and the binding imported from `_internal/`, and every shared library of
    the process (whisper.cpp, ggml, OpenBLAS among them) mapped from the onedir."""
    onedir = frozen_app.parent.resolve()
    internal = onedir / "_internal"
    assert report["frozen"] is True, report
    assert Path(report["meipass"]).resolve() == internal, report["meipass"]
    for name, file in report["modules"].items():
        assert Path(file).resolve().is_relative_to(internal), (name, file)
    # What the app never runs is not in the bundle: pywhispercpp's Python package (its model
    # downloader pulls in requests and tqdm), numpy's tests, testing helpers, random and fft.
    assert report["importable"] == dict.fromkeys(report["importable"], False), report["importable"]
    libraries = [Path(lib) for lib in report["libraries"]]
    outside = [
        str(lib)
        for lib in libraries
        if not lib.resolve().is_relative_to(onedir) and not SYSTEM.fullmatch(lib.name)
    ]
    assert outside == [], f"loaded from outside the bundle: {outside}"
    for wanted in ("pywhispercpp.libs/libwhisper-", "pywhispercpp.libs/libggml-cpu-",
                   "numpy.libs/libscipy_openblas"):  # fmt: skip
        assert any(wanted in str(lib) for lib in libraries), f"no {wanted}* mapped"


def srt_cues(text: str) -> list[tuple[float, float, str]]:
    found = []
    for match in SRT_CUE.finditer(text):
        h1, m1, s1, ms1, h2, m2, s2, ms2 = (int(g) for g in match.groups()[:8])
        found.append(
            (h1 * 3600 + m1 * 60 + s1 + ms1 / 1000, h2 * 3600 + m2 * 60 + s2 + ms2 / 1000,
             match[9])
        )  # fmt: skip
    return found


def check_inside(times: list[tuple[float, float]], limit: float) -> None:
    assert times, "the tiny model answers at least one segment"
    for start, end in times:
        assert 0.0 <= start <= end <= limit, (start, end, limit)
    assert [start for start, _ in times] == sorted(start for start, _ in times)


def choose_whisper(app: Headless) -> None:
    """Settings → Speech: the whisper file of the models folder."""
    chosen = app.request("PUT", "/config/speech", json={"provider": "whisper", "model": MODEL})
    assert chosen.status_code == 200, chosen.text
    status = chosen.json()
    assert status["ok"] is True, status
    assert status["config"] == {"provider": "whisper", "model": MODEL}, status
    assert status["transcriber"] == f"whisper.cpp ({MODEL})", status
    assert status["models"] == [
        {"file": MODEL, "size": (Path(status["models_dir"]) / MODEL).stat().st_size, "error": None}
    ], status


def upload(app: Headless, video: Path) -> dict[str, Any]:
    with video.open("rb") as file:
        answer = app.request(
            "POST",
            "/videodb/collection/default/upload",
            files={"file": (video.name, file, "video/mp4")},
        )
    assert answer.status_code == 201, answer.text
    asset: dict[str, Any] = answer.json()
    return asset


def ask(app: Headless, text: str, video_id: str) -> tuple[dict[str, Any], httpx.Response]:
    """A chat turn on the video, as the UI sends it; waits for the video's transcript to appear
    (`GET /media/{id}/transcript?format=srt`, 404 until then), then answers the turn's final
    message and that SRT answer."""
    client = ChatClient(app.base_url)
    try:
        client.connect(app.token)
        ids = {"session_id": f"s-{uuid.uuid4()}", "conv_id": f"c-{uuid.uuid4()}"}
        payload = chat_payload(
            text, msg_id=f"m-{uuid.uuid4()}", video_id=video_id, collection_id="default", **ids
        )
        ack = client.call("chat", payload)
        assert ack["ok"] is True, ack
        deadline = time.monotonic() + TRANSCRIPT_DEADLINE
        while True:
            srt = app.request("GET", f"/media/{video_id}/transcript?format=srt")
            if srt.status_code == 200:
                break
            assert srt.status_code == 404, srt.text
            assert time.monotonic() < deadline, (
                f"no transcript {TRANSCRIPT_DEADLINE} s after {text}"
            )
            time.sleep(0.25)
        return client.final(ack["data"]["output_msg_id"]), srt
    finally:
        client.close()


def items(message: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [item for item in message["content"] if item.get("type") == kind]


def user_with_a_model(tmp_path: Path) -> Path:
    """A data dir whose models folder holds the tiny whisper file, as the user put it there."""
    data_dir = tmp_path / "data"
    (data_dir / "models").mkdir(parents=True)
    write_tiny_whisper(data_dir / "models" / MODEL)
    return data_dir


EMBEDDED = [(0.5, 1.5, "The red door opens"), (2.0, 2.75, "A green field")]


def subtitled_clip(binary: Path, folder: Path) -> Path:
    """3 s of testsrc and a tone with an English mov_text track of EMBEDDED (written with a <b>
    tag, which the parsing drops), as `folder/clip.mp4`."""
    folder.mkdir(parents=True, exist_ok=True)
    track = folder / "track.srt.txt"  # not a sidecar of clip.mp4
    track.write_text(
        "1\n00:00:00,500 --> 00:00:01,500\nThe red door opens\n\n"
        "2\n00:00:02,000 --> 00:00:02,750\nA <b>green</b> field\n",
        encoding="utf-8",
    )
    clip = folder / "clip.mp4"
    ffmpeg(binary, "-f", "lavfi", "-i", "testsrc=size=320x240:rate=25:duration=3",
           "-f", "lavfi", "-i", "sine=frequency=440:duration=3", "-f", "srt", "-i", str(track),
           "-map", "0:v", "-map", "1:a", "-map", "2:s", *H264_AAC, "-c:s", "mov_text",
           "-metadata:s:s:0", "language=eng", "-t", "3", "-movflags", "+faststart",
           str(clip))  # fmt: skip
    track.unlink()
    return clip


def test_the_bundle_carries_the_speech_libraries_and_their_licences(frozen_app: Path) -> None:
    internal = frozen_app.parent / "_internal"
    assert sorted(internal.glob("_pywhispercpp*.so")), "no whisper.cpp binding"
    libs = sorted(p.name for p in (internal / "pywhispercpp.libs").iterdir())
    for prefix in ("libwhisper-", "libggml-", "libggml-base-", "libggml-cpu-", "libgomp-"):
        assert any(name.startswith(prefix) for name in libs), (prefix, libs)
    for name in ("numpy", "pywhispercpp", "pysubs2"):
        licences = sorted(internal.glob(f"{name}-*.dist-info/licenses/*"))
        assert licences, f"no licence file of {name} in the bundle"
    # numpy's extensions the app never runs stay out (its modules: `check_from_the_bundle`).
    for absent in ("numpy/random", "numpy/fft", "numpy/_core/tests"):
        assert not (internal / absent).exists(), absent
    notices = (internal / "THIRD-PARTY-NOTICES.md").read_text(encoding="utf-8")
    for name in (
        "whisper.cpp",
        "pywhispercpp",
        "OpenBLAS",
        "libgfortran",
        "libquadmath",
        "pysubs2",
    ):
        assert name in notices, name


def test_pysubs2_reads_subtitles_inside_the_bundle(
    frozen_app: Path, fresh_user: FreshUser, tmp_path: Path
) -> None:
    binary = bundled_ffmpeg(frozen_app)
    films = tmp_path / "films"
    clip = subtitled_clip(binary, films)
    (films / "clip.srt").write_text(
        "1\n00:00:01,000 --> 00:00:02,500\nGulls circle the harbour\n", encoding="utf-8"
    )
    (films / "clip.fr.vtt").write_text(
        "WEBVTT\n\n00:00:00.250 --> 00:00:01.000\nUne mouette crie\n", encoding="utf-8"
    )

    report = run_in_bundle(
        frozen_app, IN_BUNDLE, "subtitles", str(clip), str(tmp_path / "work"), env=fresh_user.env
    )
    assert report["srt"] == [[0.5, 1.75, "Hello there"], [2.0, 3.0, "World"]], report["srt"]
    assert report["vtt"] == [[1.0, 2.5, "A lighthouse keeper waves"]], report["vtt"]
    assert report["embedded"] == {"0:eng": [list(cue) for cue in EMBEDDED]}, report
    assert report["sidecars"] == {
        "clip.fr.vtt": [[0.25, 1.0, "Une mouette crie"]],
        "clip.srt": [[1.0, 2.5, "Gulls circle the harbour"]],
    }, report
    assert report["notes"] == [], report["notes"]
    assert Path(report["ffmpeg"]).resolve() == binary.resolve(), report["ffmpeg"]
    check_from_the_bundle(report, frozen_app)


def test_whisper_transcribes_a_fresh_users_upload_inside_the_bundle(
    frozen_app: Path,
    fresh_user: FreshUser,
    headless: StartHeadless,
    tmp_path: Path,
    spoken: Spoken,
) -> None:
    data_dir = user_with_a_model(tmp_path)
    app = headless([str(frozen_app)], fresh_user, data_dir)
    choose_whisper(app)
    video = upload(app, spoken.video)
    assert abs(float(video["length"]) - spoken.seconds) < 0.2, video
    assert app.stop() == 0
    (stored,) = (data_dir / "media" / video["id"]).glob("original.*")
    assert stored.read_bytes() == spoken.video.read_bytes()

    # What the transcription agent does with that choice and that file, in the frozen interpreter.
    started = time.monotonic()
    report = run_in_bundle(
        frozen_app,
        IN_BUNDLE,
        "transcribe",
        str(data_dir),
        str(stored),
        str(tmp_path / "work"),
        env=fresh_user.env,
    )
    took = time.monotonic() - started
    assert report["transcriber"] == f"whisper.cpp ({MODEL})", report
    seconds = float(report["audio_seconds"])
    assert abs(seconds - spoken.seconds) < 0.2, (seconds, spoken.seconds)
    segments = report["segments"]
    check_inside([(s["start"], s["end"]) for s in segments], seconds)
    assert all(s["text"] for s in segments), segments
    for segment in segments:
        for start, end, word in segment["words"]:
            assert segment["start"] <= start <= end <= segment["end"], segment
            assert word
    assert any(s["words"] for s in segments), "word times come from whisper's token times"
    cues = srt_cues(report["srt"])
    assert len(cues) == len(segments), report["srt"]
    check_inside([(start, end) for start, end, _ in cues], seconds)
    check_from_the_bundle(report, frozen_app)
    assert took < 120, f"a {seconds:.1f} s transcription took {took:.0f} s"


def test_a_fresh_user_gets_a_videos_transcript_through_the_app(
    frozen_app: Path,
    fresh_user: FreshUser,
    headless: StartHeadless,
    tmp_path: Path,
    spoken: Spoken,
) -> None:
    data_dir = user_with_a_model(tmp_path)
    app = headless([str(frozen_app)], fresh_user, data_dir)
    choose_whisper(app)
    video = upload(app, spoken.video)
    missing = app.request("GET", f"/media/{video['id']}/transcript?format=srt")
    assert missing.status_code == 404, missing.text  # the route reads transcripts, never makes one
    agents = app.get("/agent")
    assert isinstance(agents, list), agents
    if "transcription" not in [agent["name"] for agent in agents]:
        assert app.stop() == 0
        pytest.xfail(
            "the app registers no `transcription` agent (composition.py's registry lists "
            "none): a user cannot ask for a transcript"
        )

    final, srt = ask(app, "@transcription", video["id"])
    assert final["status"] == "success", final
    shown = items(final, "text")
    assert shown, final
    assert shown[0]["agent_name"] == "transcription", final
    downloads = [item["download"] for item in items(final, "download")]
    assert [d["filename"] for d in downloads] == ["spoken.srt", "spoken.vtt"], downloads
    assert srt.headers["content-type"].startswith("application/x-subrip")
    limit = max(float(video["length"]), spoken.seconds) + 0.1
    check_inside([(start, end) for start, end, _ in srt_cues(srt.text)], limit)
    signed = app.request("GET", downloads[0]["url"])
    assert signed.status_code == 200
    assert signed.text == srt.text
    assert app.stop() == 0


def test_a_fresh_user_indexes_a_subtitled_upload(
    frozen_app: Path, fresh_user: FreshUser, headless: StartHeadless, tmp_path: Path
) -> None:
    """No speech to text chosen: the index reads the video's subtitle track (FFmpeg, pysubs2),
    and its transcript is that track."""
    clip = subtitled_clip(bundled_ffmpeg(frozen_app), tmp_path / "films")
    app = headless([str(frozen_app)], fresh_user, tmp_path / "data")
    video = upload(app, clip)
    agents = app.get("/agent")
    assert isinstance(agents, list), agents
    if "index" not in [agent["name"] for agent in agents]:
        assert app.stop() == 0
        pytest.xfail("the app registers no `index` agent: a user cannot index a video")

    final, srt = ask(app, "@index", video["id"])
    assert final["status"] == "success", final
    assert items(final, "text")[0]["agent_name"] == "index", final
    assert srt_cues(srt.text) == EMBEDDED, srt.text
    assert app.stop() == 0
