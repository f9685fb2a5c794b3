// The wire model of docs/protocol.md, mirrored one-to-one from director_desktop/protocol.py.

export type MsgType = 'input' | 'output'
export type Status = 'progress' | 'success' | 'error' | 'not_generated' | 'overlimit' | 'sessionlimit'

export interface ContentItem {
  type: string
  status?: Status | string
  status_message?: string | null
  agent_name?: string | null
  [key: string]: unknown
}

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

export interface Shot {
  search_score?: number
  start: number
  end: number
  text?: string
}

export interface SearchResult {
  video_id?: string
  video_title?: string
  stream_url?: string
  duration?: number
  shots?: Shot[]
}

export interface MessageMetadata {
  timestamp?: string
  seq?: number
  first_seq?: number
  stopped?: boolean
  error_type?: string
  [key: string]: unknown
}

export interface Message {
  session_id: string
  conv_id: string
  msg_id: string
  msg_type: MsgType
  status: Status | string
  actions?: string[]
  agents?: string[]
  content: ContentItem[]
  metadata: MessageMetadata
  /** Present on the seed's error responses only. */
  message?: string
  /** Client-side only: a user input not yet stored by the server. */
  pending?: 'queued' | 'sending'
}

export interface ChatInput {
  session_id: string
  conv_id: string
  msg_id: string
  msg_type: 'input'
  agents: string[]
  content: ContentItem[]
  metadata: Record<string, unknown>
}

export interface Session {
  session_id: string
  name: string
  video_id?: string | null
  collection_id?: string | null
  created_at: number
  updated_at: number
  metadata?: Record<string, unknown>
}

export interface SessionPage extends Session {
  conversation: Message[]
  has_more?: boolean
  has_newer?: boolean
}

export interface Agent {
  name: string
  description: string
  parameters?: unknown
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
  theme?: 'light' | 'dark' | 'system' | null
  [key: string]: unknown
}

/** The error envelope's `error`, as it travels in a payload (an HTTP error answer, a refused ack,
 * an import job, a connection test). The HTTP client raises it as a WireError (lib/http.ts), the
 * one error class of the app, which adds the HTTP status. */
export interface WireErrorBody {
  code: string
  message: string
}

export type Ack<T> = { ok: true; data: T } | { ok: false; error: WireErrorBody }

export interface ChatAck {
  session_id: string
  conv_id: string
  msg_id: string
  output_msg_id: string
}

export interface ReconnectAck {
  last_seq: number
  running: boolean
}

export interface UpdateEvent {
  event_type: 'update_data'
  update: 'sessions' | 'prefs' | 'collections' | 'videos' | string
  [key: string]: unknown
}
