import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createApi, createHttpClient, WireError } from '../src/lib/http'

function answer(status: number, body: string | null, statusText = ''): Response {
  return new Response(body, { status, statusText, headers: body === null ? {} : { 'content-type': 'application/json' } })
}

describe('the HTTP client', () => {
  let calls: { url: string; init: RequestInit }[]
  let next: () => Response | Promise<Response>

  beforeEach(() => {
    calls = []
    next = () => answer(200, '{}')
    vi.stubGlobal('fetch', async (url: string, init: RequestInit) => {
      calls.push({ url, init })
      return next()
    })
  })
  afterEach(() => vi.unstubAllGlobals())

  it('sends the token read at each call, and JSON bodies', async () => {
    let token = 'one'
    const http = createHttpClient(() => token, 'http://app')
    next = () => answer(200, '{"a": 1}')
    expect(await http.call('PATCH', '/prefs', { theme: 'dark' })).toEqual({ a: 1 })
    token = 'two'
    await http.call('GET', '/session')
    expect(calls.map((c) => c.url)).toEqual(['http://app/prefs', 'http://app/session'])
    expect(calls[0].init.headers).toEqual({ Authorization: 'Bearer one', 'Content-Type': 'application/json' })
    expect(calls[0].init.body).toBe('{"theme":"dark"}')
    expect(calls[0].init.keepalive).toBe(true) // a draft saved as the page unloads still arrives
    expect(calls[1].init.headers).toEqual({ Authorization: 'Bearer two' })
    expect(calls[1].init.keepalive).toBe(false)
  })

  it('answers null for 204 No Content', async () => {
    next = () => answer(204, null)
    expect(await createHttpClient(() => 't').call('DELETE', '/session/x')).toBeNull()
  })

  it('raises the error envelope as a WireError with the HTTP status', async () => {
    next = () => answer(404, JSON.stringify({ ok: false, error: { code: 'not_found', message: 'no such session' } }), 'Not Found')
    const err = await createHttpClient(() => 't').call('GET', '/session/x').catch((e: unknown) => e)
    expect(err).toBeInstanceOf(WireError)
    expect(err).toBeInstanceOf(Error)
    expect(err).toMatchObject({ code: 'not_found', message: 'no such session', status: 404, name: 'WireError' })
  })

  it('raises a failure that is not an envelope from its status', async () => {
    next = () => answer(502, '<html>Bad Gateway</html>', 'Bad Gateway')
    await expect(createHttpClient(() => 't').call('GET', '/prefs')).rejects.toMatchObject({ code: 'http_502', message: 'Bad Gateway', status: 502 })
    next = () => answer(500, null)
    await expect(createHttpClient(() => 't').call('GET', '/prefs')).rejects.toMatchObject({ code: 'http_500', message: 'the request failed (HTTP 500)' })
  })

  it('raises a lost connection as a WireError without a status', async () => {
    next = () => Promise.reject(new TypeError('Failed to fetch'))
    await expect(createHttpClient(() => 't').call('GET', '/prefs')).rejects.toMatchObject({ code: 'network', status: 0 })
  })

  it('groups the endpoints on the one client', async () => {
    const api = createApi(() => 't')
    next = () => answer(200, '[]')
    await api.chat.session('a b', { limit: 50, before: undefined })
    await api.chat.search('héllo')
    await api.settings.importJob('j/1')
    expect(calls.map((c) => `${c.init.method} ${c.url}`)).toEqual([
      'GET /session/a%20b?limit=50',
      'GET /search?q=h%C3%A9llo',
      'GET /config/models/imports/j%2F1',
    ])
  })
})

describe('the media calls', () => {
  let calls: { url: string; init: RequestInit }[]
  let next: () => Response

  beforeEach(() => {
    calls = []
    vi.stubGlobal('fetch', async (url: string, init: RequestInit) => {
      calls.push({ url, init })
      return next()
    })
  })
  afterEach(() => vi.unstubAllGlobals())

  it('reads a page of a list and its next cursor from the header; the last page has none', async () => {
    const api = createApi(() => 't')
    next = () => new Response('[{"id": "v1"}]', { status: 200, headers: { 'content-type': 'application/json', 'x-next-cursor': '17:v1' } })
    expect(await api.media.assets('default', 'video', { q: '', limit: 2 })).toEqual({ items: [{ id: 'v1' }], next: '17:v1' })
    next = () => answer(200, '[]')
    expect(await api.media.assets('my coll', 'image', { q: 'a&b', limit: 2, cursor: '17:v1' })).toEqual({ items: [], next: null })
    expect(calls.map((c) => c.url)).toEqual(['/videodb/collection/default/video?limit=2', '/videodb/collection/my%20coll/image?q=a%26b&limit=2&cursor=17%3Av1'])
  })

  it('unwraps Director’s collection envelope and sends imports and job cancels', async () => {
    const api = createApi(() => 't')
    next = () => answer(201, JSON.stringify({ message: 'ok', data: { success: true, message: 'ok', collection: { id: 'c1', name: 'Reels', description: '' } } }))
    expect(await api.media.createCollection('Reels')).toEqual({ id: 'c1', name: 'Reels', description: '' })
    next = () => answer(202, '[]')
    await api.media.importPaths('default', ['/a.mp4'], true)
    next = () => answer(200, '{}')
    await api.media.cancelJob('j 1')
    await api.media.deleteAsset('default', 'audio', 'a1')
    expect(calls.map((c) => `${c.init.method} ${c.url} ${c.init.body ?? ''}`)).toEqual([
      'POST /videodb/collection {"name":"Reels","description":""}',
      'POST /media/import {"collection_id":"default","paths":["/a.mp4"],"reference":true}',
      'DELETE /jobs/j%201 ',
      'DELETE /videodb/collection/default/audio/a1 ',
    ])
  })
})

describe('WireError.from', () => {
  it('keeps a WireError and wraps anything else', () => {
    const e = new WireError('too_large', 'too large', 413)
    expect(WireError.from(e)).toBe(e)
    expect(WireError.from(new Error('boom'))).toMatchObject({ code: 'error', message: 'boom', status: 0 })
    expect(WireError.from('nope')).toMatchObject({ code: 'error', message: 'nope' })
  })
})
