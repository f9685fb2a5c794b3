// The app's one HTTP client (the HTTP API of docs/protocol.md): every call carries the launch
// token as `Authorization: Bearer <token>`, reads JSON, and fails with a WireError, made from the
// error envelope `{"ok": false, "error": {code, message}}` or, when the answer is not one (a proxy
// page, a dropped connection), from the HTTP status. The endpoints are grouped by what they serve:
// `chat` (sessions, prefs, search, agents), `settings` (model settings and imports) and `media`
// (collections, assets, uploads, jobs: PROTOCOL sections 6 and 7).
import type {
  AgentInfo,
  AssetKind,
  AudioAsset,
  Collection,
  CollectionCreated,
  Deleted,
  ImageAsset,
  JobInfo,
  MediaStatus,
  ModelImport,
  ModelList,
  ModelParams,
  ModelParamsView,
  ModelStatus,
  ModelTest,
  SpeechChoice,
  SpeechStatus,
  Prefs,
  SearchHit,
  Session,
  SessionPage,
  SessionSystemPrompt,
  UploadAnswer,
  VideoAsset,
  WireErrorBody,
} from '../types'

/** Every failure the client reports: the server's stable `code` and `message`, and the HTTP
 * status (0 when no answer came: a lost connection, a cancelled upload, a check in the page). */
export class WireError extends Error implements WireErrorBody {
  override readonly name = 'WireError'
  constructor(
    readonly code: string,
    message: string,
    readonly status = 0,
  ) {
    super(message)
  }

  /** Any caught value as a WireError (a WireError as it is; anything else gets code `error`). */
  static from(e: unknown): WireError {
    if (e instanceof WireError) return e
    return new WireError('error', e instanceof Error ? e.message : String(e))
  }
}

/** The answer of one request, as text: a JSON body, or the error raised from the envelope. */
function settle<T>(status: number, statusText: string, text: string): T {
  let data: unknown = null
  try {
    data = text ? JSON.parse(text) : null
  } catch {
    /* not JSON: the status says enough */
  }
  if (status >= 200 && status < 300) return data as T
  const err = (data as { error?: { code?: unknown; message?: unknown } } | null)?.error
  throw new WireError(
    typeof err?.code === 'string' ? err.code : 'http_' + status,
    typeof err?.message === 'string' ? err.message : statusText || `the request failed (HTTP ${status})`,
    status,
  )
}

export interface Upload<T> {
  done: Promise<T>
  abort(): void
}

export interface UploadOptions {
  contentType?: string
  onProgress?: (loaded: number, total: number | null) => void
}

/** One page of a paged list: its items and the cursor of the next page (null on the last). */
export interface Page<T> {
  items: T[]
  next: string | null
}

/** The response header carrying a paged list's next cursor: the list itself stays a bare JSON
 * array, the shape Director's UI reads. */
export const NEXT_CURSOR_HEADER = 'X-Next-Cursor'

/** A file the server sent as an attachment: its bytes and the name its header gave. */
export interface FileAnswer {
  blob: Blob
  filename: string
}

export interface HttpClient {
  /** One JSON request; the body, if any, is sent as JSON. */
  call<T>(method: string, path: string, body?: unknown): Promise<T>
  /** A GET of a file (an export): its bytes as they are, named by its Content-Disposition. */
  file(path: string, fallbackName: string): Promise<FileAnswer>
  /** A GET of a paged list: the JSON array and the next page's cursor from its header. */
  page<T>(path: string): Promise<Page<T>>
  /** A file POSTed as it is (or a multipart form: the browser sets its boundary), with the
   * browser's upload progress (which fetch() does not report). */
  upload<T>(path: string, file: Blob | FormData, opts?: UploadOptions): Upload<T>
}

