"""The wire's shapes as types: every payload that crosses the socket or HTTP, one TypedDict each.

`frontend/src/types.ts` mirrors these one to one (same names, same keys); `tests/unit/
test_wire_types.py` compares the key sets of both sides so they cannot drift. A payload is
untyped only where it truly is open: a client's metadata, an imported file before it is
checked.
"""

from __future__ import annotations

from typing import Any, Literal, NotRequired, TypedDict

JSONDict = dict[str, Any]
"""An open JSON object, at a true boundary: parsed but not yet checked, or free-form by design."""

MsgType = Literal["input", "output"]
Status = Literal["progress", "success", "error", "not_generated", "overlimit", "sessionlimit"]


# --- messages (PROTOCOL section 2) ------------------------------------------------------------
class VideoData(TypedDict, total=False):
    id: str
    collection_id: str
    name: str
    description: str
    stream_url: str
    thumbnail_url: str
    length: float
    error: str | None


class ImageData(TypedDict, total=False):
    id: str
    collection_id: str
    name: str
    description: str
    url: str


class Shot(TypedDict, total=False):
    search_score: float
    start: float
    end: float
    text: str


class SearchResult(TypedDict, total=False):
    video_id: str
    video_title: str
    stream_url: str
    duration: float
    shots: list[Shot]


class ContentItem(TypedDict, total=False):
    """One item of a message; `type` says which payload key it carries. Items of a type this
    app does not know are kept and passed through."""

    type: str
    status: str
    status_message: str | None
    agent_name: str | None
    text: str
    video: VideoData
    videos: list[VideoData]
    ui_config: JSONDict
    image: ImageData
    search_results: list[SearchResult]
    download: DownloadData
    thinking: str
    """A thinking model's reasoning, on the answer's `text` item (never in `text`); clients that
    do not know it show the answer alone."""


class MessageMetadata(TypedDict, total=False):
    """The server's keys; a client's own metadata keys ride along unchecked."""

    timestamp: str
    seq: int
    first_seq: int
    output_msg_id: str
    stopped: bool
    error_type: str
    version: int
    """PROTOCOL 8: which version of the message this is (1-based), once it has more than one."""
    versions: int
    hidden: bool
    """The turn is on a branch not shown; clients leave it out."""
    deleted: bool
    """The turn was deleted; clients remove it (it may come back within the undo window)."""
    purged: bool


class Message(TypedDict):
    """A stored message (input or output), as every snapshot carries it."""

    session_id: str
    conv_id: str
    msg_id: str
    msg_type: MsgType
    status: str
    actions: list[str]
    agents: list[str]
    content: list[ContentItem]
    metadata: MessageMetadata
    created_at: NotRequired[int]
    updated_at: NotRequired[int]


# --- socket answers (PROTOCOL section 3) ------------------------------------------------------
class ChatAck(TypedDict):
    session_id: str
    conv_id: str
    msg_id: str
    output_msg_id: str | None


class VersionAck(TypedDict):
    """The ack of `regenerate` and `edit` (PROTOCOL 8): `version` is the new version's number,
    the reply's for `regenerate`, the input's for `edit`."""

    session_id: str
    conv_id: str
    msg_id: str
    output_msg_id: str | None
    version: int


class SelectVersionAck(TypedDict):
    """The ack of `select_version`: the message's version shown now, of `versions`."""

    session_id: str
    msg_id: str
    version: int
    versions: int


class ReconnectAck(TypedDict):
    last_seq: int
    running: bool


class StopAck(TypedDict):
    stopped: bool


class WireErrorBody(TypedDict):
    code: str
    message: str


class ErrorEnvelope(TypedDict):
    """The one error shape of acks and HTTP bodies."""

    ok: Literal[False]
    error: WireErrorBody


class DirectorErrorEnvelope(ErrorEnvelope):
    """The envelope on Director's `/videodb/...` routes: Director's UI reads `message`."""

    message: str


class OkEnvelope(TypedDict):
    ok: Literal[True]
    data: ChatAck | ReconnectAck | StopAck | VersionAck | SelectVersionAck


class ErrorMetadata(TypedDict):
    timestamp: str
    error_type: str


