"""The media library in a real browser against the real server, on media the suite makes with
FFmpeg (`tests/fixtures/media.py`): two files dropped on the window (a synthetic drop event
carrying File objects made from their bytes) each get a progress bar bound to its import job,
arrive in the collection with thumbnails, one is opened, played, seeked and chatted about (the
input carries its `video_id`, and the server keeps it on the session); refusals show their
reason; collections are made, switched and deleted with a confirmation; a file kept in place
through the (stubbed) native dialog is marked Missing once it is gone. Screenshots of each view
go to `test-artifacts/`."""

from __future__ import annotations

import base64
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, WebSocket

from tests.e2e.conftest import App
from tests.e2e.helpers import api
from tests.fixtures.media import MediaFiles, media_files_fixture  # noqa: F401 (the fixture)

pytestmark = pytest.mark.e2e

# Import jobs run FFmpeg (probe, thumbnail); a loaded CI machine may take a while.
IMPORT_TIMEOUT_MS = 60_000
MIME = {".mp4": "video/mp4", ".png": "image/png", ".txt": "text/plain", ".wav": "audio/wav"}

# Files dragged in from outside the page: a DataTransfer holding File objects made from the
# test's bytes, carried by real DragEvents (what Chromium dispatches for a drag from the desktop).
DRAG_IN = """(files) => {
    const dt = new DataTransfer();
    for (const f of files) {
        const raw = atob(f.data);
        const bytes = new Uint8Array(raw.length);
        for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
        dt.items.add(new File([bytes], f.name, {type: f.type}));
    }
    window.__drag = dt;
    const target = document.querySelector('main');
    for (const type of ['dragenter', 'dragover']) {
        const init = {dataTransfer: dt, bubbles: true, cancelable: true};
        target.dispatchEvent(new DragEvent(type, init));
    }
}"""
DROP = """() => {
    const init = {dataTransfer: window.__drag, bubbles: true, cancelable: true};
    const event = new DragEvent('drop', init);
    document.querySelector('main').dispatchEvent(event);
    return event.defaultPrevented;
}"""
# Records every state each upload row showed, the bars it showed them with, and the job it was
# bound to: a MutationObserver sees each rendered state, however briefly it was on screen.
RECORDER = """() => {
    const seen = window.__uploads = {};
    const note = () => {
        for (const row of document.querySelectorAll('[data-testid=upload-row]')) {
            const s = seen[row.dataset.name] ??= {states: [], bars: [], jobs: []};
            const state = row.dataset.state;
            if (s.states[s.states.length - 1] !== state) s.states.push(state);
            const bar = row.querySelector('progress, [role=progressbar]');
            if (bar) {
                const value = bar.tagName === 'PROGRESS' ? bar.value : null;
                if (s.bars[s.bars.length - 1] !== value) s.bars.push(value);
            }
            const job = row.dataset.jobId;
            if (job && !s.jobs.includes(job)) s.jobs.push(job);
        }
    };
    note();
    new MutationObserver(note).observe(document.body,
        {subtree: true, childList: true, attributes: true, characterData: true});
}"""
PLAYER = "[data-testid=asset-player]"


def drop(page: Page, files: list[Path], shot_as: str | None = None) -> None:
    payload = [
        {
            "name": f.name,
            "type": MIME.get(f.suffix, ""),
            "data": base64.b64encode(f.read_bytes()).decode(),
        }
        for f in files
    ]
    page.evaluate(DRAG_IN, payload)
    page.get_by_test_id("drop-overlay").wait_for()
    if shot_as:
        page.screenshot(path=shot_as)
    assert page.evaluate(DROP) is True  # the page took the drop (the browser would open the file)
    page.get_by_test_id("drop-overlay").wait_for(state="detached")


def wait_rows(page: Page, state: str, count: int) -> None:
    page.wait_for_function(
        """([state, count]) => [...document.querySelectorAll('[data-testid=upload-row]')]
            .filter((r) => r.dataset.state === state).length === count""",
        arg=[state, count],
        timeout=IMPORT_TIMEOUT_MS,
    )


def card(page: Page, name: str) -> Locator:
    return page.locator(f'[data-testid=asset-card][data-name="{name}"]')


def sent_chats(frames: list[str]) -> list[dict[str, Any]]:
    """The `chat` events the page sent (Socket.IO frames: `42/chat,<ack id>[name, payload]`)."""
    out = []
    for frame in frames:
        if frame.startswith("42/chat,") and '["chat"' in frame:
            _name, payload = json.loads(frame[frame.index("[") :])
            out.append(payload)
    return out