export function createHttpClient(getToken: () => string, base = ''): HttpClient {
  const authorization = () => `Bearer ${getToken()}`

  async function request<T>(method: string, path: string, body?: unknown): Promise<{ data: T; headers: Headers }> {
    const headers: Record<string, string> = { Authorization: authorization() }
    if (body !== undefined) headers['Content-Type'] = 'application/json'
    const text = body === undefined ? undefined : JSON.stringify(body)
    // keepalive lets a draft saved as the page unloads still arrive (browsers cap it at 64 KiB).
    const keepalive = method !== 'GET' && (text?.length ?? 0) < 60_000
    let res: Response
    try {
      res = await fetch(base + path, { method, headers, body: text, keepalive })
    } catch (e) {
      throw new WireError('network', `the app did not answer (${e instanceof Error ? e.message : String(e)})`)
    }
    const data = settle<T>(res.status, res.statusText, res.status === 204 ? '' : await res.text().catch(() => ''))
    return { data, headers: res.headers }
  }

  async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
    return (await request<T>(method, path, body)).data
  }

  async function file(path: string, fallbackName: string): Promise<FileAnswer> {
    let res: Response
    try {
      res = await fetch(base + path, { headers: { Authorization: authorization() } })
    } catch (e) {
      throw new WireError('network', `the app did not answer (${e instanceof Error ? e.message : String(e)})`)
    }
    if (!res.ok) settle(res.status, res.statusText, await res.text().catch(() => ''))
    const named = /filename="([^"]+)"/.exec(res.headers.get('content-disposition') ?? '')
    return { blob: await res.blob(), filename: named?.[1] ?? fallbackName }
  }

  async function page<T>(path: string): Promise<Page<T>> {
    const { data, headers } = await request<T[]>('GET', path)
    return { items: Array.isArray(data) ? data : [], next: headers.get(NEXT_CURSOR_HEADER) || null }
  }

  function upload<T>(path: string, file: Blob | FormData, opts: UploadOptions = {}): Upload<T> {
    const xhr = new XMLHttpRequest()
    const done = new Promise<T>((resolve, reject) => {
      xhr.open('POST', base + path)
      xhr.setRequestHeader('Authorization', authorization())
      if (!(file instanceof FormData)) xhr.setRequestHeader('Content-Type', opts.contentType ?? 'application/octet-stream')
      xhr.responseType = 'text'
      xhr.upload.onprogress = (e) => opts.onProgress?.(e.loaded, e.lengthComputable ? e.total : null)
      xhr.onload = () => {
        try {
          resolve(settle<T>(xhr.status, xhr.statusText || 'the upload failed', xhr.responseText))
        } catch (e) {
          reject(e)
        }
      }
      xhr.onerror = () => reject(new WireError('network', 'the connection to the app was lost during the upload'))
      xhr.onabort = () => reject(new WireError('cancelled', 'the upload was cancelled'))
      xhr.send(file)
    })
    return { done, abort: () => xhr.abort() }
  }

  return { call, file, page, upload }
}

const enc = encodeURIComponent

function query(params: Record<string, string | number | undefined>): string {
  const s = new URLSearchParams()
  for (const [k, v] of Object.entries(params)) if (v !== undefined) s.set(k, String(v))
  const str = s.toString()
  return str ? '?' + str : ''
}

/** The chat window's calls: the sessions list and pages, renaming, search, agents, prefs. */
/** The answer of `DELETE /session/{id}/turn/{conv_id}`. */
export interface TurnDeleted {
  success: boolean
  msg_ids: string[]
  undo_seconds: number
}

export interface ChatApi {
  sessions(): Promise<Session[]>
  /** A page of the chats list (pinned first, then newest), from `cursor` on. */
  sessionsPage(query: { limit: number; cursor?: string }): Promise<Page<Session>>
  pin(id: string, pinned: boolean): Promise<Session>
  /** The chat as a file: `markdown` or `json` (the export format). */
  exportSession(id: string, format: 'markdown' | 'json'): Promise<FileAnswer>
  session(id: string, query?: { limit?: number; before?: number; around?: string }): Promise<SessionPage>
  rename(id: string, name: string): Promise<Session>
  remove(id: string): Promise<void>
  /** Delete a turn with undo (PROTOCOL 8): restorable for `undo_seconds`. */
  deleteTurn(id: string, convId: string): Promise<TurnDeleted>
  restoreTurn(id: string, convId: string): Promise<void>
  search(q: string): Promise<SearchHit[]>
  agents(): Promise<AgentInfo[]>
  prefs(): Promise<Prefs>
  patchPrefs(patch: Prefs): Promise<Prefs>
}