class ErrorResponse(TypedDict):
    """The seed's `chat` error response: never stored, always a new msg_id."""

    status: Literal["error"]
    message: str
    session_id: str | None
    conv_id: str | None
    msg_id: str
    msg_type: Literal["output"]
    content: list[ContentItem]
    metadata: ErrorMetadata


class UpdateEvent(TypedDict):
    """`event` `{event_type: "update_data", ...}`: a list the UI shows has changed."""

    event_type: Literal["update_data"]
    update: str
    keys: NotRequired[list[str]]
    """`prefs`: the keys patched."""
    state: NotRequired[str]
    """`models`: the chosen model's load state."""
    import_id: NotRequired[str]
    import_state: NotRequired[str]
    collection_id: NotRequired[str]
    """`videos`: the collection whose assets changed."""


# --- HTTP answers (PROTOCOL section 5) --------------------------------------------------------
class Health(TypedDict):
    status: Literal["ok"]
    version: str
    db: Literal["ok", "error"]


class ConfigCheck(TypedDict):
    db_configured: bool
    llm_configured: bool
    videodb_configured: bool


class JSONSchema(TypedDict, total=False):
    """The subset of JSON Schema agents describe their arguments with (and models read)."""

    type: str | list[str]
    description: str
    title: str
    properties: dict[str, JSONSchema]
    required: list[str]
    items: JSONSchema
    enum: list[str | int | float]
    const: str | int | float | bool
    minimum: float
    maximum: float
    minLength: int
    maxLength: int
    minItems: int
    maxItems: int
    default: str | int | float | bool | None
    pattern: str
    format: str
    additionalProperties: bool
    oneOf: list[JSONSchema]
    anyOf: list[JSONSchema]
    examples: list[str | int | float | bool]


class AgentInfo(TypedDict):
    name: str
    description: str
    parameters: JSONSchema
    """The agent's JSON schema."""


class Session(TypedDict):
    session_id: str
    name: str
    video_id: str | None
    collection_id: str | None
    created_at: int
    updated_at: int
    metadata: JSONDict
    pinned_at: int | None
    """When the user pinned it (epoch seconds); null: not pinned. Pinned sessions list first."""


class PageMore(TypedDict, total=False):
    """Whether a page of a conversation has more before it, and (around a hit) after it."""

    has_more: bool
    has_newer: bool


class SessionPage(Session, PageMore):
    """`GET /session/{id}`: the session and (a page of) its conversation."""

    conversation: list[Message]


class SearchHit(TypedDict):
    session_id: str
    name: str
    msg_id: str | None
    snippet: str


class Prefs(TypedDict, total=False):
    current_session: str | None
    drafts: dict[str, str]
    theme: Literal["system", "light", "dark"]
    sidebar_collapsed: bool


class Deleted(TypedDict):
    success: Literal[True]
    message: str


# --- model settings (docs/protocol.md, "Models") ---------------------------------------------
class ProviderStatus(TypedDict):
    """A model provider's load state."""

    provider: str
    model: str | None
    state: Literal["idle", "loading", "ready", "error"]
    error: str | None
    progress: float | None
    context_length: int | None


class DetectedModel(TypedDict):
    id: str
    size: int | None
    """Bytes on disk, when the server says (Ollama's `/api/tags`); None otherwise."""


class DetectedServer(TypedDict):
    name: str
    base_url: str
    models: list[str]
    entries: list[DetectedModel]
    """`models` again, with what the server says about each (the model picker's rows)."""


class ModelChoice(TypedDict, total=False):
    """The `llm` key of settings.json, as a client sends it and as status shows it."""

    provider: str
    model: str
    context_length: int
    base_url: str


class ModelStatus(ProviderStatus):
    loaded: bool
    llm_configured: bool
    config: ModelChoice
    has_api_key: bool
    key_storage: Literal["keyring", "file"]
    detected: list[DetectedServer] | None


class ModelParams(TypedDict, total=False):
    """Model settings (the `model_params` key of settings.json): only what the user set; every
    absent key is the model's default."""

    system_prompt: str
    temperature: float
    top_p: float
    top_k: int
    min_p: float
    repeat_penalty: float
    max_tokens: int
    stop: list[str]
    context_length: int
    n_threads: int
    n_gpu_layers: int


