"""Director's collection API (PROTOCOL section 6, docs/protocol.md section 6) on the real app in
uvicorn, with media the suite makes with the app's own FFmpeg: collections, uploads (probe,
thumbnail, dedupe, refusals with their codes and nothing left behind), the upload limit, paging,
URL uploads from a loopback HTTP server, files referenced in place or copied by path, and the
`update_data` events a window receives.

The files themselves (`/media/...`: ranges, MIME, signatures, traversal) are in
test_media_files.py; jobs (cancel, abort, restart) in test_jobs_api.py.
"""

from __future__ import annotations

import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.media import (  # noqa: F401 (the fixture)
    REFUSALS,
    MediaFiles,
    ffmpeg,
    media_files_fixture,
)
from tests.integration.media_support import (
    AUDIO_KEYS,
    EXTRAS,
    IMAGE_KEYS,
    VIDEO_KEYS,
    all_assets,
    file_server,
    on_disk,
    path_only,
    upload,
    uploaded,
    wait_job,
)
from tests.integration.support import Live

DEFAULT_LIMIT = 16 * 1024**3
REFUSAL_STATUS = {
    "unsupported_media": 415,
    "corrupt_media": 422,
    "truncated_media": 422,
    "empty_file": 400,
    "zero_duration": 422,
}


