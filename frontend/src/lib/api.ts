// The HTTP half of the protocol (PROTOCOL section 5): JSON with `Authorization: Bearer <token>`,
// errors from the `{ok: false, error: {code, message}}` envelope raised as ApiError.
import type { Agent, Prefs, SearchHit, Session, SessionPage } from '../types'

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message)
  }
}

export interface Api {
  sessions(): Promise<Session[]>
  session(id: string, query?: { limit?: number; before?: number; around?: string }): Promise<SessionPage>
  rename(id: string, name: string): Promise<Session>
  remove(id: string): Promise<void>
  search(q: string): Promise<SearchHit[]>
  agents(): Promise<Agent[]>
  prefs(): Promise<Prefs>
  patchPrefs(patch: Prefs): Promise<Prefs>
}

export function createApi(getToken: () => string, base = ''): Api {
  async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { Authorization: `Bearer ${getToken()}` }
    if (body !== undefined) headers['Content-Type'] = 'application/json'
    const text = body === undefined ? undefined : JSON.stringify(body)
    // keepalive lets a draft saved as the page unloads still arrive (browsers cap it at 64 KiB).
    const keepalive = method !== 'GET' && (text?.length ?? 0) < 60_000
    const res = await fetch(base + path, { method, headers, body: text, keepalive })
    const data: unknown = res.status === 204 ? null : await res.json().catch(() => null)
    if (!res.ok) {
      const err = (data as { error?: { code?: string; message?: string } } | null)?.error
      throw new ApiError(res.status, err?.code ?? 'http_' + res.status, err?.message ?? res.statusText)
    }
    return data as T
  }
  const q = (params: Record<string, string | number | undefined>) => {
    const s = new URLSearchParams()
    for (const [k, v] of Object.entries(params)) if (v !== undefined) s.set(k, String(v))
    const str = s.toString()
    return str ? '?' + str : ''
  }
  const enc = encodeURIComponent
  return {
    sessions: () => call('GET', '/session'),
    session: (id, query = {}) => call('GET', `/session/${enc(id)}${q(query)}`),
    rename: (id, name) => call('PATCH', `/session/${enc(id)}`, { name }),
    remove: async (id) => {
      await call('DELETE', `/session/${enc(id)}`)
    },
    search: (text) => call('GET', `/search${q({ q: text })}`),
    agents: () => call('GET', '/agent'),
    prefs: () => call('GET', '/prefs'),
    patchPrefs: (patch) => call('PATCH', '/prefs', patch),
  }
}
