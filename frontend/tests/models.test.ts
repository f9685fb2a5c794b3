import { describe, expect, it } from 'vitest'
import {
  formatBytes,
  formatContext,
  importView,
  isGguf,
  loadView,
  openaiChoice,
  taskFailed,
  taskFromJob,
  testView,
  uploadProgress,
  uploadTask,
} from '../src/lib/models'
import type { ModelImport, ModelStatus } from '../src/types'

function status(over: Partial<ModelStatus>): ModelStatus {
  return {
    provider: 'embedded',
    model: 'tiny.gguf',
    state: 'ready',
    error: null,
    progress: null,
    context_length: 4096,
    loaded: true,
    llm_configured: true,
    config: { provider: 'embedded', model: 'tiny.gguf' },
    has_api_key: false,
    key_storage: 'keyring',
    detected: null,
    ...over,
  }
}

function job(over: Partial<ModelImport>): ModelImport {
  return { id: 'j1', file: 'm.gguf', method: 'copy', bytes: 0, total: 1000, progress: 0, state: 'running', error: null, ...over }
}

describe('sizes and context lengths', () => {
  it('formats bytes with decimal units', () => {
    expect(formatBytes(0)).toBe('0 B')
    expect(formatBytes(999)).toBe('999 B')
    expect(formatBytes(1536)).toBe('1.54 KB')
    expect(formatBytes(470_000)).toBe('470 KB')
    expect(formatBytes(2_000_000_000)).toBe('2 GB')
    expect(formatBytes(null)).toBe('—')
    expect(formatBytes(-1)).toBe('—')
  })
  it('formats the context length, or says it is unknown', () => {
    expect(formatContext(4096)).toBe('4,096 tokens')
    expect(formatContext(null)).toBe('context unknown')
  })
  it('accepts only .gguf names', () => {
    expect(isGguf('Qwen2.5-3B.Q4_K_M.GGUF')).toBe(true)
    expect(isGguf('model.gguf.part')).toBe(false)
    expect(isGguf('notes.txt')).toBe(false)
  })
})

describe('the chosen model’s load state', () => {
  it('is an indeterminate bar while loading (llama.cpp reports no progress)', () => {
    const v = loadView(status({ state: 'loading', loaded: false }))
    expect(v.tone).toBe('busy')
    expect(v.value).toBeNull()
    expect(v.label).toContain('tiny.gguf')
  })
  it('is a determinate bar if the server ever reports progress', () => {
    expect(loadView(status({ state: 'loading', progress: 1.7 })).value).toBe(1)
  })
  it('says ready with the context length, without a bar', () => {
    const v = loadView(status({}))
    expect(v).toMatchObject({ tone: 'ok' })
    expect(v.value).toBeUndefined()
    expect(v.label).toContain('4,096 tokens')
  })
  it('shows the reason of an error', () => {
    const v = loadView(status({ state: 'error', error: 'broken.gguf: the model file is truncated', llm_configured: false }))
    expect(v.tone).toBe('error')
    expect(v.detail).toBe('broken.gguf: the model file is truncated')
  })
  it('names the server of an OpenAI-compatible choice', () => {
    const v = loadView(status({ provider: 'openai', model: 'qwen3', config: { provider: 'openai', model: 'qwen3', base_url: 'http://127.0.0.1:11434/v1' } }))
    expect(v.label).toBe('qwen3 at http://127.0.0.1:11434/v1 is ready · 4,096 tokens')
  })
  it('the built-in assistant is always available', () => {
    expect(loadView(status({ provider: 'builtin', model: null, config: {} })).tone).toBe('info')
    expect(loadView(null).value).toBeNull()
  })
})

describe('import progress', () => {
  it('an upload goes from bytes sent to checking to done', () => {
    let t = uploadTask('u1', 'tiny.gguf', 2000)
    expect(importView(t)).toMatchObject({ value: 0, tone: 'busy', label: 'Uploading tiny.gguf' })
    t = uploadProgress(t, 500, 2000)
    const half = importView(t)
    expect(half.value).toBe(0.25)
    expect(half.detail).toBe('500 B of 2 KB (25%)')
    t = uploadProgress(t, 2000, 2000)
    expect(t.phase).toBe('checking')
    expect(importView(t)).toMatchObject({ value: null, label: 'Checking tiny.gguf…' })
    const done = taskFromJob(job({ file: 'tiny-2.gguf', method: 'upload', bytes: 2000, total: 2000, progress: 1, state: 'done' }), 'u1', 'tiny.gguf')
    expect(done.key).toBe('u1')
    expect(importView(done)).toMatchObject({ tone: 'ok', label: 'Imported tiny-2.gguf', detail: '2 KB' })
    expect(importView(done).value).toBeUndefined()
  })
  it('an upload of unknown length has an indeterminate bar', () => {
    const t = uploadProgress(uploadTask('u', 'm.gguf', 0), 300, null)
    expect(t.phase).toBe('sending')
    expect(importView(t).value).toBeNull()
  })
  it('a polled copy maps its server state', () => {
    expect(importView(taskFromJob(job({ bytes: 400 })))).toMatchObject({ label: 'Copying m.gguf', value: 0.4 })
    expect(importView(taskFromJob(job({ method: 'link' }))).label).toBe('Linking m.gguf')
    const failed = taskFromJob(job({ state: 'error', error: { code: 'model_corrupt', message: 'm.gguf: the model file is truncated' } }))
    expect(importView(failed)).toMatchObject({ tone: 'error', label: 'Could not import m.gguf', detail: 'm.gguf: the model file is truncated' })
  })
  it('a cancelled import is not shown as an error', () => {
    const t = taskFailed(uploadTask('u', 'm.gguf', 10), { code: 'cancelled', message: 'the upload was cancelled' })
    expect(importView(t)).toMatchObject({ tone: 'info', label: 'Cancelled m.gguf' })
  })
})

describe('the server form and tests', () => {
  const form = { baseUrl: ' http://127.0.0.1:1234 ', model: 'qwen3', apiKey: '', forgetKey: false }
  it('keeps the stored key unless one is typed, and forgets it on request', () => {
    expect(openaiChoice(form)).toEqual({ provider: 'openai', base_url: 'http://127.0.0.1:1234', model: 'qwen3' })
    expect(openaiChoice({ ...form, apiKey: ' sk-1 ' }).api_key).toBe('sk-1')
    expect(openaiChoice({ ...form, apiKey: 'sk-1', forgetKey: true }).api_key).toBeNull()
  })
  it('reports a test in one line', () => {
    expect(testView({ ok: true, provider: 'openai', model: 'm', latency_ms: 41.6, reply_chars: 12, error: null }).label).toBe('Connected — answered in 42 ms, 12 characters')
    const bad = testView({ ok: false, provider: 'openai', model: 'm', latency_ms: 3, error: { code: 'model_unauthorized', message: 'the server refused the API key' } })
    expect(bad).toMatchObject({ tone: 'error', detail: 'the server refused the API key' })
  })
})