class ModelParamsView(TypedDict):
    """`GET`/`PUT`/`DELETE /config/models/params`."""

    params: ModelParams
    """What the user set."""
    defaults: ModelParams
    """The chosen model's defaults (context from the file's metadata, capped by memory)."""
    effective: ModelParams
    """What the next reply is written with."""
    context_max: int | None
    """The most context the chosen model takes (trained length, capped by memory)."""


class SessionSystemPrompt(TypedDict):
    """`GET`/`PUT /session/{id}/system_prompt`: a chat's own system prompt (None: the default)."""

    session_id: str
    system_prompt: str | None


class ModelFile(TypedDict, total=False):
    file: str
    size: int | None
    """None for a file whose size cannot be read (listed with its `error`)."""
    context_length: int | None
    architecture: str | None
    name: str | None
    has_chat_template: bool
    linked: bool
    error: str | None


class ModelTest(TypedDict):
    """`POST /config/models/test`: a few tokens asked of a model."""

    ok: bool
    provider: str
    model: str | None
    latency_ms: int
    reply_chars: NotRequired[int]
    error: WireErrorBody | None


class ModelList(TypedDict):
    providers: list[str]
    models_dir: str
    models: list[ModelFile]
    status: ModelStatus


class ModelImport(TypedDict):
    """A model import's progress (`/config/models/imports...`)."""

    id: str
    file: str
    method: str
    bytes: int
    total: int | None
    progress: float | None
    state: str
    error: WireErrorBody | None


class CatalogueEntry(TypedDict):
    """One model of the shipped catalogue (`engine/llm/catalogue.json`)."""

    id: str
    kind: str
    """`chat`, `whisper` or `embedding`."""
    size_class: str
    name: str
    repo: str
    file: str
    revision: str
    quantization: str
    license: str
    license_url: str
    good_for: str
    memory_gb: float
    tools: bool


class HubFileInfo(TypedDict):
    """A file of a hub repository, live from the hub (`GET /config/models/hub`)."""

    file: str
    size: int | None
    sha256: str | None


class HubListing(TypedDict):
    """`GET /config/models/hub`: a repository's `.gguf` files (and the catalogue's whisper
    `.bin` files), with the file a pasted link named, if any."""

    repo: str
    revision: str
    commit: str | None
    gated: bool
    page: str
    files: list[HubFileInfo]
    file: str | None


class CatalogueItem(CatalogueEntry):
    """A catalogue entry as `GET /config/models/catalogue` answers it: how it fits this
    machine, whether it is downloaded, and what the hub says of it now."""

    fit: str
    """`fits`, `tight`, `too_big` or `unknown`."""
    recommended: bool
    installed: bool
    size: int | None
    sha256: str | None
    hub_error: WireErrorBody | None


class CatalogueAnswer(TypedDict):
    version: int
    memory: int | None
    """This machine's memory in bytes; None where the system does not say."""
    endpoint: str
    has_token: bool
    entries: list[CatalogueItem]


# --- jobs (PROTOCOL section 7) ----------------------------------------------------------------
JobStatus = Literal["queued", "running", "paused", "done", "error", "cancelled"]


class JobResult(TypedDict, total=False):
    """What a finished job made: the keys its kind fills."""

    asset_id: str
    """The asset made or imported (import, transcode, frame, edit, transcribe, index)."""
    duplicate: bool
    """An import whose bytes were already in the collection."""
    mode: str
    """An edit: how it was made (copied or re-encoded)."""
    segments: int
    """A transcription: how many segments were heard."""
    scenes: int
    """An index: scenes found."""
    model: str
    """A model download: the file's name in the models folder."""
    lines: dict[str, int]
    """An index: lines stored per source (transcript, subtitle, name)."""
    notes: list[str]
    """An index: what was left out and why."""
    archive: str
    """A backup: the archive's file name in the archives folder."""
    restored: dict[str, int]
    """A restore: what it added and what was already here (chats, settings, media files)."""
    speech: str
    """An index: who transcribed the speech, or why it was not."""


class JobInfo(TypedDict):
    """A long-running job (an import, a transcode, a download) as every window sees it."""

    id: str
    kind: str
    title: str
    status: JobStatus
    progress: float | None
    """0..1, or None while the amount of work is not known."""
    detail: str
    started_at: int
    finished_at: int | None
    error: WireErrorBody | None
    result: JobResult | None
    """What the job made, e.g. `{asset_id}`; None until it is `done`."""


