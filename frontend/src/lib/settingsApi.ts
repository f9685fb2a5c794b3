// The HTTP calls of the Settings view: docs/api.md "## Models" and "## Importing chats". Uploads
// go through XMLHttpRequest because fetch() reports no upload progress; every call carries the
// launch token and fails with ApiError (the server's stable code) like lib/api.ts.
import { ApiError } from './api'
import type { ImportJob, ModelsListing, ModelStatus, TestResult } from './models'

export interface Upload<T> {
  done: Promise<T>
  abort(): void
}

export interface UploadOptions {
  contentType?: string
  onProgress?: (loaded: number, total: number | null) => void
}

export interface SettingsApi {
  models(): Promise<ModelsListing>
  status(): Promise<ModelStatus>
  choose(choice: Record<string, unknown>): Promise<ModelStatus>
  test(choice?: Record<string, unknown>): Promise<TestResult>
  importPath(path: string): Promise<ImportJob>
  importJob(id: string): Promise<ImportJob>
  cancelImport(id: string): Promise<ImportJob>
  deleteModel(file: string): Promise<void>
  uploadModel(file: File, opts?: UploadOptions): Upload<ImportJob>
  importDirector(file: File, opts?: UploadOptions): Upload<{ session_ids: string[] }>
  importChat(file: File, opts?: UploadOptions): Upload<{ session_id: string }>
}

function errorOf(status: number, data: unknown, fallback: string): ApiError {
  const err = (data as { error?: { code?: string; message?: string } } | null)?.error
  return new ApiError(status, err?.code ?? 'http_' + status, err?.message ?? fallback)
}

export function createSettingsApi(getToken: () => string, base = ''): SettingsApi {
  async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { Authorization: `Bearer ${getToken()}` }
    if (body !== undefined) headers['Content-Type'] = 'application/json'
    const res = await fetch(base + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) })
    const data: unknown = await res.json().catch(() => null)
    if (!res.ok) throw errorOf(res.status, data, res.statusText)
    return data as T
  }

  function upload<T>(path: string, file: Blob, opts: UploadOptions = {}): Upload<T> {
    const xhr = new XMLHttpRequest()
    const done = new Promise<T>((resolve, reject) => {
      xhr.open('POST', base + path)
      xhr.setRequestHeader('Authorization', `Bearer ${getToken()}`)
      xhr.setRequestHeader('Content-Type', opts.contentType ?? 'application/octet-stream')
      xhr.responseType = 'text'
      xhr.upload.onprogress = (e) => opts.onProgress?.(e.loaded, e.lengthComputable ? e.total : null)
      xhr.onload = () => {
        let data: unknown = null
        try {
          data = JSON.parse(xhr.responseText)
        } catch {
          /* not JSON: the status says enough */
        }
        if (xhr.status >= 200 && xhr.status < 300) resolve(data as T)
        else reject(errorOf(xhr.status, data, xhr.statusText || 'the upload failed'))
      }
      xhr.onerror = () => reject(new ApiError(0, 'network', 'the connection to the app was lost during the upload'))
      xhr.onabort = () => reject(new ApiError(0, 'cancelled', 'the upload was cancelled'))
      xhr.send(file)
    })
    return { done, abort: () => xhr.abort() }
  }

  const enc = encodeURIComponent
  return {
    models: () => call('GET', '/config/models'),
    status: () => call('GET', '/config/models/status'),
    choose: (choice) => call('PUT', '/config/models/choice', choice),
    test: (choice) => call('POST', '/config/models/test', choice),
    importPath: (path) => call('POST', '/config/models/import', { path, link: false }),
    importJob: (id) => call('GET', `/config/models/imports/${enc(id)}`),
    cancelImport: (id) => call('DELETE', `/config/models/imports/${enc(id)}`),
    deleteModel: async (file) => {
      await call('DELETE', `/config/models/files/${enc(file)}`)
    },
    uploadModel: (file, opts) => upload(`/config/models/upload?name=${enc(file.name)}`, file, opts),
    importDirector: (file, opts) => upload('/session/import/director', file, opts),
    importChat: (file, opts) => upload('/session/import', file, { contentType: 'application/json', ...opts }),
  }
}
