import { mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import ModelPicker from '../src/components/settings/ModelPicker.vue'
import { useSettingsStore } from '../src/stores/settings'
import type { ModelList, ModelStatus } from '../src/types'

const status: ModelStatus = {
  provider: 'embedded', model: 'tiny.gguf', state: 'ready', error: null, progress: null, context_length: 4096,
  loaded: true, llm_configured: true, config: { provider: 'embedded', model: 'tiny.gguf' }, has_api_key: false, key_storage: 'file',
  detected: [
    {
      name: 'Ollama', base_url: 'http://127.0.0.1:11434/v1', models: ['qwen3:0.6b', 'llama3.2:1b'],
      entries: [{ id: 'qwen3:0.6b', size: 522653767 }, { id: 'llama3.2:1b', size: 1321098329 }],
    },
    { name: 'LM Studio', base_url: 'http://127.0.0.1:1234/v1', models: ['qwen2.5-7b-instruct'], entries: [{ id: 'qwen2.5-7b-instruct', size: null }] },
  ],
}
const listing: ModelList = {
  providers: ['builtin', 'embedded', 'openai'], models_dir: '/m', status,
  models: [{ file: 'tiny.gguf', size: 473000, context_length: 4096, error: null }, { file: 'broken.gguf', size: 10, error: 'truncated' }],
}

describe('the one model picker', () => {
  let sent: { method: string; url: string; body?: string }[]
  beforeEach(() => {
    setActivePinia(createPinia())
    sent = []
    vi.stubGlobal('fetch', async (url: string, init: RequestInit = {}) => {
      sent.push({ method: init.method ?? 'GET', url, body: init.body as string | undefined })
      const body = url === '/config/models' ? listing : status
      return new Response(JSON.stringify(body), { status: 200, headers: { 'content-type': 'application/json' } })
    })
  })
  afterEach(() => vi.unstubAllGlobals())

  it('lists local files and every detected server model, with sizes where the server says', () => {
    const settings = useSettingsStore()
    settings.listing = listing
    settings.status = status
    const w = mount(ModelPicker)
    const rows = w.findAll('.picker-row')
    expect(rows.map((r) => r.get('.picker-name').text())).toEqual(['tiny.gguf', 'qwen3:0.6b', 'llama3.2:1b', 'qwen2.5-7b-instruct'])
    expect(rows[0].classes()).toContain('current')
    expect(rows[1].text()).toContain('Ollama')
    expect(rows[1].text()).toContain('523 MB')
    expect(rows[2].text()).toContain('1.32 GB')
    expect(rows[3].text()).toContain('LM Studio')
    expect(rows[3].text()).not.toMatch(/\d+ ?[MG]B/)
  })

  it('uses a server model in one click', async () => {
    const settings = useSettingsStore()
    settings.listing = listing
    settings.status = status
    const w = mount(ModelPicker)
    await w.get('[data-testid="pick-llama3.2:1b"]').trigger('click')
    await new Promise((r) => setTimeout(r, 0))
    const put = sent.find((c) => c.method === 'PUT')
    expect(put?.url).toBe('/config/models/choice')
    expect(JSON.parse(put?.body ?? '{}')).toEqual({ provider: 'openai', base_url: 'http://127.0.0.1:11434/v1', model: 'llama3.2:1b' })
  })
})