class BackupArchive(TypedDict):
    """`GET /backup`: one archive in the archives folder (newest first)."""

    name: str
    size: int
    created_at: int


class JobEvent(TypedDict):
    """`event` `{event_type: "job", job}`: a job changed (at most ~4 a second, every status)."""

    event_type: Literal["job"]
    job: JobInfo


# --- the media library (PROTOCOL section 6: Director's collection API) -----------------------
class Collection(TypedDict):
    id: str
    name: str
    description: str


class CollectionCreatedData(TypedDict):
    success: Literal[True]
    message: str
    collection: Collection


class CollectionCreated(TypedDict):
    """`POST /videodb/collection`, Director's shape."""

    message: str
    data: CollectionCreatedData


class AssetExtras(TypedDict, total=False):
    """Keys beyond Director's, for our own UI (Director's UI ignores them)."""

    kind: Literal["video", "audio", "image"]
    size: int
    width: int | None
    height: int | None
    fps: float | None
    created_at: int
    missing: bool
    """A file referenced in place that is no longer there."""
    duplicate: bool
    """On an upload's answer: the same bytes were already in the collection."""


class VideoAsset(AssetExtras):
    id: str
    collection_id: str
    name: str
    description: str
    stream_url: str
    player_url: str
    thumbnail_url: str
    length: float
    type: NotRequired[Literal["video"]]
    """In list answers only."""


class AudioAsset(AssetExtras):
    id: str
    collection_id: str
    name: str
    length: float
    url: str
    type: NotRequired[Literal["audio"]]


class ImageAsset(AssetExtras):
    id: str
    collection_id: str
    name: str
    description: str
    url: str
    type: NotRequired[Literal["image"]]


class FfmpegStatus(TypedDict):
    ok: bool
    version: str | None
    error: str | None


class LibraryStats(TypedDict):
    assets: int
    bytes: int


class MediaStatus(TypedDict):
    """`GET /config/media`: is FFmpeg there and working, how big is the library."""

    ffmpeg: FfmpegStatus
    library: LibraryStats
    max_upload_bytes: int
    index_on_import: bool  # settings.json `media.index_on_import`: index new videos and audio


# --- agents' content items (issue 13) ----------------------------------------------------------
class DownloadData(TypedDict):
    """A `download` item's payload: a copy of an asset the page saves (a link with the HTML
    `download` attribute, or the window's save dialog) rather than plays. `url` is a plain
    `/media/<id>` path, signed at delivery like every media path."""

    id: str
    collection_id: str
    kind: Literal["video", "audio", "image"]
    name: str
    filename: str
    """The name to save it under (the served version's suffix)."""
    url: str
    mime: str
    size: int | None
    """Bytes, when the served file is the original; None for a made playable version."""


# --- speech to text (issue 13) -----------------------------------------------------------------
class SpeechChoice(TypedDict, total=False):
    """The `speech` key of settings.json, as a client sends it and as status shows it:
    `{"provider": "none"}`, `{"provider": "whisper", "model": "ggml-base.en.bin"}` (a file of
    the models folder) or `{"provider": "openai", "base_url": ..., "model": ...}`."""

    provider: Literal["none", "whisper", "openai"]
    model: str
    base_url: str


class WhisperModelFile(TypedDict):
    """A whisper ggml file of the models folder (`*.bin`), listed with its `error` when its
    header does not read as a whisper model."""

    file: str
    size: int
    error: str | None


class SpeechStatus(TypedDict):
    """`GET|PUT /config/speech`: the choice, whether it works, the whisper files found."""

    providers: list[str]
    config: SpeechChoice
    configured: bool
    """A transcriber is chosen (provider is not `none`)."""
    ok: bool
    """The quick check passed: the model file reads as whisper, or the endpoint answers."""
    error: WireErrorBody | None
    transcriber: str | None
    """What the user sees it as: "whisper.cpp (ggml-base.en.bin)", "http://127.0.0.1:8080/v1"."""
    has_api_key: bool
    key_storage: Literal["keyring", "file"]
    models_dir: str
    models: list[WhisperModelFile]
