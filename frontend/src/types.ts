// The wire model of docs/protocol.md, mirrored one to one from director_desktop/protocol/types.py:
// every TypedDict there is an interface here of the same name with the same keys (a key that is
// NotRequired, or in a `total=False` TypedDict, is optional here). tests/unit/test_wire_types.py
// compares the key sets of both sides, so add a key to both or the test fails. A Python `str` that
// the server only ever fills from a fixed set may be that union here (`Provider`).
//
// What the client alone adds (the state of an input not yet stored, a refused response's text in
// the list) lives on client-only interfaces that extend a mirrored one (`ShownMessage`), never on
// the mirrored interface itself. Index signatures mark the open objects (items of an unknown
// type, a client's metadata); they carry no keys of their own.

export type MsgType = 'input' | 'output'
export type Status = 'progress' | 'success' | 'error' | 'not_generated' | 'overlimit' | 'sessionlimit'
/** A model provider (Python: `engine.router.PROVIDERS`). */
export type Provider = 'builtin' | 'embedded' | 'openai'
/** A provider's load state (`ProviderStatus.state`). */
export type LoadState = 'idle' | 'loading' | 'ready' | 'error'

// --- messages (PROTOCOL section 2) ---------------------------------------------------------------
export interface VideoData {
  id?: string
  collection_id?: string
  name?: string
  description?: string
  stream_url?: string
  thumbnail_url?: string
  length?: number
  error?: string | null
}

export interface ImageData {
  id?: string
  collection_id?: string
  name?: string
  description?: string
  url?: string
}

export interface Shot {
  search_score?: number
  start?: number
  end?: number
  text?: string
}

export interface SearchResult {
  video_id?: string
  video_title?: string
  stream_url?: string
  duration?: number
  shots?: Shot[]
}

/** One item of a message; `type` says which payload key it carries. Items of a type this app
 * does not know are kept and passed through (the index signature). */
export interface ContentItem {
  type?: string
  status?: Status | string
  status_message?: string | null
  agent_name?: string | null
  text?: string
  video?: VideoData
  videos?: VideoData[]
  ui_config?: Record<string, unknown>
  image?: ImageData
  search_results?: SearchResult[]
  download?: DownloadData
  /** A thinking model's reasoning, on the answer's text item (never in `text`). */
  thinking?: string
  [key: string]: unknown
}

/** The server's keys; a client's own metadata keys ride along unchecked. */
export interface MessageMetadata {
  timestamp?: string
  seq?: number
  first_seq?: number
  output_msg_id?: string
  stopped?: boolean
  error_type?: string
  /** PROTOCOL 8: which version of the message this is (1-based), once it has more than one. */
  version?: number
  versions?: number
  /** The turn is on a branch not shown; clients leave it out. */
  hidden?: boolean
  /** The turn was deleted; clients remove it (it may come back within the undo window). */
  deleted?: boolean
  purged?: boolean
  [key: string]: unknown
}

/** A stored message (input or output), as every snapshot carries it. */
export interface Message {
  session_id: string
  conv_id: string
  msg_id: string
  msg_type: MsgType
  status: Status | string
  actions: string[]
  agents: string[]
  content: ContentItem[]
  metadata: MessageMetadata
  created_at?: number
  updated_at?: number
}

// --- socket answers (PROTOCOL section 3) ---------------------------------------------------------
export interface ChatAck {
  session_id: string
  conv_id: string
  msg_id: string
  output_msg_id: string | null
}

/** The ack of `regenerate` and `edit`: the new version's number (the reply's, or the input's). */
export interface VersionAck {
  session_id: string
  conv_id: string
  msg_id: string
  output_msg_id: string | null
  version: number
}

/** The ack of `select_version`: the message's version shown now, of `versions`. */
export interface SelectVersionAck {
  session_id: string
  msg_id: string
  version: number
  versions: number
}

export interface ReconnectAck {
  last_seq: number
  running: boolean
}

export interface StopAck {
  stopped: boolean
}

/** The error envelope's `error`, as it travels in a payload (an HTTP error answer, a refused ack,
 * an import job, a connection test). The HTTP client raises it as a WireError (lib/http.ts), the
 * one error class of the app, which adds the HTTP status. */
export interface WireErrorBody {
  code: string
  message: string
}

/** The one error shape of acks and HTTP bodies. */
export interface ErrorEnvelope {
  ok: false
  error: WireErrorBody
}

/** The envelope on Director's `/videodb/...` routes: Director's UI reads a top-level `message`. */
export interface DirectorErrorEnvelope extends ErrorEnvelope {
  message: string
}

export interface OkEnvelope {
  ok: true
  data: ChatAck | ReconnectAck | StopAck | VersionAck | SelectVersionAck
}

