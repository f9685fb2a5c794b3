import { createPinia, setActivePinia } from 'pinia'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { useChatSocket } from '../src/composables/useChatSocket'
import { useChatStore } from '../src/stores/chat'
import { PAGE, useMediaStore } from '../src/stores/media'
import { asset, FakeLibrary, json } from './fakeLibrary'
import { FakeSocket } from './fakeSocket'

const flush = () => new Promise((r) => setTimeout(r, 0))

describe('the media store', () => {
  let calls: FakeLibrary['calls']
  let answers: FakeLibrary['answers']
  let library: FakeLibrary['library']

  beforeEach(() => {
    setActivePinia(createPinia())
    ;({ calls, answers, library } = new FakeLibrary().install())
  })
  afterEach(() => {
    vi.unstubAllGlobals()
    delete window.directorDesktop
  })

  it('lists collections with the default one first, and opens one', async () => {
    const media = useMediaStore()
    await media.start()
    expect(media.collections.map((c) => c.id)).toEqual(['default', 'trips'])
    expect(calls.map((c) => c.url)).toEqual(['/videodb/collection'])
    media.openCollection('default')
    expect(media.view).toBe('collection')
  })

  it('merges the three kinds newest first, a page at a time, to the end', async () => {
    // 100 videos and 30 images interleaved in time, no audio: 130 items, PAGE (60) a page.
    for (let i = 0; i < 100; i++) library.video.push(asset('video', i, 1000 - i * 2))
    for (let i = 0; i < 30; i++) library.image.push(asset('image', i, 999 - i * 2))
    const media = useMediaStore()
    media.openCollection('default')
    await vi.waitFor(() => expect(media.loading).toBe(false))
    expect(media.items).toHaveLength(PAGE)
    expect(media.items.slice(0, 4).map((i) => i.id)).toEqual(['v0', 'i0', 'v1', 'i1'])
    expect(media.finished).toBe(false)
    const firstUrls = calls.filter((c) => c.url.includes('/video?') || c.url.includes('/audio?') || c.url.includes('/image?')).map((c) => c.url)
    expect(firstUrls).toEqual([
      `/videodb/collection/default/video?limit=${PAGE}`,
      `/videodb/collection/default/audio?limit=${PAGE}`,
      `/videodb/collection/default/image?limit=${PAGE}`,
    ])
    await media.loadMore()
    await media.loadMore()
    expect(media.items).toHaveLength(130)
    expect(media.finished).toBe(true)
    const times = media.items.map((i) => i.createdAt)
    expect([...times].sort((a, b) => b - a)).toEqual(times)
    expect(new Set(media.items.map((i) => i.kind + i.id)).size).toBe(130)
    expect(calls.some((c) => c.url === `/videodb/collection/default/video?limit=${PAGE}&cursor=${PAGE}`)).toBe(true)
  })

  it('searches by name and filters by kind', async () => {
    library.video.push(asset('video', 1, 5), { ...asset('video', 2, 4), name: 'holiday beach' })
    library.audio.push({ ...asset('audio', 3, 6), name: 'holiday song' })
    const media = useMediaStore()
    media.openCollection('default')
    await vi.waitFor(() => expect(media.items).toHaveLength(3))
    media.setQuery('holiday')
    await vi.waitFor(() => expect(media.items.map((i) => i.name)).toEqual(['holiday song', 'holiday beach']))
    expect(calls.at(-1)!.url).toContain('q=holiday')
    calls.length = 0
    media.setFilter('video')
    await vi.waitFor(() => expect(media.items.map((i) => i.name)).toEqual(['holiday beach']))
    expect(calls.map((c) => c.url)).toEqual([`/videodb/collection/default/video?q=holiday&limit=${PAGE}`])
  })

  it('creates a collection and opens it; a refused delete throws the server’s message', async () => {
    answers.push((url, method) =>
      url === '/videodb/collection' && method === 'POST'
        ? json({ message: 'ok', data: { success: true, message: 'ok', collection: { id: 'c9', name: 'Reels', description: '' } } }, 201)
        : undefined,
    )
    answers.push((url, method) =>
      url === '/videodb/collection/trips' && method === 'DELETE'
        ? json({ ok: false, error: { code: 'conflict', message: 'Collection has non-zero videos/audios/images' }, message: 'Collection has non-zero videos/audios/images' }, 409)
        : undefined,
    )
    const media = useMediaStore()
    await media.createCollection('  Reels ')
    expect(JSON.parse(calls.find((c) => c.method === 'POST')!.body!)).toEqual({ name: 'Reels', description: '' })
    expect(media.collectionId).toBe('c9')
    expect(media.view).toBe('collection')
    await expect(media.deleteCollection('trips')).rejects.toThrow('non-zero videos/audios/images')
  })

  it('re-reads the grid on update_data videos for the collection shown', async () => {
    const chat = useChatStore()
    const subscribe = vi.spyOn(chat, 'onUpdates')
    const media = useMediaStore()
    const listener = subscribe.mock.calls[0][0]
    media.openCollection('default')
    await vi.waitFor(() => expect(media.loading).toBe(false))
    library.video.push(asset('video', 4, 50))
    listener({ event_type: 'update_data', update: 'videos', collection_id: 'trips' })
    await new Promise((r) => setTimeout(r, 200))
    expect(media.items).toEqual([])
    listener({ event_type: 'update_data', update: 'videos', collection_id: 'default' })
    await vi.waitFor(() => expect(media.items.map((i) => i.id)).toEqual(['v4']))
  })

  it('"Chat about this video" and the video view send inputs carrying its ids', async () => {
    const chat = useChatStore()
    const fake = new FakeSocket()
    chat.link = useChatSocket({ url: 'http://app/chat', getToken: () => 't', io: () => fake })
    fake.serverConnect()
    const media = useMediaStore()
    library.video.push(asset('video', 1, 5))
    media.openCollection('default')
    await vi.waitFor(() => expect(media.items).toHaveLength(1))
    const clip = media.items[0]
    media.chatAbout(clip)
    expect(media.view).toBe('chat')
    expect(chat.context).toMatchObject({ video_id: 'v1', collection_id: 'default', name: 'video 1' })
    await chat.send('what happens here?')
    const sent = fake.take('chat').map((e) => e.payload)
    expect(sent[0]).toMatchObject({ video_id: 'v1', collection_id: 'default', content: [{ type: 'text', text: 'what happens here?' }] })

    // The video view: the chat on screen is about it, so the next input goes there too.
    await media.openAsset(clip)
    const sid = chat.currentId
    media.askAbout(clip, 'and then?')
    await flush()
    expect(chat.currentId).toBe(sid)
    // Another video: a new chat about that one.
    const other = { ...clip, id: 'v2', name: 'other' }
    media.askAbout(other, 'and this one?')
    await flush()
    expect(chat.currentId).not.toBe(sid)
    const more = fake.take('chat').map((e) => [e.payload.session_id === sid, e.payload.video_id])
    expect(more).toEqual([[true, 'v1'], [false, 'v2']])
    // Cleared: the inputs say so with nulls, so the server forgets it too.
    chat.clearContext()
    await chat.send('nothing in particular')
    expect(fake.take('chat')[0].payload).toMatchObject({ video_id: null, collection_id: null })
  })
})
