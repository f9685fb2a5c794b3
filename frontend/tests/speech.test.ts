import { mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import SpeechSettings from '../src/components/settings/SpeechSettings.vue'
import { speechEndpointChoice, speechView } from '../src/lib/speech'
import { useChatStore } from '../src/stores/chat'
import { useSettingsStore } from '../src/stores/settings'
import type { SpeechStatus, UpdateEvent } from '../src/types'

const base: SpeechStatus = {
  providers: ['none', 'whisper', 'openai'],
  config: { provider: 'none' },
  configured: false,
  ok: false,
  error: null,
  transcriber: null,
  has_api_key: false,
  key_storage: 'file',
  models_dir: '/data/models',
  models: [],
}

function json(data: unknown, status = 200): Response {
  return new Response(JSON.stringify(data), { status, headers: { 'content-type': 'application/json' } })
}
const flush = () => new Promise((r) => setTimeout(r, 0))

describe('the speech status line and endpoint body', () => {
  it('says what transcribes and why it fails', () => {
    expect(speechView(null).tone).toBe('busy')
    expect(speechView(base)).toMatchObject({ label: 'No speech to text', tone: 'info' })
    expect(speechView({ ...base, config: { provider: 'whisper', model: 'ggml-base.en.bin' }, configured: true, ok: true, transcriber: 'whisper.cpp (ggml-base.en.bin)' }))
      .toEqual({ label: 'Transcribing with whisper.cpp (ggml-base.en.bin)', tone: 'ok' })
    expect(speechView({ ...base, config: { provider: 'openai', base_url: 'http://x/v1' }, configured: true, transcriber: 'http://x/v1', error: { code: 'speech_unreachable', message: 'no answer' } }))
      .toMatchObject({ label: 'http://x/v1 does not work', tone: 'error', detail: 'no answer' })
  })

  it('sends a key only when typed, null to forget it, and no empty model', () => {
    expect(speechEndpointChoice({ baseUrl: ' http://h:8080 ', model: ' ', apiKey: '', forgetKey: false })).toEqual({ provider: 'openai', base_url: 'http://h:8080' })
    expect(speechEndpointChoice({ baseUrl: 'http://h', model: 'whisper-1', apiKey: ' k ', forgetKey: false })).toEqual({ provider: 'openai', base_url: 'http://h', model: 'whisper-1', api_key: 'k' })
    expect(speechEndpointChoice({ baseUrl: 'http://h', model: '', apiKey: 'k', forgetKey: true })).toEqual({ provider: 'openai', base_url: 'http://h', api_key: null })
  })
})

describe('the Speech section', () => {
  let calls: { method: string; url: string; body?: string }[]
  let current: SpeechStatus

  beforeEach(() => {
    setActivePinia(createPinia())
    calls = []
    current = { ...base, models: [{ file: 'ggml-base.en.bin', size: 147951465, error: null }, { file: 'ggml-bad.bin', size: 10, error: 'not a whisper model' }] }
    vi.stubGlobal('fetch', async (url: string, init: RequestInit = {}) => {
      const method = init.method ?? 'GET'
      calls.push({ method, url, body: init.body as string | undefined })
      if (url === '/config/speech' && method === 'GET') return json(current)
      if (url === '/config/speech' && method === 'PUT') {
        const choice = JSON.parse(init.body as string)
        if (choice.model === 'gone.bin') return json({ ok: false, error: { code: 'not_found', message: 'no such whisper file' } }, 404)
        current = { ...current, config: { provider: choice.provider, model: choice.model, base_url: choice.base_url }, configured: choice.provider !== 'none', ok: true, transcriber: choice.model ?? null, has_api_key: Boolean(choice.api_key) }
        return json(current)
      }
      if (url === '/config/models') return json({ providers: [], models_dir: '/data/models', models: [], status: null })
      return json({ ok: false, error: { code: 'not_found', message: 'no route in this test' } }, 404)
    })
  })
  afterEach(() => vi.unstubAllGlobals())

  it('lists the whisper files and uses one with PUT', async () => {
    const s = useSettingsStore()
    const w = mount(SpeechSettings)
    s.show()
    await flush()
    expect(w.get('[data-testid=speech-status]').text()).toContain('No speech to text')
    await w.get('[data-testid=speech-provider-whisper] input').setValue(true)
    const rows = w.findAll('[data-testid=whisper-row]')
    expect(rows.map((r) => r.attributes('data-file'))).toEqual(['ggml-base.en.bin', 'ggml-bad.bin'])
    expect(rows[1].get('button').attributes('disabled')).toBeDefined()
    expect(rows[1].get('[data-testid=whisper-error]').text()).toContain('not a whisper model')
    expect(w.text()).toContain('/data/models')
    await rows[0].get('button').trigger('click')
    await flush()
    const put = calls.find((c) => c.method === 'PUT')
    expect(JSON.parse(put!.body!)).toEqual({ provider: 'whisper', model: 'ggml-base.en.bin' })
    expect(w.get('[data-testid=speech-status]').attributes('data-provider')).toBe('whisper')
    expect(w.get('[data-file="ggml-base.en.bin"]').text()).toContain('In use')
  })

  it('says where to put a whisper file when there is none', async () => {
    current = { ...current, models: [] }
    const w = mount(SpeechSettings)
    useSettingsStore().show()
    await flush()
    await w.get('[data-testid=speech-provider-whisper] input').setValue(true)
    expect(w.get('[data-testid=no-whisper]').text()).toContain('ggml-*.bin')
    expect(w.get('[data-testid=no-whisper]').text()).toContain('the models folder, /data/models')
    current = { ...current, models_dir: '' }
    await useSettingsStore().refreshSpeech()
    await flush()
    expect(w.get('[data-testid=no-whisper]').text()).toMatch(/in the models folder\.$/)
  })

  it('saves an endpoint without showing the key back, and shows a failure with its code', async () => {
    const s = useSettingsStore()
    const w = mount(SpeechSettings)
    s.show()
    await flush()
    await w.get('[data-testid=speech-provider-openai] input').setValue(true)
    await w.get('[data-testid=speech-url]').setValue('http://127.0.0.1:8080')
    await w.get('[data-testid=speech-model]').setValue('whisper-1')
    await w.get('[data-testid=speech-key]').setValue('secret')
    await w.get('[data-testid=speech-form]').trigger('submit')
    await flush()
    const put = calls.filter((c) => c.method === 'PUT').pop()
    expect(JSON.parse(put!.body!)).toEqual({ provider: 'openai', base_url: 'http://127.0.0.1:8080', model: 'whisper-1', api_key: 'secret' })
    expect((w.get('[data-testid=speech-key]').element as HTMLInputElement).value).toBe('')
    expect(w.get('[data-testid=speech-key]').attributes('placeholder')).toContain('A key is stored')
    expect(await s.chooseSpeech({ provider: 'whisper', model: 'gone.bin' })).toBe(false)
    await flush()
    expect(w.get('[data-testid=speech-error]').text()).toContain('no such whisper file (not_found)')
  })

  it('re-reads on update_data speech while Settings is open', async () => {
    const chat = useChatStore()
    const subscribe = vi.spyOn(chat, 'onUpdates')
    const s = useSettingsStore()
    s.show()
    await flush()
    const listener = subscribe.mock.calls[0][0] as (e: UpdateEvent) => void
    const speechGets = () => calls.filter((c) => c.url === '/config/speech').length
    expect(speechGets()).toBe(1)
    listener({ event_type: 'update_data', update: 'speech' })
    await flush()
    expect(speechGets()).toBe(2)
    s.hide()
    listener({ event_type: 'update_data', update: 'speech' })
    await flush()
    expect(speechGets()).toBe(2)
  })
})