function chatApi(http: HttpClient): ChatApi {
  const { call, file, page } = http
  return {
    sessions: () => call('GET', '/session'),
    sessionsPage: (params) => page(`/session${query(params)}`),
    pin: (id, pinned) => call('PATCH', `/session/${enc(id)}`, { pinned }),
    exportSession: (id, format) =>
      file(`/session/${enc(id)}/export${query({ format })}`, `director-chat-${id}.${format === 'json' ? 'json' : 'md'}`),
    session: (id, params = {}) => call('GET', `/session/${enc(id)}${query(params)}`),
    rename: (id, name) => call('PATCH', `/session/${enc(id)}`, { name }),
    remove: async (id) => {
      await call<Deleted>('DELETE', `/session/${enc(id)}`)
    },
    deleteTurn: (id, conv) => call('DELETE', `/session/${enc(id)}/turn/${enc(conv)}`),
    restoreTurn: async (id, conv) => {
      await call('POST', `/session/${enc(id)}/turn/${enc(conv)}/restore`)
    },
    search: (text) => call('GET', `/search${query({ q: text })}`),
    agents: () => call('GET', '/agent'),
    prefs: () => call('GET', '/prefs'),
    patchPrefs: (patch) => call('PATCH', '/prefs', patch),
  }
}

/** The Settings view's calls: the model settings, model imports, and the Data section's imports. */
export interface SettingsApi {
  models(): Promise<ModelList>
  status(): Promise<ModelStatus>
  choose(choice: Record<string, unknown>): Promise<ModelStatus>
  test(choice?: Record<string, unknown>): Promise<ModelTest>
  importPath(path: string): Promise<ModelImport>
  importJob(id: string): Promise<ModelImport>
  cancelImport(id: string): Promise<ModelImport>
  deleteModel(file: string): Promise<void>
  uploadModel(file: File, opts?: UploadOptions): Upload<ModelImport>
  importDirector(file: File, opts?: UploadOptions): Upload<{ session_ids: string[] }>
  importChat(file: File, opts?: UploadOptions): Upload<{ session_id: string }>
  /** Speech to text (`/config/speech`): the choice, whether it works, the whisper files. */
  speech(): Promise<SpeechStatus>
  /** `api_key`: absent keeps the stored key, a string stores it, null forgets it. */
  setSpeech(choice: SpeechChoice & { api_key?: string | null }): Promise<SpeechStatus>
  /** Model settings (`/config/models/params`): what the user set, the model's defaults. */
  params(): Promise<ModelParamsView>
  setParams(params: ModelParams): Promise<ModelParamsView>
  resetParams(): Promise<ModelParamsView>
  /** A chat's own system prompt (null: the default one). */
  sessionPrompt(sessionId: string): Promise<SessionSystemPrompt>
  setSessionPrompt(sessionId: string, prompt: string | null): Promise<SessionSystemPrompt>
}

function settingsApi(http: HttpClient): SettingsApi {
  const { call, upload } = http
  return {
    models: () => call('GET', '/config/models'),
    status: () => call('GET', '/config/models/status'),
    choose: (choice) => call('PUT', '/config/models/choice', choice),
    test: (choice) => call('POST', '/config/models/test', choice),
    importPath: (path) => call('POST', '/config/models/import', { path, link: false }),
    importJob: (id) => call('GET', `/config/models/imports/${enc(id)}`),
    cancelImport: (id) => call('DELETE', `/config/models/imports/${enc(id)}`),
    deleteModel: async (file) => {
      await call('DELETE', `/config/models/files/${enc(file)}`)
    },
    uploadModel: (file, opts) => upload(`/config/models/upload?name=${enc(file.name)}`, file, opts),
    importDirector: (file, opts) => upload('/session/import/director', file, opts),
    importChat: (file, opts) => upload('/session/import', file, { contentType: 'application/json', ...opts }),
    speech: () => call('GET', '/config/speech'),
    setSpeech: (choice) => call('PUT', '/config/speech', choice),
    params: () => call('GET', '/config/models/params'),
    setParams: (params) => call('PUT', '/config/models/params', params),
    resetParams: () => call('DELETE', '/config/models/params'),
    sessionPrompt: (sid) => call('GET', `/session/${enc(sid)}/system_prompt`),
    setSessionPrompt: (sid, prompt) => call('PUT', `/session/${enc(sid)}/system_prompt`, { system_prompt: prompt }),
  }
}