export interface ErrorMetadata {
  timestamp: string
  error_type: string
}

/** The seed's `chat` error response: never stored, always a new msg_id. */
export interface ErrorResponse {
  status: 'error'
  message: string
  session_id: string | null
  conv_id: string | null
  msg_id: string
  msg_type: 'output'
  content: ContentItem[]
  metadata: ErrorMetadata
}

/** `event` `{event_type: "update_data", ...}`: a list the UI shows has changed. */
export interface UpdateEvent {
  event_type: 'update_data'
  update: 'sessions' | 'prefs' | 'models' | 'collections' | 'videos' | string
  /** `prefs`: the keys patched. */
  keys?: string[]
  /** `models`: the chosen model's load state. */
  state?: string
  import_id?: string
  import_state?: string
  /** `videos`: the collection whose assets changed. */
  collection_id?: string
}

// --- HTTP answers (PROTOCOL section 5) -----------------------------------------------------------
export interface Health {
  status: 'ok'
  version: string
  db: 'ok' | 'error'
}

export interface ConfigCheck {
  db_configured: boolean
  llm_configured: boolean
  videodb_configured: boolean
}

/** The subset of JSON Schema agents describe their arguments with (and models read). */
export interface JSONSchema {
  type?: string | string[]
  description?: string
  title?: string
  properties?: Record<string, JSONSchema>
  required?: string[]
  items?: JSONSchema
  enum?: (string | number)[]
  const?: string | number | boolean
  minimum?: number
  maximum?: number
  minLength?: number
  maxLength?: number
  minItems?: number
  maxItems?: number
  default?: string | number | boolean | null
  pattern?: string
  format?: string
  additionalProperties?: boolean
  oneOf?: JSONSchema[]
  anyOf?: JSONSchema[]
  examples?: (string | number | boolean)[]
}

export interface AgentInfo {
  name: string
  description: string
  /** The agent's JSON schema. */
  parameters: JSONSchema
}

export interface Session {
  session_id: string
  name: string
  video_id: string | null
  collection_id: string | null
  created_at: number
  updated_at: number
  metadata: Record<string, unknown>
  /** When the user pinned it (epoch seconds); null: not pinned. Pinned sessions list first. */
  pinned_at: number | null
}

/** Whether a page of a conversation has more before it, and (around a hit) after it. */
export interface PageMore {
  has_more?: boolean
  has_newer?: boolean
}

/** `GET /session/{id}`: the session and (a page of) its conversation. */
export interface SessionPage extends Session, PageMore {
  conversation: Message[]
}

export interface SearchHit {
  session_id: string
  name: string
  msg_id: string | null
  snippet: string
}

export interface Prefs {
  current_session?: string | null
  drafts?: Record<string, string>
  theme?: 'system' | 'light' | 'dark'
  sidebar_collapsed?: boolean
}

export interface Deleted {
  success: true
  message: string
}

// --- model settings (docs/protocol.md, "Models") -------------------------------------------------
/** A model provider's load state. */
export interface ProviderStatus {
  provider: Provider
  model: string | null
  state: LoadState
  error: string | null
  progress: number | null
  context_length: number | null
}

export interface DetectedModel {
  id: string
  /** Bytes on disk, when the server says (Ollama's `/api/tags`). */
  size: number | null
}

export interface DetectedServer {
  name: string
  base_url: string
  models: string[]
  entries: DetectedModel[]
}

/** The `llm` key of settings.json, as a client sends it and as status shows it. */
export interface ModelChoice {
  provider?: Provider
  model?: string
  context_length?: number
  base_url?: string
}

export interface ModelStatus extends ProviderStatus {
  loaded: boolean
  llm_configured: boolean
  config: ModelChoice
  has_api_key: boolean
  key_storage: 'keyring' | 'file'
  detected: DetectedServer[] | null
}

/** Model settings: only what the user set; an absent key is the model's default. */
export interface ModelParams {
  system_prompt?: string
  temperature?: number
  top_p?: number
  top_k?: number
  min_p?: number
  repeat_penalty?: number
  max_tokens?: number
  stop?: string[]
  context_length?: number
  n_threads?: number
  n_gpu_layers?: number
}

/** `GET`/`PUT`/`DELETE /config/models/params`. */
export interface ModelParamsView {
  params: ModelParams
  defaults: ModelParams
  effective: ModelParams
  context_max: number | null
}

/** `GET`/`PUT /session/{id}/system_prompt`: a chat's own system prompt (null: the default). */
export interface SessionSystemPrompt {
  session_id: string
  system_prompt: string | null
}

export interface ModelFile {
  file?: string
  /** null for a file whose size cannot be read (listed with its `error`). */
  size?: number | null
  context_length?: number | null
  architecture?: string | null
  name?: string | null
  has_chat_template?: boolean
  linked?: boolean
  error?: string | null
}

