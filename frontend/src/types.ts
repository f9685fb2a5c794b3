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

export interface OkEnvelope {
  ok: true
  data: ChatAck | ReconnectAck | StopAck
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
  update: 'sessions' | 'prefs' | 'models' | string
  /** `prefs`: the keys patched. */
  keys?: string[]
  /** `models`: the chosen model's load state. */
  state?: string
  import_id?: string
  import_state?: string
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

export interface AgentInfo {
  name: string
  description: string
  /** The agent's JSON schema. */
  parameters: Record<string, unknown>
}

export interface Session {
  session_id: string
  name: string
  video_id: string | null
  collection_id: string | null
  created_at: number
  updated_at: number
  metadata: Record<string, unknown>
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

export interface DetectedServer {
  name: string
  base_url: string
  models: string[]
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

// --- jobs (PROTOCOL section 7) ------------------------------------------------------------------
export type JobStatus = 'queued' | 'running' | 'paused' | 'done' | 'error' | 'cancelled'

/** A long-running job (an import, a transcode, a download) as every window sees it. */
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
  result: Record<string, unknown> | null
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
}

/** A message as the list shows it: a stored one, an input not stored yet, or a refused response. */
export interface ShownMessage extends Message {
  /** An input not yet acked by the server: waiting for a connection, or on its way. */
  pending?: 'queued' | 'sending'
  /** The text of the seed's error response (ErrorResponse.message). */
  message?: string
}

// --- jobs (PROTOCOL section 7) ---------------------------------------------------------------------
/** A long-running job (an import, a transcode, a download) as every window sees it. */
export interface JobInfo {
  id: string
  kind: string
  title: string
  status: 'queued' | 'running' | 'paused' | 'done' | 'error' | 'cancelled'
  /** 0..1, or null while the amount of work is not known. */
  progress: number | null
  detail: string
  started_at: number
  finished_at: number | null
  error: WireErrorBody | null
  /** What the job made, e.g. `{asset_id}`; null until it is `done`. */
  result: Record<string, unknown> | null
}

/** `event` `{event_type: "job", job}`: a job changed (at most ~4 a second, every status). */
export interface JobEvent {
  event_type: 'job'
  job: JobInfo
}
