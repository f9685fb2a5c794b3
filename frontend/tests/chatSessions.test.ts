// The chat store's part of the chats list: pages read by cursor as the sidebar asks, the loaded
// part re-read on an update, pins kept in the server's order, exports handed to a download, and
// failures shown in the sidebar's notice. The network is a stub answering as docs/protocol.md
// says `GET /session?limit&cursor` does.
import { createPinia, setActivePinia } from 'pinia'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { useChatStore } from '../src/stores/chat'
import type { Session } from '../src/types'

function chat(i: number, pinned: number | null = null): Session {
  return { session_id: `s${i}`, name: `chat ${i}`, video_id: null, collection_id: null, created_at: 1, updated_at: 10_000 - i, metadata: {}, pinned_at: pinned }
}

let server: Session[]
let requests: string[]
let hold: Promise<void> | null

function list(url: URL): Response {
  const limit = Number(url.searchParams.get('limit'))
  const cursor = url.searchParams.get('cursor')
  const from = cursor === null ? 0 : server.findIndex((s) => s.session_id === cursor) + 1
  const page = server.slice(from, from + limit)
  const more = from + limit < server.length
  return new Response(JSON.stringify(page), { headers: more ? { 'x-next-cursor': page[page.length - 1].session_id } : {} })
}

beforeEach(() => {
  setActivePinia(createPinia())
  server = Array.from({ length: 250 }, (_, i) => chat(i))
  requests = []
  hold = null
  vi.stubGlobal('fetch', async (path: string, init: RequestInit = {}) => {
    const url = new URL(path, 'http://app')
    requests.push(`${init.method ?? 'GET'} ${url.pathname}${url.search}`)
    if (hold) await hold
    if (url.pathname === '/session') return list(url)
    const pinning = /^\/session\/([^/]+)$/.exec(url.pathname)
    if (pinning && init.method === 'PATCH') {
      const found = server.find((s) => s.session_id === pinning[1])
      if (!found) return new Response(JSON.stringify({ ok: false, error: { code: 'not_found', message: 'no such session' } }), { status: 404 })
      found.pinned_at = JSON.parse(String(init.body)).pinned ? 99 : null
      return new Response(JSON.stringify(found))
    }
    if (url.pathname.endsWith('/export')) {
      return new Response('# chat 3\n', { headers: { 'content-disposition': 'attachment; filename="director-chat-s3.md"' } })
    }
    return new Response('null', { status: 404 })
  })
})
afterEach(() => {
  vi.unstubAllGlobals()
  vi.restoreAllMocks()
})

const ids = (list: Session[]) => list.map((s) => s.session_id)

describe('the chats list in the store', () => {
  it('reads a page, then the next ones by cursor, never the whole list', async () => {
    const store = useChatStore()
    await store.refreshSessions()
    expect(ids(store.sessions)).toEqual(ids(server.slice(0, 100)))
    expect(store.sessionsNext).toBe('s99')
    await store.loadMoreSessions()
    await store.loadMoreSessions()
    expect(ids(store.sessions)).toEqual(ids(server))
    expect(store.sessionsNext).toBeNull()
    await store.loadMoreSessions() // nothing more to ask for
    expect(requests).toEqual(['GET /session?limit=100', 'GET /session?limit=100&cursor=s99', 'GET /session?limit=100&cursor=s199'])
  })

  it('re-reads as many chats as are loaded when the list changes', async () => {
    const store = useChatStore()
    await store.refreshSessions()
    await store.loadMoreSessions()
    server.unshift(chat(999))
    await store.refreshSessions()
    expect(requests.at(-1)).toBe('GET /session?limit=200')
    expect(ids(store.sessions)).toEqual(ids(server.slice(0, 200)))
    expect(store.sessionsNext).toBe('s198')
  })

  it('drops a page that was asked for before a re-read', async () => {
    const store = useChatStore()
    await store.refreshSessions()
    let release = () => {}
    hold = new Promise((resolve) => (release = resolve))
    const more = store.loadMoreSessions()
    const again = store.refreshSessions()
    release()
    await Promise.all([more, again])
    expect(ids(store.sessions)).toEqual(ids(server.slice(0, 100)))
    expect(store.sessionsNext).toBe('s99')
  })

  it('keeps pinned chats first after a pin, and says when a pin fails', async () => {
    const store = useChatStore()
    await store.refreshSessions()
    await store.pin('s42', true)
    expect(ids(store.sessions).slice(0, 2)).toEqual(['s42', 's0'])
    expect(store.sessions[0].pinned_at).toBe(99)
    await store.pin('gone', true)
    expect(store.sidebarNotice).toBe('Could not pin the chat: no such session')
  })

  it('hands an export to a download named as the server named it', async () => {
    const store = useChatStore()
    const clicked: { href: string; download: string }[] = []
    vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(function (this: HTMLAnchorElement) {
      clicked.push({ href: this.href, download: this.download })
    })
    URL.createObjectURL = vi.fn(() => 'blob:http://app/1')
    URL.revokeObjectURL = vi.fn()
    await store.exportSession('s3', 'markdown')
    expect(requests.at(-1)).toBe('GET /session/s3/export?format=markdown')
    expect(clicked).toEqual([{ href: 'blob:http://app/1', download: 'director-chat-s3.md' }])
    expect(store.sidebarNotice).toBe('')
  })
})
