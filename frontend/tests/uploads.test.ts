import { describe, expect, it } from 'vitest'
import { claimant, jobOfAnswer, jobView, stateOfJob, uploadView, type UploadTask } from '../src/lib/uploads'
import type { JobInfo } from '../src/types'

function task(key: string, name: string, startedAt = 100, more: Partial<UploadTask> = {}): UploadTask {
  return { key, name, size: 1000, collectionId: 'default', via: 'upload', startedAt, sent: 0, state: 'sending', ...more }
}

function job(id: string, title: string, more: Partial<JobInfo> = {}): JobInfo {
  return { id, kind: 'import', title, status: 'running', progress: 0.1, detail: '', started_at: 101, finished_at: null, error: null, result: null, ...more }
}

describe('which upload a job belongs to', () => {
  it('an import job titled with the file name, started since the upload began', () => {
    const tasks = [task('a', 'clip.mp4'), task('b', 'tone.wav')]
    expect(claimant(tasks, job('j1', 'tone.wav'))?.key).toBe('b')
    expect(claimant(tasks, job('j2', 'other.mp4'))).toBeUndefined()
    expect(claimant(tasks, job('j3', 'clip.mp4', { kind: 'transcode' }))).toBeUndefined()
    expect(claimant(tasks, job('j4', 'clip.mp4', { started_at: 90 }))).toBeUndefined() // an older import of the same name
    expect(claimant(tasks, job('j5', 'clip.mp4', { started_at: 99 }))?.key).toBe('a') // clocks may differ by a second
  })

  it('the oldest unbound upload when two have the same name; a bound one keeps its job', () => {
    const tasks = [task('late', 'clip.mp4', 105), task('early', 'clip.mp4', 100)]
    expect(claimant(tasks, job('j1', 'clip.mp4', { started_at: 106 }))?.key).toBe('early')
    tasks[1].jobId = 'j1'
    expect(claimant(tasks, job('j1', 'clip.mp4', { status: 'done' }))?.key).toBe('early')
    expect(claimant(tasks, job('j2', 'clip.mp4', { started_at: 106 }))?.key).toBe('late')
  })

  it('never a finished upload or a native import (those are bound by the answer)', () => {
    expect(claimant([task('a', 'x.mp4', 100, { state: 'done' })], job('j', 'x.mp4'))).toBeUndefined()
    expect(claimant([task('a', 'x.mp4', 100, { via: 'import' })], job('j', 'x.mp4'))).toBeUndefined()
  })

  it('by the upload’s answer: the job whose result is the asset', () => {
    const t = task('a', 'clip.mp4')
    const jobs = [job('old', 'x', { status: 'done', started_at: 50, result: { asset_id: 'v1' } }), job('new', 'y', { status: 'done', result: { asset_id: 'v1' } })]
    expect(jobOfAnswer(jobs, t, { id: 'v1', collection_id: 'default', name: 'clip.mp4' }, new Set())?.id).toBe('new')
    expect(jobOfAnswer(jobs, t, { id: 'v1', collection_id: 'default', name: 'clip.mp4' }, new Set(['new']))).toBeUndefined()
  })
})

describe('what an upload row shows', () => {
  it('bytes sent until the job is known, then the job’s progress', () => {
    const t = task('a', 'clip.mp4', 100, { sent: 250 })
    expect(uploadView(t)).toMatchObject({ label: 'Uploading clip.mp4', value: 0.25, tone: 'busy' })
    expect(uploadView(t, job('j', 'clip.mp4', { progress: 0.6, detail: 'Copying' }))).toMatchObject({ label: 'Adding clip.mp4', value: 0.6, detail: 'Copying' })
    expect(uploadView(t, job('j', 'clip.mp4', { progress: null }))).toMatchObject({ value: null })
    expect(uploadView({ ...t, cancelling: true })).toMatchObject({ label: 'Cancelling clip.mp4…', value: null })
  })

  it('the end: added, already there, refused with the server’s message, cancelled', () => {
    expect(uploadView(task('a', 'c.mp4', 100, { state: 'done' }))).toEqual({ label: 'Added c.mp4', tone: 'ok' })
    expect(uploadView(task('a', 'c.mp4', 100, { state: 'duplicate' })).tone).toBe('info')
    const refused = uploadView(task('a', 'notes.txt', 100, { state: 'error', error: { code: 'unsupported_media', message: 'notes.txt is not a video, audio or image file' } }))
    expect(refused).toEqual({ label: 'Could not add notes.txt', tone: 'error', detail: 'notes.txt is not a video, audio or image file' })
    expect(uploadView(task('a', 'c.mp4', 100, { state: 'cancelled' })).label).toBe('Cancelled c.mp4')
  })

  it('a native import ends with its job', () => {
    expect(stateOfJob(job('j', 'x', { status: 'done', result: { asset_id: 'v' } }))).toBe('done')
    expect(stateOfJob(job('j', 'x', { status: 'done', result: { asset_id: 'v', duplicate: true } }))).toBe('duplicate')
    expect(stateOfJob(job('j', 'x', { status: 'error' }))).toBe('error')
    expect(stateOfJob(job('j', 'x', { status: 'running' }))).toBe('processing')
  })

  it('another window’s job', () => {
    expect(jobView(job('j', 'big.mkv', { kind: 'transcode', progress: 0.5 }))).toMatchObject({ label: 'Converting big.mkv', value: 0.5 })
    expect(jobView(job('j', 'big.mkv', { status: 'error', error: { code: 'interrupted', message: 'The app closed during this job' } }))).toMatchObject({ tone: 'error', detail: 'The app closed during this job' })
  })
})
