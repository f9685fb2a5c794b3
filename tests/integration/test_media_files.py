"""The library's files over HTTP (docs/protocol.md section 6) on the real app in uvicorn:
`GET|HEAD /media/{asset_id}` with byte ranges, playable versions (a remux within the import, a
transcode as a job), signed URLs, and the refusals that keep every route to the files behind
an asset id: traversal, symlinks planted in the media folder, ids of another collection.
"""

from __future__ import annotations

import asyncio
import http.client
import shutil
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest

from director_desktop.media.ffmpeg import Ffmpeg
from director_desktop.media.probe import Probe, probe
from director_desktop.web.guard import Signer
from tests.fixtures.media import MediaFiles, ffmpeg, media_files_fixture  # noqa: F401
from tests.integration.media_support import jobs_seen, path_only, uploaded
from tests.integration.support import Live

SECRET = b"top secret, outside the media folder"


def probe_bytes(data: bytes, where: Path) -> Probe:
    """What the app's own probe says of `data` (saved to `where`)."""
    where.write_bytes(data)
    return asyncio.run(probe(Ffmpeg.locate({}), where))


def decodes(path: Path) -> None:
    """Every frame and sample of `path` decodes without a complaint."""
    assert ffmpeg("-i", str(path), "-f", "null", "-").stderr == ""