/** `POST /config/models/test`: a few tokens asked of a model. */
export interface ModelTest {
  ok: boolean
  provider: Provider
  model: string | null
  latency_ms: number
  reply_chars?: number
  error: WireErrorBody | null
}

export interface ModelList {
  providers: Provider[]
  models_dir: string
  models: ModelFile[]
  status: ModelStatus
}

/** One model of the shipped catalogue (`engine/llm/catalogue.json`). */
export interface CatalogueEntry {
  id: string
  kind: 'chat' | 'whisper' | 'embedding'
  size_class: string
  name: string
  repo: string
  file: string
  revision: string
  quantization: string
  license: string
  license_url: string
  good_for: string
  memory_gb: number
  tools: boolean
}

/** A catalogue entry as `GET /config/models/catalogue` answers it. */
export interface CatalogueItem extends CatalogueEntry {
  fit: 'fits' | 'tight' | 'too_big' | 'unknown'
  recommended: boolean
  installed: boolean
  size: number | null
  sha256: string | null
  hub_error: WireErrorBody | null
}

/** `GET /config/models/catalogue`. */
export interface CatalogueAnswer {
  version: number
  memory: number | null
  endpoint: string
  has_token: boolean
  entries: CatalogueItem[]
}

/** A file of a hub repository, live from the hub. */
export interface HubFileInfo {
  file: string
  size: number | null
  sha256: string | null
}

/** `GET /config/models/hub`: a repository's model files. */
export interface HubListing {
  repo: string
  revision: string
  commit: string | null
  gated: boolean
  page: string
  files: HubFileInfo[]
  file: string | null
}

/** A model import's progress (`/config/models/imports...`). */
export interface ModelImport {
  id: string
  file: string
  method: 'upload' | 'copy' | 'link'
  bytes: number
  total: number | null
  progress: number | null
  state: 'running' | 'done' | 'error'
  error: WireErrorBody | null
}

// --- the media library and Director's collection API (PROTOCOL section 6) ------------------------
/** What an asset is; the list routes are named after it (`.../video`, `.../audio`, `.../image`). */
export type AssetKind = 'video' | 'audio' | 'image'

/** A collection; the default one (id `default`) is listed first and cannot be deleted. */
export interface Collection {
  id: string
  name: string
  description: string
}

/** `POST /videodb/collection` (201): Director's envelope around the new collection. */
export interface CollectionCreated {
  message: string
  data: CollectionCreatedData
}

export interface CollectionCreatedData {
  success: true
  message: string
  collection: Collection
}

/** The keys the server adds to asset objects beyond Director's (PROTOCOL section 6 allows
 * extras; Director's UI ignores them). */
export interface AssetExtras {
  kind?: AssetKind
  /** Bytes of the original file. */
  size?: number
  width?: number | null
  height?: number | null
  fps?: number | null
  created_at?: number
  /** A file referenced in place that is gone: listed, never playable. */
  missing?: boolean
  /** On an upload's answer: the same bytes were already in the collection. */
  duplicate?: boolean
}

/** A video, as the lists (`type` set) and one video (no `type`) give it; `stream_url`,
 * `player_url` (the same) and `thumbnail_url` are signed same-origin paths under `/media/`. */
export interface VideoAsset extends AssetExtras {
  id: string
  collection_id: string
  name: string
  description: string
  stream_url: string
  player_url: string
  thumbnail_url: string
  /** Seconds. */
  length: number
  type?: 'video'
}

/** An audio file, with its signed `url`; lists carry `type`. */
export interface AudioAsset extends AssetExtras {
  id: string
  collection_id: string
  name: string
  length: number
  url: string
  type?: 'audio'
}

/** An image, with its signed `url`; lists carry `type`. */
export interface ImageAsset extends AssetExtras {
  id: string
  collection_id: string
  name: string
  description: string
  url: string
  type?: 'image'
}

/** `POST /videodb/collection/{cid}/upload`: the new asset of whichever kind (201), or the one
 * already holding the same bytes with `duplicate: true` (200). Section 6 names the keys of
 * each kind's answer: a video's `stream_url`, `player_url`, `thumbnail_url`, `description`,
 * `length`; an audio's `length`; an image's `url`. */
export interface UploadAnswer extends AssetExtras {
  id: string
  collection_id: string
  name: string
  description?: string
  stream_url?: string
  player_url?: string
  thumbnail_url?: string
  length?: number
  url?: string
}

/** `GET /config/media`: whether FFmpeg runs, what the library holds, the upload limit. */
export interface MediaStatus {
  ffmpeg: FfmpegStatus
  library: LibraryStats
  max_upload_bytes: number
  index_on_import: boolean
}

