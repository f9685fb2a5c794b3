// The server's media routes as the store and view tests need them, behind a stubbed fetch():
// collections (default not first, so the page must sort it), each kind's list with `?q=`,
// `?limit=` and `?cursor=` (the next cursor in `X-Next-Cursor`), and `GET /jobs`. A test adds
// assets to `library`, answers of its own to `answers` (first match wins), and reads `calls`.
import { vi } from 'vitest'
import type { AssetKind } from '../src/types'

export function json(data: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(data), { status, headers: { 'content-type': 'application/json', ...headers } })
}

/** An asset object as the kind's list answers it: id `v3` for video 3, named `video 3`. */
export function asset(kind: AssetKind, n: number, createdAt: number, more: Record<string, unknown> = {}): Record<string, unknown> {
  const id = `${kind[0]}${n}`
  const base = { id, collection_id: 'default', name: `${kind} ${n}`, created_at: createdAt, type: kind }
  const url = `/media/${id}?sig=1.a`
  if (kind === 'video') return { ...base, description: '', length: 3, stream_url: url, player_url: url, thumbnail_url: `/media/${id}/thumbnail?sig=1.b`, ...more }
  if (kind === 'audio') return { ...base, length: 2, url, ...more }
  return { ...base, description: '', url, ...more }
}

export type Answer = (url: string, method: string, body?: string) => Response | undefined

export class FakeLibrary {
  calls: { method: string; url: string; body?: string }[] = []
  answers: Answer[] = []
  library: Record<AssetKind, Record<string, unknown>[]> = { video: [], audio: [], image: [] }

  install(): this {
    vi.stubGlobal('fetch', async (url: string, init: RequestInit = {}) => this.fetch(url, init))
    return this
  }

  private fetch(url: string, init: RequestInit): Response {
    const method = init.method ?? 'GET'
    const body = init.body as string | undefined
    this.calls.push({ method, url, body })
    for (const a of this.answers) {
      const r = a(url, method, body)
      if (r) return r
    }
    const u = new URL(url, 'http://app')
    if (u.pathname === '/videodb/collection') return json([{ id: 'trips', name: 'Trips', description: '' }, { id: 'default', name: 'Default Collection', description: '' }])
    if (u.pathname === '/jobs') return json([])
    const list = /^\/videodb\/collection\/([^/]+)\/(video|audio|image)$/.exec(u.pathname)
    if (list) {
      const q = u.searchParams.get('q') ?? ''
      const all = list[1] === 'default' ? this.library[list[2] as AssetKind].filter((a) => String(a.name).includes(q)) : []
      const from = Number(u.searchParams.get('cursor') ?? 0)
      const limit = Number(u.searchParams.get('limit') ?? all.length)
      const next: Record<string, string> = from + limit < all.length ? { 'X-Next-Cursor': String(from + limit) } : {}
      return json(all.slice(from, from + limit), 200, next)
    }
    return json({ ok: false, error: { code: 'not_found', message: 'no route in this test' } }, 404)
  }
}