def raw_get(live: Live, path: str) -> tuple[int, bytes]:
    """A GET of `path` exactly as written (httpx would resolve `..` segments first)."""
    connection = http.client.HTTPConnection("127.0.0.1", live.port, timeout=15)
    try:
        connection.request("GET", path, headers=live.headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


@pytest.fixture
def clip(live: Live, media_files: MediaFiles) -> dict[str, Any]:
    video: dict[str, Any] = uploaded(live, media_files.clip_mp4)
    return video


# --- ranges -------------------------------------------------------------------------------------
def test_range_requests_answer_exactly_the_right_bytes(
    live: Live, clip: dict[str, Any], media_files: MediaFiles
) -> None:
    data = media_files.clip_mp4.read_bytes()
    size = len(data)
    url = f"/media/{clip['id']}"
    whole = live.get(url)
    assert whole.status_code == 200
    assert whole.content == data
    assert whole.headers["accept-ranges"] == "bytes"
    assert whole.headers["content-length"] == str(size)
    assert whole.headers["etag"]
    assert whole.headers["last-modified"]
    assert whole.headers["content-type"] == "video/mp4"

    for header, start, end in [
        ("bytes=0-99", 0, 99),
        ("bytes=100-", 100, size - 1),
        ("bytes=-50", size - 50, size - 1),
        (f"bytes=10-{size + 1000}", 10, size - 1),  # clipped at the end
        (f"bytes={size - 1}-", size - 1, size - 1),
    ]:
        part = live.get(url, headers={"Range": header})
        assert part.status_code == 206, header
        assert part.content == data[start : end + 1], header
        assert part.headers["content-range"] == f"bytes {start}-{end}/{size}", header
        assert part.headers["content-length"] == str(end - start + 1), header
        assert part.headers["content-type"] == "video/mp4", header
        assert part.headers["etag"] == whole.headers["etag"], header
        assert part.headers["accept-ranges"] == "bytes", header

    for header in (f"bytes={size}-", f"bytes={size + 5}-{size + 10}", "bytes=-0"):
        refused = live.get(url, headers={"Range": header})
        assert refused.status_code == 416, header
        assert refused.headers["content-range"] == f"bytes */{size}", header

    for header in ("bytes=abc", "bytes=5-2", "items=0-5", "bytes=", "0-99"):
        ignored = live.get(url, headers={"Range": header})  # malformed: the whole file
        assert ignored.status_code == 200, header
        assert ignored.content == data, header

    several = live.get(url, headers={"Range": "bytes=0-9,20-29"})
    assert several.status_code == 206
    assert several.headers["content-type"].startswith("multipart/byteranges; boundary=")
    assert data[0:10] in several.content
    assert data[20:30] in several.content

    head = live.http.head(url, headers=live.headers)
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-length"] == str(size)
    assert head.headers["etag"] == whole.headers["etag"]
    head = live.http.head(url, headers={**live.headers, "Range": "bytes=0-99"})
    assert (head.status_code, head.content) == (206, b"")
    assert head.headers["content-range"] == f"bytes 0-99/{size}"

    # If-Range: a stale validator gets the whole file, the current one the range.
    stale = live.get(url, headers={"Range": "bytes=0-9", "If-Range": '"stale"'})
    assert (stale.status_code, stale.content) == (200, data)
    fresh = live.get(url, headers={"Range": "bytes=0-9", "If-Range": whole.headers["etag"]})
    assert (fresh.status_code, fresh.content) == (206, data[:10])


# --- playable versions --------------------------------------------------------------------------
def test_an_mkv_is_remuxed_into_an_mp4_that_plays(
    live: Live, media_files: MediaFiles, tmp_path: Path
) -> None:
    video = uploaded(live, media_files.clip_mkv)
    assert video["length"] == pytest.approx(3.0, abs=0.1)
    served = live.get(f"/media/{video['id']}")
    assert served.status_code == 200
    assert served.headers["content-type"] == "video/mp4"
    found = probe_bytes(served.content, tmp_path / "served.mp4")
    assert (found.container, found.video_codec, found.audio_codec) == ("mp4", "h264", "aac")
    assert found.duration == pytest.approx(3.0, abs=0.1)
    decodes(tmp_path / "served.mp4")
    part = live.get(f"/media/{video['id']}", headers={"Range": "bytes=0-99"})
    assert part.content == served.content[:100]
    assert [j for j in live.get("/jobs").json() if j["kind"] == "transcode"] == []


def test_an_avi_is_transcoded_by_a_job_then_served_as_h264_aac_mp4(
    live: Live, media_files: MediaFiles, tmp_path: Path
) -> None:
    watcher = live.client()
    video = uploaded(live, media_files.clip_avi)
    transcode = watcher.wait_event(
        lambda e: e.get("event_type") == "job" and e["job"]["kind"] == "transcode",
        "the transcode job",
    )["job"]
    assert transcode["title"] == "Making clip.avi playable"
    watcher.wait_event(
        lambda e: (
            e.get("event_type") == "job"
            and e["job"]["id"] == transcode["id"]
            and e["job"]["status"] != "running"
        ),
        "the transcode job to end",
    )
    states = jobs_seen(watcher, transcode["id"])
    assert states[0]["status"] == "running"
    assert states[-1]["status"] == "done", states[-1]
    assert states[-1]["result"] == {"asset_id": video["id"]}
    assert states[-1]["progress"] == 1.0
    # One `videos` update for the new asset, one once its playable version is there.
    videos = {"event_type": "update_data", "update": "videos", "collection_id": "default"}
    assert watcher.events.count(videos) == 2

    served = live.get(f"/media/{video['id']}")
    assert served.headers["content-type"] == "video/mp4"
    found = probe_bytes(served.content, tmp_path / "served.mp4")
    assert (found.container, found.video_codec, found.audio_codec) == ("mp4", "h264", "aac")
    assert found.duration == pytest.approx(3.0, abs=0.15)
    decodes(tmp_path / "served.mp4")
    done = [j for j in live.get("/jobs").json() if j["id"] == transcode["id"]]
    assert done[0]["status"] == "done"


# --- signatures ---------------------------------------------------------------------------------
def test_signed_urls_work_without_the_header_and_nothing_else_does(
    live: Live, clip: dict[str, Any], media_files: MediaFiles
) -> None:
    data = media_files.clip_mp4.read_bytes()
    stream, thumbnail = clip["stream_url"], clip["thumbnail_url"]
    assert live.http.get(stream).content == data
    assert live.http.get(stream, headers={"Range": "bytes=0-9"}).content == data[:10]
    assert live.http.get(thumbnail).headers["content-type"] == "image/jpeg"

    sig = stream.split("sig=", 1)[1]
    expiry, digest = sig.split(".")
    signer = Signer(live.token)
    expired = signer.sign(f"/media/{clip['id']}", now=time.time() - 13 * 3600)
    for url in (
        f"/media/{clip['id']}",  # no signature, no header
        f"{path_only(thumbnail)}?sig={sig}",  # made for another path
        f"/media/{clip['id']}?sig={expiry}.{'0' * len(digest)}",  # wrong
        f"/media/{clip['id']}?sig={int(expiry) + 1}.{digest}",  # another expiry
        f"/media/{clip['id']}?sig=garbage",
        expired,
        Signer("another launch's token").sign(f"/media/{clip['id']}"),
    ):
        refused = live.http.get(url)
        assert refused.status_code == 401, url
        assert refused.json()["error"]["code"] == "unauthorized"
        assert refused.headers["www-authenticate"] == "Bearer"

    # An unknown id is 404 only to those who may ask.
    assert live.get("/media/no-such-asset").status_code == 404
    assert live.http.get(signer.sign("/media/no-such-asset")).status_code == 404
    assert live.http.get("/media/no-such-asset").status_code == 401
    assert live.http.get("/media/no-such-asset/thumbnail").status_code == 401

    # An asset's signed URL, for audio and images, as Director's generate_url answers it.
    image = uploaded(live, media_files.still_png)
    generated = live.get(f"/videodb/collection/default/image/{image['id']}/generate_url")
    assert generated.status_code == 200
    assert generated.headers["content-type"].startswith("text/plain")
    assert path_only(generated.text) == f"/media/{image['id']}"
    assert live.http.get(generated.text).content == media_files.still_png.read_bytes()
    video_url = live.get(f"/videodb/collection/default/video/{clip['id']}/generate_url")
    assert video_url.status_code == 404  # a video has its stream_url


# --- reaching files only through asset ids ------------------------------------------------------
def test_traversal_is_refused(live: Live, clip: dict[str, Any], tmp_path: Path) -> None:
    (live.data_dir / "secret.txt").write_bytes(SECRET)
    for path, statuses in [
        ("/media/..", {404}),
        ("/media/../secret.txt", {401, 404}),
        ("/media/..%2Fsecret.txt", {404}),
        ("/media/..%2F..%2F..%2Fetc%2Fpasswd", {404}),
        (f"/media/{clip['id']}%2F..%2F..%2Fsecret.txt", {404}),
        ("/media/%2E%2E", {404}),
        ("/media/a%20b", {400}),
        ("/videodb/collection/default/video/..", {404}),
        ("/videodb/collection/default/video/..%2F..%2Fsecret.txt", {404}),
        ("/videodb/collection/..%2F..%2Fsecret.txt/video", {400, 404}),
        ("/videodb/collection/default/video/a%20b", {400}),
    ]:
        status, body = raw_get(live, path)
        assert status in statuses, (path, status, body)
        assert SECRET not in body, path
        assert b"root:" not in body, path


def plant_link(target: Path, link: Path) -> None:
    if link.is_dir() and not link.is_symlink():
        shutil.rmtree(link)
    else:
        link.unlink()
    link.symlink_to(target)


def test_symlinks_out_of_the_media_folder_are_refused(
    live: Live, media_files: MediaFiles, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.mp4").write_bytes(SECRET)
    (outside / "original.mp4").write_bytes(SECRET)
    (outside / "thumbnail.jpg").write_bytes(SECRET)
    media = live.data_dir / "media"

    first = uploaded(live, media_files.clip_mp4)
    plant_link(outside / "secret.mp4", media / first["id"] / "original.mp4")
    plant_link(outside / "thumbnail.jpg", media / first["id"] / "thumbnail.jpg")
    second = uploaded(live, media_files.rotated_mp4)
    plant_link(outside, media / second["id"])  # the asset's whole folder
    for asset in (first, second):
        for url in (f"/media/{asset['id']}", f"/media/{asset['id']}/thumbnail"):
            response = live.get(url)
            assert response.status_code == 404, url
            assert SECRET not in response.content
            response = live.http.get(asset["stream_url"])  # signed: the same refusal
            assert response.status_code == 404
    listed = {v["id"]: v for v in live.get("/videodb/collection/default/video").json()}
    assert listed[first["id"]]["missing"] is True
    assert listed[second["id"]]["missing"] is True


def test_a_stored_path_out_of_the_media_folder_is_refused(live: Live, clip: dict[str, Any]) -> None:
    (live.data_dir / "secret.txt").write_bytes(SECRET)
    with sqlite3.connect(live.data_dir / "director.sqlite3") as db:  # as if the file were edited
        db.execute("UPDATE assets SET path = '../secret.txt' WHERE id = ?", (clip["id"],))
    db.close()
    response = live.get(f"/media/{clip['id']}")
    assert response.status_code == 404
    assert SECRET not in response.content


def test_ids_of_another_collection_or_kind_are_refused(
    live: Live, clip: dict[str, Any], media_files: MediaFiles
) -> None:
    created = live.http.post("/videodb/collection", headers=live.headers, json={"name": "Other"})
    other = created.json()["data"]["collection"]["id"]
    for method, path in [
        ("GET", f"/videodb/collection/{other}/video/{clip['id']}"),
        ("DELETE", f"/videodb/collection/{other}/video/{clip['id']}"),
        ("GET", f"/videodb/collection/{other}/video/{clip['id']}/generate_url"),
        ("GET", f"/videodb/collection/default/audio/{clip['id']}"),
        ("DELETE", f"/videodb/collection/default/image/{clip['id']}"),
        ("GET", f"/videodb/collection/default/pdf/{clip['id']}"),
        ("GET", "/videodb/collection/default/pdf"),
        ("GET", f"/videodb/collection/nope/video/{clip['id']}"),
    ]:
        response = live.http.request(method, path, headers=live.headers)
        assert response.status_code == 404, (method, path)
        assert response.json()["error"]["code"] == "not_found"
        assert response.json()["message"] == response.json()["error"]["message"]
    assert live.get(f"/videodb/collection/default/video/{clip['id']}").status_code == 200
    assert live.get(f"/media/{clip['id']}").content == media_files.clip_mp4.read_bytes()


def test_deleting_an_asset_removes_its_files_and_tells_the_windows(
    live: Live, clip: dict[str, Any]
) -> None:
    watcher = live.client()
    folder = live.data_dir / "media" / clip["id"]
    assert sorted(p.name for p in folder.iterdir()) == ["original.mp4", "thumbnail.jpg"]
    deleted = live.http.delete(
        f"/videodb/collection/default/video/{clip['id']}", headers=live.headers
    )
    assert deleted.json() == {"success": True, "message": "Video deleted"}
    assert not folder.exists()
    watcher.wait_event(
        lambda e: (
            e == {"event_type": "update_data", "update": "videos", "collection_id": "default"}
        ),
        "update_data videos after the delete",
    )
    assert live.get("/videodb/collection/default/video").json() == []
    assert live.get(f"/videodb/collection/default/video/{clip['id']}").status_code == 404
    assert live.get(f"/media/{clip['id']}").status_code == 404
    again = live.http.delete(
        f"/videodb/collection/default/video/{clip['id']}", headers=live.headers
    )
    assert again.status_code == 404
