// The Settings view's pure logic over the model-settings API of docs/protocol.md (its payload
// types are in ../types, mirrored from director_desktop/protocol/types.py): sizes, context
// lengths, the chosen model's load state, and an import's progress whether it is an upload
// (measured by the browser) or a copy (polled).
import type { HttpClient } from './http'
import type { CatalogueAnswer, CatalogueItem, HubListing, JobInfo, ModelImport, ModelStatus, ModelTest, Provider, WireErrorBody } from '../types'

/** One import as the view tracks it: an upload the browser is sending, or a server-side job. */
export interface ImportTask {
  key: string
  name: string
  method: 'upload' | 'copy' | 'link'
  /** `sending`: bytes on their way; `checking`: all sent, the server is checking the header. */
  phase: 'sending' | 'checking' | 'done' | 'error'
  bytes: number
  total: number | null
  jobId?: string
  file?: string
  error?: WireErrorBody
}

export interface ProgressView {
  label: string
  /** 0..1, or null for an indeterminate bar; undefined: no bar at all. */
  value?: number | null
  tone: 'busy' | 'ok' | 'error' | 'info'
  detail?: string
}

const UNITS = ['B', 'KB', 'MB', 'GB', 'TB']

/** 1536 → "1.5 KB"; decimal units, as file managers show them. */
export function formatBytes(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n) || n < 0) return '—'
  let value = n
  let unit = 0
  while (value >= 1000 && unit < UNITS.length - 1) {
    value /= 1000
    unit++
  }
  const digits = unit === 0 || value >= 100 ? 0 : value >= 10 ? 1 : 2
  const text = value.toFixed(digits)
  return `${digits ? text.replace(/\.?0+$/, '') : text} ${UNITS[unit]}`
}

/** 4096 → "4,096 tokens"; unknown → "context unknown". */
export function formatContext(n: number | null | undefined): string {
  if (!n) return 'context unknown'
  return `${n.toLocaleString('en-US')} tokens`
}

export function providerName(p: Provider): string {
  return p === 'builtin' ? 'Built-in assistant' : p === 'embedded' ? 'Local model (GGUF)' : 'OpenAI-compatible server'
}

/** What the chosen model is doing, for the status line at the top of Settings. */
export function loadView(status: ModelStatus | null): ProgressView {
  if (!status) return { label: 'Reading the model settings…', value: null, tone: 'busy' }
  if (status.provider === 'builtin') {
    return {
      label: 'Built-in assistant — always available, no model needed.',
      tone: status.error ? 'error' : 'info',
      detail: status.error ?? undefined,
    }
  }
  const what = status.model ?? status.config.model ?? 'the model'
  const where = status.provider === 'openai' && status.config.base_url ? ` at ${status.config.base_url}` : ''
  switch (status.state) {
    case 'loading':
      return {
        label: `Loading ${what}${where}…`,
        // llama.cpp reports no load progress: an indeterminate bar unless the server ever sends one.
        value: typeof status.progress === 'number' ? clamp01(status.progress) : null,
        tone: 'busy',
      }
    case 'ready': {
      const ctx = status.context_length ? ` · ${formatContext(status.context_length)}` : ''
      return { label: `${what}${where} is ready${ctx}`, tone: 'ok' }
    }
    case 'error':
      return { label: `${what}${where} cannot answer`, tone: 'error', detail: status.error ?? 'unknown error' }
    default:
      return { label: `${what}${where} will load when needed`, tone: 'info' }
  }
}

/** A new upload, before its first progress event. */
export function uploadTask(key: string, name: string, total: number): ImportTask {
  return { key, name, method: 'upload', phase: 'sending', bytes: 0, total }
}

/** The browser's upload progress: once every byte is sent the server still checks the file. */
export function uploadProgress(task: ImportTask, loaded: number, total: number | null): ImportTask {
  const size = total ?? task.total
  const phase = size !== null && size > 0 && loaded >= size ? 'checking' : 'sending'
  return { ...task, bytes: loaded, total: size, phase }
}

/** A server-side import (`GET /config/models/imports/{id}`) as a task. */
export function taskFromJob(job: ModelImport, key = job.id, name = job.file): ImportTask {
  const phase = job.state === 'running' ? 'sending' : job.state
  return {
    key,
    name,
    method: job.method,
    phase,
    bytes: job.bytes,
    total: job.total,
    jobId: job.id,
    file: job.file,
    error: job.error ?? undefined,
  }
}

export function taskFailed(task: ImportTask, error: WireErrorBody): ImportTask {
  return { ...task, phase: 'error', error }
}

/** The row shown for one import: what is happening, and how far along it is. */
export function importView(task: ImportTask): ProgressView {
  const verb = task.method === 'upload' ? 'Uploading' : task.method === 'link' ? 'Linking' : 'Copying'
  switch (task.phase) {
    case 'sending': {
      const known = task.total !== null && task.total > 0
      const value = known ? clamp01(task.bytes / (task.total as number)) : null
      const detail = known
        ? `${formatBytes(task.bytes)} of ${formatBytes(task.total)} (${Math.floor((value as number) * 100)}%)`
        : formatBytes(task.bytes)
      return { label: `${verb} ${task.name}`, value, tone: 'busy', detail }
    }
    case 'checking':
      return { label: `Checking ${task.name}…`, value: null, tone: 'busy', detail: formatBytes(task.bytes) }
    case 'done':
      return { label: `Imported ${task.file ?? task.name}`, tone: 'ok', detail: formatBytes(task.total ?? task.bytes) }
    case 'error':
      return {
        label: task.error?.code === 'cancelled' ? `Cancelled ${task.name}` : `Could not import ${task.name}`,
        tone: task.error?.code === 'cancelled' ? 'info' : 'error',
        detail: task.error?.code === 'cancelled' ? undefined : (task.error?.message ?? 'unknown error'),
      }
  }
}