def test_drop_two_files_watch_them_arrive_then_play_seek_and_chat(
    app: App, media_files: MediaFiles, artifacts_dir: Path
) -> None:
    page = app.page
    frames: list[str] = []

    def on_socket(ws: WebSocket) -> None:
        ws.on("framesent", lambda data: frames.append(data if isinstance(data, str) else ""))

    page.on("websocket", on_socket)
    app.open()
    page.evaluate(RECORDER)
    names = [media_files.clip_mp4.name, media_files.still_png.name]

    drop(
        page,
        [media_files.clip_mp4, media_files.still_png],
        str(artifacts_dir / "e2e-media-drop.png"),
    )
    # The drop shows the collection it went to, and each file its own row in the tray.
    page.get_by_test_id("collection-view").wait_for()
    wait_rows(page, "done", 2)
    seen = page.evaluate("() => window.__uploads")
    jobs = {j["id"]: j for j in api(app.server, "GET", "/jobs")}
    for name in names:
        rows = seen[name]
        assert rows["states"][0] == "sending", rows
        assert rows["states"][-1] == "done", rows
        assert rows["bars"], f"{name}: no progress bar was shown"
        # The bar was driven by the server's import job for this very file.
        assert len(rows["jobs"]) == 1, rows
        job = jobs[rows["jobs"][0]]
        assert (job["kind"], job["title"], job["status"]) == ("import", name, "done")
    page.get_by_test_id("jobs-tray").screenshot(path=str(artifacts_dir / "e2e-media-tray.png"))

    # Both are in the collection, newest first, with their thumbnails loaded.
    for name in names:
        card(page, name).wait_for()
    page.wait_for_function(
        """() => [...document.querySelectorAll('[data-testid=asset-card] img')]
            .filter((i) => i.complete && i.naturalWidth > 0).length === 2"""
    )
    assert page.get_by_test_id("asset-card").count() == 2
    video_id = card(page, "clip.mp4").get_attribute("data-asset-id")
    assert video_id
    assert card(page, "clip.mp4").get_attribute("data-kind") == "video"
    assert card(page, "still.png").get_attribute("data-kind") == "image"
    page.screenshot(path=str(artifacts_dir / "e2e-media-collection.png"))

    # Open the video: it plays from its signed URL, and seeks (the server answers ranges).
    page.get_by_role("button", name="Open clip.mp4").click()
    page.locator(PLAYER).wait_for()
    # Muted: autoplay rules let a muted video play without a gesture.
    page.evaluate(f"() => {{ const v = document.querySelector('{PLAYER}'); v.muted = true; }}")
    page.evaluate(f"() => document.querySelector('{PLAYER}').play()")
    page.wait_for_function(
        f"() => document.querySelector('{PLAYER}').currentTime > 0.5", timeout=IMPORT_TIMEOUT_MS
    )
    landed = page.evaluate(
        f"""() => new Promise((resolve) => {{
            const v = document.querySelector('{PLAYER}');
            v.pause();
            v.addEventListener('seeked', () => resolve(v.currentTime), {{once: true}});
            v.currentTime = 2.2;
        }})"""
    )
    assert 2.1 <= landed <= 2.4, landed
    assert page.evaluate(f"() => document.querySelector('{PLAYER}').seekable.end(0)") > 2.9
    page.screenshot(path=str(artifacts_dir / "e2e-media-video.png"))

    # Chat about it from the video view: the input carries its ids, the session keeps them.
    question = "What happens in this video?"
    app.send(question)
    page.locator("[data-testid=asset-view] article.message.user", has_text=question).wait_for()
    page.locator(
        "[data-testid=asset-view] article.message.assistant:not([data-status=progress])"
    ).wait_for()
    sent = [p for p in sent_chats(frames) if p["content"][0].get("text") == question]
    assert len(sent) == 1
    assert (sent[0]["video_id"], sent[0]["collection_id"]) == (video_id, "default")
    session = api(app.server, "GET", f"/session/{sent[0]['session_id']}")
    assert (session["video_id"], session["collection_id"]) == (video_id, "default")
    stored = [m for m in session["conversation"] if m["msg_type"] == "input"]
    assert [m["content"][0]["text"] for m in stored] == [question]
    page.screenshot(path=str(artifacts_dir / "e2e-media-video-chat.png"))
    app.assert_clean()


