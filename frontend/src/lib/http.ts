// The app's one HTTP client (the HTTP API of docs/protocol.md): every call carries the launch
// token as `Authorization: Bearer <token>`, reads JSON, and fails with a WireError, made from the
// error envelope `{"ok": false, "error": {code, message}}` or, when the answer is not one (a proxy
// page, a dropped connection), from the HTTP status. The endpoints are grouped by what they serve:
// `chat` (sessions, prefs, search, agents) and `settings` (model settings and imports).
import type {
  AgentInfo,
  Deleted,
  ModelImport,
  ModelList,
  ModelStatus,
  ModelTest,
  Prefs,
  SearchHit,
  Session,
  SessionPage,
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

export interface HttpClient {
  /** One JSON request; the body, if any, is sent as JSON. */
  call<T>(method: string, path: string, body?: unknown): Promise<T>
  /** A file POSTed as it is, with the browser's upload progress (which fetch() does not report). */
  upload<T>(path: string, file: Blob, opts?: UploadOptions): Upload<T>
}

export function createHttpClient(getToken: () => string, base = ''): HttpClient {
  const authorization = () => `Bearer ${getToken()}`

  async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
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
    return settle<T>(res.status, res.statusText, res.status === 204 ? '' : await res.text().catch(() => ''))
  }

  function upload<T>(path: string, file: Blob, opts: UploadOptions = {}): Upload<T> {
    const xhr = new XMLHttpRequest()
    const done = new Promise<T>((resolve, reject) => {
      xhr.open('POST', base + path)
      xhr.setRequestHeader('Authorization', authorization())
      xhr.setRequestHeader('Content-Type', opts.contentType ?? 'application/octet-stream')
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

  return { call, upload }
}

const enc = encodeURIComponent

function query(params: Record<string, string | number | undefined>): string {
  const s = new URLSearchParams()
  for (const [k, v] of Object.entries(params)) if (v !== undefined) s.set(k, String(v))
  const str = s.toString()
  return str ? '?' + str : ''
}

/** The chat window's calls: the sessions list and pages, renaming, search, agents, prefs. */
export interface ChatApi {
  sessions(): Promise<Session[]>
  session(id: string, query?: { limit?: number; before?: number; around?: string }): Promise<SessionPage>
  rename(id: string, name: string): Promise<Session>
  remove(id: string): Promise<void>
  search(q: string): Promise<SearchHit[]>
  agents(): Promise<AgentInfo[]>
  prefs(): Promise<Prefs>
  patchPrefs(patch: Prefs): Promise<Prefs>
}

function chatApi(http: HttpClient): ChatApi {
  const { call } = http
  return {
    sessions: () => call('GET', '/session'),
    session: (id, params = {}) => call('GET', `/session/${enc(id)}${query(params)}`),
    rename: (id, name) => call('PATCH', `/session/${enc(id)}`, { name }),
    remove: async (id) => {
      await call<Deleted>('DELETE', `/session/${enc(id)}`)
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
  }
}

export interface Api {
  chat: ChatApi
  settings: SettingsApi
}

/** The client the app builds once (in the chat store, which holds the token). */
export function createApi(getToken: () => string, base = ''): Api {
  const http = createHttpClient(getToken, base)
  return { chat: chatApi(http), settings: settingsApi(http) }
}