export function isRunning(task: ImportTask): boolean {
  return task.phase === 'sending' || task.phase === 'checking'
}

/** The `PUT /config/models/choice` body for the OpenAI-compatible form. The key is sent only
 * when typed (absent keeps the stored one); `forgetKey` sends null, which forgets it. */
export function openaiChoice(form: { baseUrl: string; model: string; apiKey: string; forgetKey: boolean }): Record<string, unknown> {
  const body: Record<string, unknown> = { provider: 'openai', base_url: form.baseUrl.trim(), model: form.model.trim() }
  if (form.forgetKey) body.api_key = null
  else if (form.apiKey.trim()) body.api_key = form.apiKey.trim()
  return body
}

/** A test result in one line. */
export function testView(result: ModelTest): ProgressView {
  if (result.ok) {
    const chars = result.reply_chars !== undefined ? `, ${result.reply_chars} characters` : ''
    return { label: `Connected — answered in ${Math.round(result.latency_ms)} ms${chars}`, tone: 'ok' }
  }
  return { label: 'The connection test failed', tone: 'error', detail: result.error?.message ?? 'no answer' }
}

/** A `.gguf` name check before anything is sent (the server checks again). */
export function isGguf(name: string): boolean {
  return /\.gguf$/i.test(name)
}

function clamp01(x: number): number {
  return Math.min(1, Math.max(0, x))
}

// --- the catalogue and downloads (`/config/models/catalogue`, `/hub`, `/downloads`) ------------

/** The catalogue's routes and the job controls a download needs, over one HTTP client. */
export interface DownloadsApi {
  catalogue(): Promise<CatalogueAnswer>
  hub(repo: string): Promise<HubListing>
  download(repo: string, file: string, revision?: string): Promise<JobInfo>
  setToken(token: string | null): Promise<{ has_token: boolean }>
  pause(id: string): Promise<JobInfo>
  resume(id: string): Promise<JobInfo>
  cancel(id: string): Promise<JobInfo>
}

export function downloadsApi(http: HttpClient): DownloadsApi {
  const enc = encodeURIComponent
  const { call } = http
  return {
    catalogue: () => call('GET', '/config/models/catalogue'),
    hub: (repo) => call('GET', `/config/models/hub?repo=${enc(repo.trim())}`),
    download: (repo, file, revision) => call('POST', '/config/models/downloads', revision ? { repo, file, revision } : { repo, file }),
    setToken: (token) => call('PUT', '/config/models/hub/token', { token }),
    pause: (id) => call('POST', `/jobs/${enc(id)}/pause`),
    resume: (id) => call('POST', `/jobs/${enc(id)}/resume`),
    cancel: (id) => call('DELETE', `/jobs/${enc(id)}`),
  }
}

/** The memory badge of a catalogue entry. */
export function fitView(item: CatalogueItem): { text: string; tone: 'ok' | 'info' | 'error' } {
  const need = `needs ~${item.memory_gb} GB`
  switch (item.fit) {
    case 'fits':
      return { text: `Fits · ${need}`, tone: 'ok' }
    case 'tight':
      return { text: `Tight · ${need}`, tone: 'info' }
    case 'too_big':
      return { text: `Too big · ${need}`, tone: 'error' }
    default:
      return { text: need, tone: 'info' }
  }
}

/** A download job's line: label, bar (bytes, rate and time left are in `detail`). */
export function downloadView(job: JobInfo, name: string): ProgressView {
  switch (job.status) {
    case 'queued':
    case 'running':
      return { label: `Downloading ${name}`, value: job.progress, tone: 'busy', detail: job.detail || undefined }
    case 'paused':
      // Bytes only: the rate and time left it had when it stopped no longer hold.
      return { label: `Paused: ${name}`, value: job.progress ?? 0, tone: 'info', detail: job.detail.split(' · ')[0] || undefined }
    case 'done':
      return { label: `Downloaded ${job.result?.model ?? name}`, tone: 'ok' }
    case 'cancelled':
      return { label: `Cancelled ${name}`, tone: 'info' }
    default:
      return { label: `Could not download ${name}`, tone: 'error', detail: job.error?.message }
  }
}

export function jobActive(job: JobInfo | undefined): boolean {
  return !!job && (job.status === 'running' || job.status === 'queued' || job.status === 'paused')
}

/** A model import's task as its `import` job (`/jobs`, the socket's `job` events) shows it. */
export function taskFromJobInfo(job: JobInfo, task: ImportTask): ImportTask {
  switch (job.status) {
    case 'done':
      return { ...task, phase: 'done', bytes: task.total ?? task.bytes, file: job.result?.model ?? task.file }
    case 'cancelled':
      return { ...task, phase: 'error', error: { code: 'cancelled', message: 'the import was cancelled' } }
    case 'error':
      return { ...task, phase: 'error', error: job.error ?? { code: 'import_failed', message: 'the import failed' } }
    default: {
      const bytes = job.progress !== null && task.total ? Math.round(job.progress * task.total) : task.bytes
      return { ...task, phase: 'sending', bytes }
    }
  }
}