def check_director_error(response: Any, status: int, code: str) -> str:
    """A `/videodb/...` error: the envelope plus a top-level `message` equal to its own."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"ok", "error", "message"}, body
    assert body["error"]["code"] == code, body
    assert body["message"] == body["error"]["message"]
    message: str = body["message"]
    return message


# --- status and collections ---------------------------------------------------------------------
def test_an_empty_library_is_configured_and_reports_its_status(live: Live) -> None:
    assert live.get("/config/check").json() == {
        "db_configured": True,
        "llm_configured": True,
        "videodb_configured": True,
    }
    status = live.get("/config/media").json()
    assert set(status) == {"ffmpeg", "library", "max_upload_bytes", "index_on_import"}
    assert status["index_on_import"] is False
    assert status["ffmpeg"]["ok"] is True
    assert status["ffmpeg"]["version"]
    assert status["ffmpeg"]["error"] is None
    assert status["library"] == {"assets": 0, "bytes": 0}
    assert status["max_upload_bytes"] == DEFAULT_LIMIT


def test_collections_list_get_create_and_delete(live: Live, media_files: MediaFiles) -> None:
    watcher = live.client()
    assert live.get("/videodb/collection").json() == [
        {"id": "default", "name": "Default Collection", "description": ""}
    ]
    assert live.get("/videodb/collection/default").json()["id"] == "default"

    created = live.http.post(
        "/videodb/collection",
        headers=live.headers,
        json={"name": "  Holiday  ", "description": "summer"},
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert set(body) == {"message", "data"}
    assert set(body["data"]) == {"success", "message", "collection"}
    assert body["data"]["success"] is True
    collection = body["data"]["collection"]
    assert set(collection) == {"id", "name", "description"}
    assert (collection["name"], collection["description"]) == ("Holiday", "summer")
    cid = collection["id"]
    watcher.wait_event(
        lambda e: e == {"event_type": "update_data", "update": "collections"},
        "update_data collections after the create",
    )
    listed = live.get("/videodb/collection").json()
    assert [c["id"] for c in listed] == ["default", cid]  # the default one first
    assert live.get(f"/videodb/collection/{cid}").json() == collection

    # A collection holding an asset is refused; so is the default one.
    asset = uploaded(live, media_files.still_png, collection_id=cid)
    refused = live.http.delete(f"/videodb/collection/{cid}", headers=live.headers)
    assert "non-zero videos/audios/images" in check_director_error(refused, 409, "conflict")
    refused = live.http.delete("/videodb/collection/default", headers=live.headers)
    check_director_error(refused, 409, "conflict")

    removed = live.http.delete(
        f"/videodb/collection/{cid}/image/{asset['id']}", headers=live.headers
    )
    assert removed.json() == {"success": True, "message": "Image deleted"}
    count = len(watcher.events)
    deleted = live.http.delete(f"/videodb/collection/{cid}", headers=live.headers)
    assert deleted.status_code == 200
    assert deleted.json() == {"success": True, "message": "Collection deleted"}
    watcher.wait_event(
        lambda e: e in watcher.events[count:] and e.get("update") == "collections",
        "update_data collections after the delete",
    )
    check_director_error(live.get(f"/videodb/collection/{cid}"), 404, "not_found")
    assert [c["id"] for c in live.get("/videodb/collection").json()] == ["default"]


@pytest.mark.parametrize(
    "body",
    [{"name": ""}, {"name": "   "}, {"name": "x" * 201}, {}, {"name": "n", "description": 5}],
)
def test_a_collection_needs_a_name(live: Live, body: dict[str, Any]) -> None:
    response = live.http.post("/videodb/collection", headers=live.headers, json=body)
    check_director_error(response, 400, "invalid_payload")
    assert len(live.get("/videodb/collection").json()) == 1


# --- uploads ------------------------------------------------------------------------------------
def test_a_video_upload_is_probed_has_a_thumbnail_and_is_not_stored_twice(
    live: Live, media_files: MediaFiles
) -> None:
    watcher = live.client()
    response = upload(live, media_files.clip_mp4)
    assert response.status_code == 201, response.text
    video = response.json()
    assert set(video) == VIDEO_KEYS | EXTRAS | {"duplicate"}
    assert video["collection_id"] == "default"
    assert video["name"] == "clip.mp4"
    assert video["description"] == ""
    assert video["length"] == pytest.approx(3.0, abs=0.1)
    assert (video["width"], video["height"], video["fps"]) == (320, 240, 25.0)
    assert video["kind"] == "video"
    assert video["size"] == media_files.clip_mp4.stat().st_size
    assert (video["missing"], video["duplicate"]) == (False, False)
    assert path_only(video["stream_url"]) == f"/media/{video['id']}"
    assert video["player_url"] == video["stream_url"]
    assert path_only(video["thumbnail_url"]) == f"/media/{video['id']}/thumbnail"
    for url in (video["stream_url"], video["thumbnail_url"]):
        assert "?sig=" in url  # signed at delivery

    thumbnail = live.http.get(video["thumbnail_url"])  # the signature stands in for the header
    assert thumbnail.status_code == 200
    assert thumbnail.headers["content-type"] == "image/jpeg"
    assert thumbnail.content[:3] == b"\xff\xd8\xff"  # a JPEG

    watcher.wait_event(
        lambda e: (
            e == {"event_type": "update_data", "update": "videos", "collection_id": "default"}
        ),
        "update_data videos for the new asset",
    )

    again = upload(live, media_files.clip_mp4, name="another name.mp4")
    assert again.status_code == 200, again.text
    assert again.json()["duplicate"] is True
    assert again.json()["id"] == video["id"]
    assert again.json()["name"] == "clip.mp4"  # the asset that was there
    listed = live.get("/videodb/collection/default/video").json()
    assert [v["id"] for v in listed] == [video["id"]]
    assert listed[0]["type"] == "video"
    assert set(listed[0]) == VIDEO_KEYS | EXTRAS | {"type"}
    one = live.get(f"/videodb/collection/default/video/{video['id']}").json()
    assert set(one) == VIDEO_KEYS | EXTRAS  # without `type`
    assert one["length"] == video["length"]

    # The same bytes in another collection are another asset.
    other = live.http.post("/videodb/collection", headers=live.headers, json={"name": "Other"})
    cid = other.json()["data"]["collection"]["id"]
    elsewhere = uploaded(live, media_files.clip_mp4, collection_id=cid)
    assert elsewhere["id"] != video["id"]
    assert elsewhere["collection_id"] == cid
    assert live.get("/config/media").json()["library"]["assets"] == 2


def test_audio_and_image_uploads_and_their_shapes(live: Live, media_files: MediaFiles) -> None:
    audio = uploaded(live, media_files.tone_mp3)
    assert set(audio) == AUDIO_KEYS | EXTRAS | {"duplicate"}
    assert audio["length"] == pytest.approx(2.0, abs=0.1)
    assert audio["kind"] == "audio"
    assert path_only(audio["url"]) == f"/media/{audio['id']}"
    image = uploaded(live, media_files.still_png)
    assert set(image) == IMAGE_KEYS | EXTRAS | {"duplicate"}
    assert (image["kind"], image["width"], image["height"]) == ("image", 640, 480)

    audios = live.get("/videodb/collection/default/audio").json()
    assert [(a["id"], a["type"]) for a in audios] == [(audio["id"], "audio")]
    assert set(audios[0]) == AUDIO_KEYS | EXTRAS | {"type"}
    images = live.get("/videodb/collection/default/image").json()
    assert [(i["id"], i["type"]) for i in images] == [(image["id"], "image")]
    assert set(images[0]) == IMAGE_KEYS | EXTRAS | {"type"}
    assert live.get("/videodb/collection/default/video").json() == []
    one = live.get(f"/videodb/collection/default/audio/{audio['id']}").json()
    assert set(one) == AUDIO_KEYS | EXTRAS
    one = live.get(f"/videodb/collection/default/image/{image['id']}").json()
    assert set(one) == IMAGE_KEYS | EXTRAS

    served = live.get(f"/media/{audio['id']}")
    assert (served.headers["content-type"], served.content) == (
        "audio/mpeg",
        media_files.tone_mp3.read_bytes(),
    )
    served = live.get(f"/media/{image['id']}")
    assert served.headers["content-type"] == "image/png"
    # Audio has no picture to show.
    no_thumbnail = live.get(f"/media/{audio['id']}/thumbnail")
    assert (no_thumbnail.status_code, no_thumbnail.json()["error"]["code"]) == (404, "not_found")
    assert live.get(f"/media/{image['id']}/thumbnail").headers["content-type"] == "image/jpeg"


def test_files_the_library_refuses_leave_nothing(live: Live, media_files: MediaFiles) -> None:
    watcher = live.client()
    for field, code in REFUSALS.items():
        path = getattr(media_files, field)
        response = upload(live, path)
        check_director_error(response, REFUSAL_STATUS[code], code)
        assert on_disk(live) == [], (field, on_disk(live))
        job = wait_job(live, lambda j, p=path: j["title"] == p.name, f"the job of {path.name}")
        assert job["status"] == "error"
        assert job["error"]["code"] == code
        assert job["result"] is None
    assert all_assets(live) == []
    assert live.get("/config/media").json()["library"] == {"assets": 0, "bytes": 0}
    assert not [e for e in watcher.events if e.get("update") == "videos"]


def test_the_server_decides_the_served_type_whatever_the_name(
    live: Live, media_files: MediaFiles
) -> None:
    video = uploaded(live, media_files.clip_mp4, name="evil.html")
    assert video["kind"] == "video"
    served = live.get(f"/media/{video['id']}")
    assert served.headers["content-type"] == "video/mp4"
    assert served.headers["x-content-type-options"] == "nosniff"
    assert served.content == media_files.clip_mp4.read_bytes()

    image = uploaded(live, media_files.still_png, name="x.mp4")
    assert image["kind"] == "image"
    assert [i["id"] for i in live.get("/videodb/collection/default/image").json()] == [image["id"]]
    assert live.get(f"/media/{image['id']}").headers["content-type"] == "image/png"


def test_the_upload_limit_refuses_bigger_files_and_can_be_raised(
    live: Live, media_files: MediaFiles
) -> None:
    size = media_files.clip_mp4.stat().st_size
    status = live.http.patch("/config/media", headers=live.headers, json={"max_upload_bytes": 1000})
    assert status.status_code == 200
    assert status.json()["max_upload_bytes"] == 1000
    assert live.get("/config/media").json()["max_upload_bytes"] == 1000

    refused = upload(live, media_files.clip_mp4)
    check_director_error(refused, 413, "too_large")
    assert on_disk(live) == []
    assert all_assets(live) == []

    for bad in (
        {"max_upload_bytes": 0},
        {"max_upload_bytes": "big"},
        {"max_upload_bytes": True},
        {"index_on_import": "yes"},
        {"max_upload_bytes": 5000, "index_on_import": 1},
        {"other": 1},
        {},
    ):
        response = live.http.patch("/config/media", headers=live.headers, json=bad)
        assert response.status_code == 400, bad
        assert response.json()["error"]["code"] == "invalid_payload"

    assert live.get("/config/media").json()["max_upload_bytes"] == 1000  # nothing changed
    on = live.http.patch("/config/media", headers=live.headers, json={"index_on_import": True})
    assert (on.json()["index_on_import"], on.json()["max_upload_bytes"]) == (True, 1000)
    raised = live.http.patch("/config/media", headers=live.headers, json={"max_upload_bytes": size})
    assert raised.json()["index_on_import"] is True
    assert raised.json()["max_upload_bytes"] == size
    assert uploaded(live, media_files.clip_mp4)["size"] == size


# --- paging -------------------------------------------------------------------------------------
def test_lists_page_with_limit_cursor_and_q(
    live: Live, tmp_path: Path, media_files: MediaFiles
) -> None:
    frames = tmp_path / "frames"
    frames.mkdir()
    ffmpeg(
        *["-f", "lavfi", "-i", "testsrc=size=32x24:rate=25", "-frames:v", "25"],
        str(frames / "frame-%02d.png"),
    )
    names = sorted(p.name for p in frames.iterdir())
    assert len(names) == 25
    with ThreadPoolExecutor(4) as pool:  # four imports at a time: the order is the server's
        assets = list(pool.map(lambda name: uploaded(live, frames / name), names))

    everything = live.get("/videodb/collection/default/image")
    assert "x-next-cursor" not in everything.headers
    listed = everything.json()
    assert sorted(i["name"] for i in listed) == names
    newest_first = sorted(assets, key=lambda a: (a["created_at"], a["id"]), reverse=True)
    assert [i["id"] for i in listed] == [a["id"] for a in newest_first]
    whole = [i["name"] for i in listed]

    pages, cursor = [], None
    while True:
        params = {"limit": "10", **({"cursor": cursor} if cursor else {})}
        page = live.get("/videodb/collection/default/image", params=params)
        assert page.status_code == 200, page.text
        pages.append([i["name"] for i in page.json()])
        cursor = page.headers.get("x-next-cursor")
        if cursor is None:
            break
    assert [len(p) for p in pages] == [10, 10, 5]
    assert [name for p in pages for name in p] == whole

    found = live.get("/videodb/collection/default/image", params={"q": "FRAME-1"}).json()
    assert [i["name"] for i in found] == [n for n in whole if n.startswith("frame-1")]
    assert len(found) == 10
    matching = [n for n in whole if "frame-2" in n]  # frame-20 .. frame-25
    first = live.get("/videodb/collection/default/image", params={"q": "frame-2", "limit": "3"})
    assert [i["name"] for i in first.json()] == matching[:3]
    rest = live.get(
        "/videodb/collection/default/image",
        params={"q": "frame-2", "cursor": first.headers["x-next-cursor"]},
    )
    assert [i["name"] for i in rest.json()] == matching[3:]
    assert len(matching) == 6
    assert live.get("/videodb/collection/default/video", params={"q": "frame"}).json() == []

    for bad in ({"limit": "0"}, {"limit": "ten"}, {"cursor": "not-a-cursor"}):
        response = live.get("/videodb/collection/default/image", params=bad)
        check_director_error(response, 400, "invalid_payload")


# --- other sources ------------------------------------------------------------------------------
def test_a_url_upload_downloads_a_plain_http_file(live: Live, media_files: MediaFiles) -> None:
    with file_server(media_files.directory) as base:
        response = live.http.post(
            "/videodb/collection/default/upload",
            headers=live.headers,
            json={"source": f"{base}/clip.mp4", "source_type": "url"},
        )
        assert response.status_code == 201, response.text
        video = response.json()
        assert set(video) == VIDEO_KEYS | EXTRAS | {"duplicate"}
        assert (video["name"], video["kind"]) == ("clip.mp4", "video")
        assert video["length"] == pytest.approx(3.0, abs=0.1)
        assert live.get(f"/media/{video['id']}").content == media_files.clip_mp4.read_bytes()

        gone = live.http.post(
            "/videodb/collection/default/upload",
            headers=live.headers,
            json={"source": f"{base}/no-such-file.mp4", "source_type": "url"},
        )
        check_director_error(gone, 502, "download_failed")
    assert [v["id"] for v in all_assets(live)] == [video["id"]]
    assert [p for p in on_disk(live) if p.startswith("staging/") and "." in p] == []


@pytest.mark.parametrize(
    "source", ["ftp://127.0.0.1/clip.mp4", "file:///etc/passwd", "/etc/passwd", "youtube"]
)
def test_other_sources_are_refused_naming_what_works(live: Live, source: str) -> None:
    response = live.http.post(
        "/videodb/collection/default/upload",
        headers=live.headers,
        json={"source": source, "source_type": "url"},
    )
    message = check_director_error(response, 400, "unsupported_source")
    assert "http" in message
    assert live.get("/jobs").json() == []  # refused before any job starts


def test_an_upload_body_that_is_neither_a_file_nor_a_url_is_refused(live: Live) -> None:
    for kw in (
        {"json": {"source": "http://127.0.0.1/x.mp4", "source_type": "youtube"}},
        {"json": ["x"]},
        {"content": b"raw bytes", "headers": {"content-type": "video/mp4"}},
        {"files": {"other": ("clip.mp4", b"bytes")}},
    ):
        headers = {**live.headers, **kw.pop("headers", {})}  # type: ignore[dict-item]
        response = live.http.post("/videodb/collection/default/upload", headers=headers, **kw)
        check_director_error(response, 400, "invalid_payload")
    response = upload(live, b"bytes", collection_id="nope")
    check_director_error(response, 404, "not_found")


def import_paths(live: Live, paths: list[Path], *, reference: bool, cid: str = "default") -> Any:
    response = live.http.post(
        "/media/import",
        headers=live.headers,
        json={"collection_id": cid, "paths": [str(p) for p in paths], "reference": reference},
    )
    assert response.status_code == 202, response.text
    jobs = response.json()
    assert [j["kind"] for j in jobs] == ["import"] * len(paths)
    return jobs


def finished(live: Live, job_id: str) -> Any:
    return wait_job(
        live,
        lambda j: j["id"] == job_id and j["status"] in ("done", "error", "cancelled"),
        f"job {job_id} to end",
    )


def test_a_file_referenced_in_place_is_shown_missing_once_it_is_gone(
    live: Live, tmp_path: Path, media_files: MediaFiles
) -> None:
    source = tmp_path / "mine" / "holiday.mp4"
    source.parent.mkdir()
    shutil.copyfile(media_files.clip_mp4, source)
    [job] = import_paths(live, [source], reference=True)
    assert job["status"] == "running"
    done = finished(live, job["id"])
    assert done["status"] == "done", done
    asset_id = done["result"]["asset_id"]
    [video] = live.get("/videodb/collection/default/video").json()
    assert (video["id"], video["name"], video["missing"]) == (asset_id, "holiday.mp4", False)
    # Referenced, not copied: the library's folder holds only what it made (the thumbnail).
    assert on_disk(live) == ["media/" + asset_id, f"media/{asset_id}/thumbnail.jpg"]
    assert live.get(f"/media/{asset_id}").content == source.read_bytes()

    source.unlink()
    [video] = live.get("/videodb/collection/default/video").json()
    assert video["missing"] is True
    assert live.get(f"/videodb/collection/default/video/{asset_id}").json()["missing"] is True
    assert live.get(f"/media/{asset_id}").status_code == 404
    assert live.get(f"/media/{asset_id}/thumbnail").status_code == 200

    # Deleting an asset never deletes a file referenced in place.
    kept = tmp_path / "mine" / "tone.wav"
    shutil.copyfile(media_files.tone_wav, kept)
    [job] = import_paths(live, [kept], reference=True)
    audio_id = finished(live, job["id"])["result"]["asset_id"]
    removed = live.http.delete(
        f"/videodb/collection/default/audio/{audio_id}", headers=live.headers
    )
    assert removed.json() == {"success": True, "message": "Audio deleted"}
    assert kept.read_bytes() == media_files.tone_wav.read_bytes()
    assert live.get(f"/media/{audio_id}").status_code == 404


def test_files_imported_by_path_are_copied_in(
    live: Live, tmp_path: Path, media_files: MediaFiles
) -> None:
    sources = [tmp_path / "clip.mp4", tmp_path / "still.png"]
    shutil.copyfile(media_files.clip_mp4, sources[0])
    shutil.copyfile(media_files.still_png, sources[1])
    jobs = import_paths(live, sources, reference=False)
    ids = [finished(live, j["id"])["result"]["asset_id"] for j in jobs]
    for source in sources:
        source.unlink()
    assets = {a["id"]: a for a in all_assets(live)}
    assert set(assets) == set(ids)
    assert not any(a["missing"] for a in assets.values())
    assert live.get(f"/media/{ids[0]}").content == media_files.clip_mp4.read_bytes()

    removed = live.http.delete(f"/videodb/collection/default/video/{ids[0]}", headers=live.headers)
    assert removed.status_code == 200
    assert not (live.data_dir / "media" / ids[0]).exists()  # an owned file goes with its asset
    assert live.get(f"/media/{ids[0]}").status_code == 404


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"paths": []}, 400, "invalid_payload"),
        ({"paths": "/x.mp4"}, 400, "invalid_payload"),
        ({"paths": ["/x.mp4"], "reference": "yes"}, 400, "invalid_payload"),
        ({"paths": ["relative.mp4"]}, 404, "not_found"),
        ({"paths": ["/no/such/file.mp4"]}, 404, "not_found"),
        ({"paths": ["/tmp"], "collection_id": "default"}, 404, "not_found"),
        ({"paths": ["/x.mp4"], "collection_id": "nope"}, 404, "not_found"),
        ({"paths": ["/x.mp4"], "collection_id": "a b"}, 400, "invalid_id"),
    ],
)
def test_import_by_path_refusals(live: Live, body: Any, status: int, code: str) -> None:
    response = live.http.post("/media/import", headers=live.headers, json=body)
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code
    assert live.get("/jobs").json() == []


def test_import_by_path_is_all_or_nothing(
    live: Live, tmp_path: Path, media_files: MediaFiles
) -> None:
    there = tmp_path / "clip.mp4"
    shutil.copyfile(media_files.clip_mp4, there)
    response = live.http.post(
        "/media/import",
        headers=live.headers,
        json={"paths": [str(there), str(tmp_path / "gone.mp4")]},
    )
    assert response.status_code == 404, response.text
    assert "gone.mp4" in response.json()["error"]["message"]
    assert str(tmp_path) not in response.json()["error"]["message"]
    assert live.get("/jobs").json() == []  # not even the file that is there
    assert all_assets(live) == []
