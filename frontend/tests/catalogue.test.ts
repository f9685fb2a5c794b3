import { describe, expect, it } from 'vitest'
import { downloadView, fitView, jobActive, taskFromJobInfo, type ImportTask } from '../src/lib/models'
import type { CatalogueItem, JobInfo } from '../src/types'

const item = (fit: CatalogueItem['fit']): CatalogueItem => ({
  id: 'x', kind: 'chat', size_class: '1B', name: 'X', repo: 'o/n', file: 'x.gguf', revision: 'main',
  quantization: 'Q4_K_M', license: 'mit', license_url: 'https://x', good_for: '', memory_gb: 2, tools: true,
  fit, recommended: false, installed: false, size: 1, sha256: null, hub_error: null,
})
const job = (status: JobInfo['status'], extra: Partial<JobInfo> = {}): JobInfo => ({
  id: 'j', kind: 'download', title: 'Downloading x.gguf', status, progress: 0.25, detail: '1.0 MB of 4.0 MB · 2.0 MB/s · 2 s left',
  started_at: 1, finished_at: null, error: null, result: null, ...extra,
})

describe('the catalogue view', () => {
  it('badges the memory fit', () => {
    expect(fitView(item('fits'))).toEqual({ text: 'Fits · needs ~2 GB', tone: 'ok' })
    expect(fitView(item('tight')).tone).toBe('info')
    expect(fitView(item('too_big'))).toEqual({ text: 'Too big · needs ~2 GB', tone: 'error' })
    expect(fitView(item('unknown')).text).toBe('needs ~2 GB')
  })

  it('shows a download job with its bytes, rate and time left, and its end', () => {
    expect(downloadView(job('running'), 'x.gguf')).toEqual({
      label: 'Downloading x.gguf', value: 0.25, tone: 'busy', detail: '1.0 MB of 4.0 MB · 2.0 MB/s · 2 s left',
    })
    expect(downloadView(job('paused'), 'x.gguf')).toEqual({ label: 'Paused: x.gguf', value: 0.25, tone: 'info', detail: '1.0 MB of 4.0 MB' })
    expect(downloadView(job('done', { result: { model: 'x-2.gguf' } }), 'x.gguf')).toEqual({ label: 'Downloaded x-2.gguf', tone: 'ok' })
    const failed = job('error', { error: { code: 'hash_mismatch', message: 'x.gguf does not match' } })
    expect(downloadView(failed, 'x.gguf')).toMatchObject({ tone: 'error', detail: 'x.gguf does not match' })
    expect(jobActive(job('paused'))).toBe(true)
    expect(jobActive(job('cancelled'))).toBe(false)
    expect(jobActive(undefined)).toBe(false)
  })

  it('reads a model import task from its import job', () => {
    const task: ImportTask = { key: 'c1', name: 'q.gguf', method: 'copy', phase: 'sending', bytes: 0, total: 1000, jobId: 'j' }
    expect(taskFromJobInfo(job('running', { kind: 'import', progress: 0.5 }), task)).toMatchObject({ phase: 'sending', bytes: 500 })
    expect(taskFromJobInfo(job('done', { result: { model: 'q-2.gguf' } }), task)).toMatchObject({ phase: 'done', file: 'q-2.gguf', bytes: 1000 })
    expect(taskFromJobInfo(job('cancelled'), task).error?.code).toBe('cancelled')
    expect(taskFromJobInfo(job('error', { error: { code: 'disk_full', message: 'full' } }), task).error?.code).toBe('disk_full')
  })
})
