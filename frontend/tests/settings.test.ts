import { createPinia, setActivePinia } from 'pinia'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { WireError } from '../src/lib/http'
import { useChatStore } from '../src/stores/chat'
import { useJobsStore } from '../src/stores/jobs'
import { useSettingsStore } from '../src/stores/settings'
import type { UpdateEvent } from '../src/types'
import { FakeXhr } from './fakeXhr'

const listing = {
  providers: ['builtin', 'embedded', 'openai'],
  models_dir: '/data/models',
  models: [{ file: 'tiny.gguf', size: 473000, context_length: 4096, error: null }],
  status: { provider: 'builtin', model: null, state: 'ready', error: null, progress: null, context_length: null, llm_configured: true, config: {}, has_api_key: false, detected: [] },
}

function json(data: unknown, status = 200): Response {
  return new Response(JSON.stringify(data), { status, headers: { 'content-type': 'application/json' } })
}

const flush = () => new Promise((r) => setTimeout(r, 0))

describe('the Settings store', () => {
  let calls: { method: string; url: string; body?: string }[]
  let answers: ((url: string, method: string) => Response | undefined)[]

  beforeEach(() => {
    setActivePinia(createPinia())
    calls = []
    answers = []
    vi.stubGlobal('XMLHttpRequest', FakeXhr)
    vi.stubGlobal('fetch', async (url: string, init: RequestInit = {}) => {
      const method = init.method ?? 'GET'
      calls.push({ method, url, body: init.body as string | undefined })
      for (const a of answers) {
        const r = a(url, method)
        if (r) return r
      }
      if (url === '/config/models') return json(listing)
      return json({ ok: false, error: { code: 'not_found', message: 'no route in this test' } }, 404)
    })
  })
  afterEach(() => {
    vi.unstubAllGlobals()
    vi.useRealTimers()
    delete window.directorDesktop
  })

  it('uploads with byte progress, then checking, then lists the model', async () => {
    const s = useSettingsStore()
    const file = new File([new Uint8Array(2000)], 'My Model.gguf')
    const done = s.uploadModel(file)
    const xhr = FakeXhr.last!
    expect(xhr.method).toBe('POST')
    expect(xhr.url).toBe('/config/models/upload?name=My%20Model.gguf')
    expect(xhr.headers['Authorization']).toMatch(/^Bearer /)
    expect(xhr.body).toBe(file)
    expect(s.taskViews[0].view).toMatchObject({ label: 'Uploading My Model.gguf', value: 0 })
    xhr.progress(1000, 2000)
    expect(s.taskViews[0].view.value).toBe(0.5)
    xhr.progress(2000, 2000)
    expect(s.taskViews[0].view).toMatchObject({ label: 'Checking My Model.gguf…', value: null })
    xhr.answer(201, { id: 'j1', file: 'My Model.gguf', method: 'upload', bytes: 2000, total: 2000, progress: 1, state: 'done', error: null })
    await done
    expect(s.tasks[0].phase).toBe('done')
    expect(s.models.map((m) => m.file)).toEqual(['tiny.gguf'])
    expect(calls.map((c) => c.url)).toEqual(['/config/models'])
  })

  it('shows a refused upload with its code and the user’s file name', async () => {
    const s = useSettingsStore()
    const done = s.uploadModel(new File([new Uint8Array(10)], 'cut.gguf'))
    FakeXhr.last!.answer(400, { ok: false, error: { code: 'model_corrupt', message: '.upload-5156bd74.part: the model file is truncated' } })
    await done
    expect(s.tasks[0]).toMatchObject({ phase: 'error', error: { code: 'model_corrupt', message: 'cut.gguf: the model file is truncated' } })
    expect(s.taskViews[0].view).toMatchObject({ tone: 'error', label: 'Could not import cut.gguf' })
  })

  it('refuses a name that is not .gguf without sending it', async () => {
    FakeXhr.last = undefined
    const s = useSettingsStore()
    await s.uploadModel(new File(['x'], 'notes.txt'))
    expect(FakeXhr.last).toBeUndefined()
    expect(s.tasks[0].error?.code).toBe('not_gguf')
  })

  it('a cancelled upload is marked cancelled', async () => {
    const s = useSettingsStore()
    const done = s.uploadModel(new File([new Uint8Array(10)], 'big.gguf'))
    await s.cancel(s.tasks[0].key)
    await done
    expect(s.tasks[0].error?.code).toBe('cancelled')
    expect(s.taskViews[0].view.tone).toBe('info')
  })

  it('the native dialog path is copied by the server, its bar read from its import job', async () => {
    window.directorDesktop = { chooseFiles: vi.fn(async () => ['/home/me/Models/qwen.gguf']) }
    const job = { id: 'j9', kind: 'import', title: 'qwen.gguf', detail: '', started_at: 1, finished_at: null, error: null, result: null }
    answers.push((url, method) => {
      const view = { id: 'j9', file: 'qwen.gguf', method: 'copy', total: 1000, error: null }
      if (url === '/config/models/import' && method === 'POST') return json({ ...view, bytes: 0, progress: 0, state: 'running' }, 202)
      if (url === '/jobs') return json([{ ...job, status: 'running', progress: 0.5 }])
      return undefined
    })
    const s = useSettingsStore()
    expect(s.hasNativeDialog()).toBe(true)
    delete window.directorDesktop
    expect(s.hasNativeDialog()).toBe(false) // looked up at each use: the window installs it late
    window.directorDesktop = { chooseFiles: vi.fn(async () => ['/home/me/Models/qwen.gguf']) }
    await s.importWithDialog()
    expect(window.directorDesktop.chooseFiles).toHaveBeenCalledWith({ multiple: true, file_types: ['GGUF models (*.gguf)'] })
    expect(JSON.parse(calls[0].body!)).toEqual({ path: '/home/me/Models/qwen.gguf', link: false })
    await flush()
    await flush()
    expect(calls.some((c) => c.url === '/jobs')).toBe(true) // /jobs, not the old import route
    expect(calls.some((c) => c.url.startsWith('/config/models/imports'))).toBe(false)
    expect(s.taskViews[0].view).toMatchObject({ label: 'Copying qwen.gguf', value: 0.5 })
    // The socket's `job` event for its end, as every window gets it.
    const jobs = useJobsStore()
    jobs.applyJob({ ...job, status: 'done', progress: 1, finished_at: 2, result: { model: 'qwen-2.gguf' } })
    await flush()
    expect(s.tasks[0].phase).toBe('done')
    expect(s.tasks[0].file).toBe('qwen-2.gguf')
    expect(calls.at(-1)!.url).toBe('/config/models')
  })

  it('reports a Director import and a refused file', async () => {
    const s = useSettingsStore()
    let done = s.importData('director', new File([new Uint8Array(100)], 'director.db'))
    let xhr = FakeXhr.last!
    expect(xhr.url).toBe('/session/import/director')
    xhr.progress(50, 100)
    expect(s.dataView?.value).toBe(0.5)
    xhr.answer(201, { session_ids: ['new', 'mid', 'old'] })
    await done
    expect(s.dataResult).toEqual({ tone: 'ok', text: 'Imported 3 chats from Director.', sessionId: 'new' })
    expect(s.dataTask).toBeNull()

    done = s.importData('director', new File(['hello'], 'notes.db'))
    xhr = FakeXhr.last!
    xhr.answer(400, { ok: false, error: { code: 'not_director_db', message: 'the file is not a VideoDB Director database (director.db)' } })
    await done
    expect(s.dataResult).toMatchObject({ tone: 'error', text: 'Could not import notes.db: the file is not a VideoDB Director database (director.db)' })
  })

  it('imports one chat export as JSON', async () => {
    const s = useSettingsStore()
    const done = s.importData('chat', new File(['{}'], 'chat.json'))
    const xhr = FakeXhr.last!
    expect(xhr.url).toBe('/session/import')
    expect(xhr.headers['Content-Type']).toBe('application/json')
    xhr.answer(201, { session_id: 's1' })
    await done
    expect(s.dataResult).toEqual({ tone: 'ok', text: 'Imported 1 chat.', sessionId: 's1' })
  })

  it('re-reads the model state on update_data models events (the listing while Settings is open)', async () => {
    const chat = useChatStore()
    const subscribe = vi.spyOn(chat, 'onUpdates')
    answers.push((url) => (url === '/config/models/status' ? json({ ...listing.status, provider: 'embedded', model: 'tiny.gguf', state: 'error', error: 'tiny.gguf: the model file is truncated', llm_configured: false }) : undefined))
    const s = useSettingsStore()
    await s.refreshStatus()
    const listener = subscribe.mock.calls[0][0] as (e: UpdateEvent) => void
    const urls = () => calls.map((c) => c.url)
    expect(urls()).toEqual(['/config/models/status'])
    listener({ event_type: 'update_data', update: 'sessions' })
    listener({ event_type: 'update_data', update: 'models', state: 'error' })
    await flush()
    expect(urls()).toEqual(['/config/models/status', '/config/models/status'])
    expect(s.status).toMatchObject({ state: 'error', error: 'tiny.gguf: the model file is truncated' })
    s.show()
    await flush()
    listener({ event_type: 'update_data', update: 'models' })
    await flush()
    expect(urls().slice(2)).toEqual(['/config/models', '/config/speech', '/config/models'])
  })

  it('a failed choice is shown with its code, the status kept', async () => {
    answers.push((url) => (url === '/config/models/choice' ? json({ ok: false, error: { code: 'not_found', message: 'no such model file' } }, 404) : undefined))
    const s = useSettingsStore()
    s.show()
    await flush()
    expect(await s.choose({ provider: 'embedded', model: 'gone.gguf' })).toBe(false)
    expect(s.actionError).toBeInstanceOf(WireError)
    expect(s.actionError).toMatchObject({ code: 'not_found', message: 'no such model file', status: 404 })
    expect(s.status?.provider).toBe('builtin')
  })
})