/** A list's filters and page (PROTOCOL section 6: without them, the whole list). */
export interface ListQuery {
  q?: string
  limit?: number
  cursor?: string
}

/** Each kind's list item, as the kind's list route answers it. */
export interface AssetOf {
  video: VideoAsset
  audio: AudioAsset
  image: ImageAsset
}

/** The media library's calls: Director's collection API, our import and status routes, jobs. */
export interface MediaApi {
  collections(): Promise<Collection[]>
  createCollection(name: string, description?: string): Promise<Collection>
  deleteCollection(id: string): Promise<void>
  assets<K extends AssetKind>(collectionId: string, kind: K, query?: ListQuery): Promise<Page<AssetOf[K]>>
  asset<K extends AssetKind>(collectionId: string, kind: K, id: string): Promise<AssetOf[K]>
  deleteAsset(collectionId: string, kind: AssetKind, id: string): Promise<void>
  /** A multipart upload (field `file`), an import job on the server from its first byte. */
  upload(collectionId: string, file: File, opts?: UploadOptions): Upload<UploadAnswer>
  /** Files the native dialog chose, copied (or referenced in place) by the server: one job each. */
  importPaths(collectionId: string, paths: string[], reference: boolean): Promise<JobInfo[]>
  status(): Promise<MediaStatus>
  setMaxUpload(bytes: number): Promise<MediaStatus>
  setIndexOnImport(on: boolean): Promise<MediaStatus>
  jobs(): Promise<JobInfo[]>
  cancelJob(id: string): Promise<JobInfo>
}

function mediaApi(http: HttpClient): MediaApi {
  const { call, page, upload } = http
  const collection = (id: string) => `/videodb/collection/${enc(id)}`
  return {
    collections: () => call('GET', '/videodb/collection'),
    createCollection: async (name, description = '') =>
      (await call<CollectionCreated>('POST', '/videodb/collection', { name, description })).data.collection,
    deleteCollection: async (id) => {
      await call<Deleted>('DELETE', collection(id))
    },
    assets: (cid, kind, params = {}) => page(`${collection(cid)}/${kind}${query({ ...params, q: params.q || undefined })}`),
    asset: (cid, kind, id) => call('GET', `${collection(cid)}/${kind}/${enc(id)}`),
    deleteAsset: async (cid, kind, id) => {
      await call<Deleted>('DELETE', `${collection(cid)}/${kind}/${enc(id)}`)
    },
    upload: (cid, file, opts) => {
      const form = new FormData()
      form.append('file', file, file.name)
      return upload(`${collection(cid)}/upload`, form, opts)
    },
    importPaths: (cid, paths, reference) => call('POST', '/media/import', { collection_id: cid, paths, reference }),
    status: () => call('GET', '/config/media'),
    setMaxUpload: (bytes) => call('PATCH', '/config/media', { max_upload_bytes: bytes }),
    setIndexOnImport: (on) => call('PATCH', '/config/media', { index_on_import: on }),
    jobs: () => call('GET', '/jobs'),
    cancelJob: (id) => call('DELETE', `/jobs/${enc(id)}`),
  }
}

export interface Api {
  chat: ChatApi
  settings: SettingsApi
  media: MediaApi
}

/** The client the app builds once (in the chat store, which holds the token). */
export function createApi(getToken: () => string, base = ''): Api {
  const http = createHttpClient(getToken, base)
  return { chat: chatApi(http), settings: settingsApi(http), media: mediaApi(http) }
}