export interface FfmpegStatus {
  ok: boolean
  version: string | null
  error: string | null
}

export interface LibraryStats {
  assets: number
  bytes: number
}

// --- jobs (PROTOCOL section 7) ------------------------------------------------------------------
export type JobStatus = 'queued' | 'running' | 'paused' | 'done' | 'error' | 'cancelled'

/** A long-running job (an import, a transcode, a download) as every window sees it. */
/** What a finished job made: the keys its kind fills. */
export interface JobResult {
  /** The asset made or imported (import, transcode, frame, edit, transcribe, index). */
  asset_id?: string
  /** An import whose bytes were already in the collection. */
  duplicate?: boolean
  /** An edit: how it was made (copied or re-encoded). */
  mode?: string
  /** A transcription: how many segments were heard. */
  segments?: number
  /** An index: scenes found. */
  scenes?: number
  /** An index: lines stored per source (transcript, subtitle, name). */
  lines?: Record<string, number>
  /** An index: what was left out and why. */
  notes?: string[]
  /** An index: who transcribed the speech, or why it was not. */
  speech?: string
  /** A model download: the file's name in the models folder. */
  model?: string
  /** A backup: the archive's file name in the archives folder. */
  archive?: string
  /** A restore: what it added and what was already here (chats, settings, media files). */
  restored?: Record<string, number>
}

/** `GET /backup`: one archive in the archives folder. */
export interface BackupArchive {
  name: string
  size: number
  created_at: number
}

export interface JobInfo {
  id: string
  kind: string
  title: string
  status: JobStatus
  /** 0..1, or null while the amount of work is not known. */
  progress: number | null
  detail: string
  started_at: number
  finished_at: number | null
  error: WireErrorBody | null
  /** What the job made, e.g. `{asset_id}`; null until it is `done`. */
  result: JobResult | null
}

/** `event` `{event_type: "job", job}`: a job changed (at most ~4 a second, every status). */
export interface JobEvent {
  event_type: 'job'
  job: JobInfo
}

// --- client-only shapes (no Python TypedDict) ----------------------------------------------------
/** An ack: the OkEnvelope with the data of the event asked, or the ErrorEnvelope. */
export type Ack<T extends OkEnvelope['data']> = { ok: true; data: T } | ErrorEnvelope

/** A `chat` input as this client sends it (checked on the server by `protocol.inputs`). */
export interface ChatInput {
  session_id: string
  conv_id: string
  msg_id: string
  msg_type: 'input'
  agents: string[]
  content: ContentItem[]
  metadata: Record<string, unknown>
  /** The turn is about this collection / video (PROTOCOL section 6); null clears it. */
  collection_id?: string | null
  video_id?: string | null
}

/** What a chat's inputs are about: the `collection_id` and `video_id` they carry (null: nothing),
 * with the video's name when the page knows it. */
export interface ChatContext {
  collection_id: string | null
  video_id: string | null
  name?: string
}

/** A message as the list shows it: a stored one, an input not stored yet, or a refused response. */
export interface ShownMessage extends Message {
  /** An input not yet acked by the server: waiting for a connection, or on its way. */
  pending?: 'queued' | 'sending'
  /** The text of the seed's error response (ErrorResponse.message). */
  message?: string
}

/** A `download` item's payload (issue 13): a copy of an asset the page saves rather than plays.
 * `url` is the asset's signed `/media/<id>` URL. */
export interface DownloadData {
  id: string
  collection_id: string
  kind: AssetKind
  name: string
  /** The name to save it under (the served version's suffix). */
  filename: string
  url: string
  mime: string
  /** Bytes, when the served file is the original; null for a made playable version. */
  size: number | null
}

/** Speech to text (issue 13): the `speech` key of settings.json, as a client sends it and as
 * status shows it. `model` is a whisper file of the models folder, or the endpoint's model. */
export interface SpeechChoice {
  provider?: 'none' | 'whisper' | 'openai'
  model?: string
  base_url?: string
}

/** A whisper ggml file of the models folder, listed with its `error` when it is not one. */
export interface WhisperModelFile {
  file: string
  size: number
  error: string | null
}

/** `GET|PUT /config/speech`: the choice, whether it works, the whisper files found. */
export interface SpeechStatus {
  providers: string[]
  config: SpeechChoice
  /** A transcriber is chosen (provider is not `none`). */
  configured: boolean
  /** The quick check passed: the model file reads as whisper, or the endpoint answers. */
  ok: boolean
  error: WireErrorBody | null
  /** What the user sees it as: "whisper.cpp (ggml-base.en.bin)", "http://127.0.0.1:8080/v1". */
  transcriber: string | null
  has_api_key: boolean
  key_storage: 'keyring' | 'file'
  models_dir: string
  models: WhisperModelFile[]
}
