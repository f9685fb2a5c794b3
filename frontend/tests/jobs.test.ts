import { createPinia, setActivePinia } from 'pinia'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { useChatStore } from '../src/stores/chat'
import { useJobsStore } from '../src/stores/jobs'
import { useMediaStore } from '../src/stores/media'
import type { JobInfo } from '../src/types'
import { asset, FakeLibrary, json } from './fakeLibrary'
import { FakeXhr } from './fakeXhr'

function job(id: string, title: string, more: Partial<JobInfo> = {}): JobInfo {
  return { id, kind: 'import', title, status: 'running', progress: 0, detail: '', started_at: Math.floor(Date.now() / 1000), finished_at: null, error: null, result: null, ...more }
}

describe('the jobs store: uploads, imports, every window’s jobs', () => {
  let calls: FakeLibrary['calls']
  let answers: FakeLibrary['answers']
  let library: FakeLibrary['library']

  beforeEach(() => {
    setActivePinia(createPinia())
    FakeXhr.reset()
    vi.stubGlobal('XMLHttpRequest', FakeXhr)
    ;({ calls, answers, library } = new FakeLibrary().install())
  })
  afterEach(() => {
    vi.unstubAllGlobals()
    delete window.directorDesktop
  })

  it('uploads several files at once, each bar driven by its import job, and lists them', async () => {
    const chat = useChatStore()
    const subscribe = vi.spyOn(chat, 'onUpdates')
    const media = useMediaStore()
    const jobs = useJobsStore()
    media.openCollection('default')
    const done = jobs.uploadFiles([new File([new Uint8Array(1000)], 'clip.mp4'), new File([new Uint8Array(500)], 'tone.wav')], 'default')
    const [a, b] = FakeXhr.all
    expect([a.method, a.url, b.url]).toEqual(['POST', '/videodb/collection/default/upload', '/videodb/collection/default/upload'])
    expect(a.headers['Authorization']).toMatch(/^Bearer /)
    expect(a.headers['Content-Type']).toBeUndefined() // the browser sets multipart's boundary
    expect(((a.body as FormData).get('file') as File).name).toBe('clip.mp4')
    a.progress(400, 1000)
    expect(jobs.rows[0].view).toMatchObject({ label: 'Uploading clip.mp4', value: 0.4 })
    // The server makes each job at the first byte; events arrive in any order.
    jobs.applyJob(job('j2', 'tone.wav', { progress: 0.5 }))
    jobs.applyJob(job('j1', 'clip.mp4', { progress: 0.7, detail: 'Copying' }))
    expect(jobs.tasks.map((t) => t.jobId)).toEqual(['j1', 'j2'])
    expect(jobs.rows.map((r) => r.view.value)).toEqual([0.7, 0.5])
    expect(jobs.rows).toHaveLength(2) // bound jobs are not listed again as other windows' jobs
    jobs.applyJob(job('j1', 'clip.mp4', { status: 'done', progress: 1, result: { asset_id: 'v1' } }))
    jobs.applyJob(job('j2', 'tone.wav', { status: 'done', progress: 1, result: { asset_id: 'a7', duplicate: true } }))
    library.video.push(asset('video', 1, 10))
    a.answer(201, { ...asset('video', 1, 10), name: 'clip.mp4' })
    b.answer(200, { ...asset('audio', 7, 3), name: 'tone.wav', duplicate: true })
    await done
    expect(jobs.tasks.map((t) => t.state)).toEqual(['done', 'duplicate'])
    expect(jobs.rows.map((r) => r.view.label)).toEqual(['Added clip.mp4', 'tone.wav is already in this collection'])
    // The grid hears of the new asset from the server, as every window does.
    subscribe.mock.calls[0][0]({ event_type: 'update_data', update: 'videos', collection_id: 'default' })
    await vi.waitFor(() => expect(media.items.map((i) => i.id)).toEqual(['v1']))
    jobs.clearFinished()
    expect(jobs.rows).toEqual([])
  })

  it('shows a refusal’s message and code', async () => {
    const jobs = useJobsStore()
    const done = jobs.uploadFiles([new File(['hello'], 'notes.txt')], 'default')
    FakeXhr.last!.answer(415, { ok: false, error: { code: 'unsupported_media', message: 'notes.txt is not a video, audio or image' }, message: 'notes.txt is not a video, audio or image' })
    await done
    expect(jobs.tasks[0]).toMatchObject({ state: 'error', error: { code: 'unsupported_media' } })
    expect(jobs.rows[0].view).toMatchObject({ tone: 'error', label: 'Could not add notes.txt', detail: 'notes.txt is not a video, audio or image' })
  })

  it('cancels: the request before its job is known, the job after', async () => {
    answers.push((url, method) => (url === '/jobs/j5' && method === 'DELETE' ? json(job('j5', 'big.mp4', { status: 'cancelled' })) : undefined))
    const jobs = useJobsStore()
    const first = jobs.uploadFiles([new File([new Uint8Array(10)], 'early.mp4')], 'default')
    await jobs.cancel(jobs.tasks[0].key)
    await first
    expect(FakeXhr.last!.aborted).toBe(true)
    expect(jobs.tasks[0].state).toBe('cancelled')
    expect(calls.filter((c) => c.method === 'DELETE')).toEqual([])

    const second = jobs.uploadFiles([new File([new Uint8Array(10)], 'big.mp4')], 'default')
    const xhr = FakeXhr.last!
    jobs.applyJob(job('j5', 'big.mp4'))
    await jobs.cancel(jobs.tasks[1].key)
    await second
    expect(calls.filter((c) => c.method === 'DELETE').map((c) => c.url)).toEqual(['/jobs/j5'])
    expect(xhr.aborted).toBe(true)
    expect(jobs.tasks[1].state).toBe('cancelled')
    expect(jobs.jobs.j5.status).toBe('cancelled')
  })

  it('imports paths from the native dialog, kept in place when asked, ended by their jobs', async () => {
    window.directorDesktop = { chooseFiles: vi.fn(async () => ['/home/me/Videos/a.mp4', '/home/me/Videos/b.mkv']) }
    answers.push((url, method) =>
      url === '/media/import' && method === 'POST' ? json([job('ja', 'a.mp4', { status: 'queued' }), job('jb', 'b.mkv', { status: 'queued' })], 202) : undefined,
    )
    const jobs = useJobsStore()
    expect(jobs.hasNativeDialog()).toBe(true)
    await jobs.importWithDialog('default', true)
    expect(window.directorDesktop.chooseFiles).toHaveBeenCalledWith({ multiple: true })
    const post = calls.find((c) => c.url === '/media/import')!
    expect(JSON.parse(post.body!)).toEqual({ collection_id: 'default', paths: ['/home/me/Videos/a.mp4', '/home/me/Videos/b.mkv'], reference: true })
    expect(jobs.tasks.map((t) => [t.name, t.jobId, t.state])).toEqual([['a.mp4', 'ja', 'processing'], ['b.mkv', 'jb', 'processing']])
    jobs.applyJob(job('ja', 'a.mp4', { status: 'done', result: { asset_id: 'v9' } }))
    jobs.applyJob(job('jb', 'b.mkv', { status: 'error', error: { code: 'corrupt_media', message: 'b.mkv is damaged' } }))
    expect(jobs.tasks.map((t) => t.state)).toEqual(['done', 'error'])
    expect(jobs.rows[1].view.detail).toBe('b.mkv is damaged')
    // A late event of a running state never undoes an end.
    jobs.applyJob(job('ja', 'a.mp4', { status: 'running' }))
    expect(jobs.jobs.ja.status).toBe('done')
  })

  it('lists other windows’ running jobs from GET /jobs and events, cancellable', async () => {
    answers.push((url) => (url === '/jobs' ? json([job('x1', 'film.avi', { kind: 'transcode', progress: 0.3 }), job('x0', 'old.mp4', { status: 'done' })]) : undefined))
    answers.push((url, method) => (url === '/jobs/x1' && method === 'DELETE' ? json(job('x1', 'film.avi', { kind: 'transcode', status: 'cancelled' })) : undefined))
    const chat = useChatStore()
    const subscribe = vi.spyOn(chat, 'onConnects')
    const jobs = useJobsStore()
    subscribe.mock.calls[0][0]() // the socket (re)connected: what ran meanwhile is read again
    await vi.waitFor(() => expect(jobs.rows).toHaveLength(1))
    expect(calls.map((c) => c.url)).toEqual(['/jobs'])
    expect(jobs.rows.map((r) => r.view.label)).toEqual(['Converting film.avi'])
    await jobs.cancelJob('x1')
    expect(jobs.rows).toEqual([])
  })
})