def test_refused_files_show_their_reason(
    app: App, media_files: MediaFiles, artifacts_dir: Path
) -> None:
    app.open()
    page = app.page
    drop(page, [media_files.notes_txt, media_files.truncated_mp4])
    wait_rows(page, "error", 2)
    rows = page.get_by_test_id("upload-row")
    codes = {
        rows.nth(i).get_attribute("data-name"): rows.nth(i).get_attribute("data-code")
        for i in range(2)
    }
    assert codes == {"notes.txt": "unsupported_media", "truncated.mp4": "truncated_media"}
    for i in range(2):
        assert "Could not add" in rows.nth(i).inner_text()
        assert rows.nth(i).get_by_test_id("progress-detail").inner_text().strip()
    page.get_by_test_id("library-empty").wait_for()
    page.screenshot(path=str(artifacts_dir / "e2e-media-refused.png"))
    app.assert_clean()


def test_collections_are_made_switched_and_deleted_with_a_confirmation(
    app: App, media_files: MediaFiles, artifacts_dir: Path
) -> None:
    app.open()
    page = app.page
    collections = page.get_by_test_id("collections")
    # The default collection is first and cannot be deleted.
    collections.locator("[data-collection-id=default]").wait_for()
    assert collections.locator("[data-collection-id=default] [aria-label^='Delete']").count() == 0

    page.get_by_test_id("new-collection").click()
    page.get_by_test_id("collection-name").fill("Trips")
    page.get_by_test_id("collection-name").press("Enter")
    page.get_by_test_id("view-title").filter(has_text="Trips").wait_for()
    ids = collections.locator("[data-collection-id]").evaluate_all(
        "(rows) => rows.map((r) => r.dataset.collectionId)"
    )
    assert ids[0] == "default"
    assert len(ids) == 2

    # The browser's file picker, into the collection on screen.
    page.get_by_test_id("upload-input").set_input_files(str(media_files.clip_mp4))
    card(page, "clip.mp4").wait_for(timeout=IMPORT_TIMEOUT_MS)
    assert api(app.server, "GET", f"/videodb/collection/{ids[1]}/video")[0]["name"] == "clip.mp4"
    assert api(app.server, "GET", "/videodb/collection/default/video") == []

    # A collection that holds files is refused, and the dialog says why.
    collections.get_by_role("button", name="Delete collection Trips").click()
    dialog = page.get_by_role("alertdialog")
    with page.expect_response(
        lambda r: r.request.method == "DELETE" and r.url.endswith(f"/videodb/collection/{ids[1]}")
    ) as answered:
        dialog.get_by_test_id("confirm-ok").click()
    assert answered.value.status == 409
    refusal = dialog.get_by_test_id("confirm-error")
    refusal.filter(has_text="non-zero videos/audios/images").wait_for()
    page.screenshot(path=str(artifacts_dir / "e2e-media-delete-refused.png"))
    dialog.get_by_test_id("confirm-cancel").click()

    # Emptied (the asset deleted after its own confirmation), it goes.
    card(page, "clip.mp4").get_by_test_id("delete-asset").click()
    page.get_by_role("alertdialog").get_by_test_id("confirm-ok").click()
    card(page, "clip.mp4").wait_for(state="detached")
    collections.get_by_role("button", name="Delete collection Trips").click()
    page.get_by_role("alertdialog").get_by_test_id("confirm-ok").click()
    collections.locator(f"[data-collection-id='{ids[1]}']").wait_for(state="detached")
    page.get_by_test_id("view-title").filter(has_text="Default Collection").wait_for()
    assert [c["id"] for c in api(app.server, "GET", "/videodb/collection")] == ["default"]
    app.assert_clean()


def test_a_file_kept_in_place_shows_missing_once_gone(
    app: App, media_files: MediaFiles, tmp_path: Path, artifacts_dir: Path
) -> None:
    kept = tmp_path / "kept" / "holiday.mp4"
    kept.parent.mkdir()
    shutil.copyfile(media_files.clip_mp4, kept)
    page = app.page
    # The desktop window's native dialog, as its bridge answers: the chosen paths.
    page.add_init_script(
        f"window.directorDesktop = {{chooseFiles: async () => [{json.dumps(str(kept))}]}}"
    )
    app.open()
    page.get_by_test_id("collections").get_by_role("button", name="Default Collection").click()
    page.get_by_test_id("keep-in-place").check()
    page.get_by_test_id("add-native").click()
    wait_rows(page, "done", 1)
    card(page, "holiday.mp4").wait_for()
    assert card(page, "holiday.mp4").get_by_test_id("missing-badge").count() == 0
    assert kept.exists()  # referenced, not moved

    kept.unlink()
    page.get_by_test_id("filter-video").click()  # reads the list again
    card(page, "holiday.mp4").get_by_test_id("missing-badge").wait_for()
    page.screenshot(path=str(artifacts_dir / "e2e-media-missing.png"))
    page.get_by_role("button", name="Open holiday.mp4").click()
    page.get_by_test_id("asset-missing").wait_for()
    assert page.locator(PLAYER).count() == 0
    app.assert_clean()
