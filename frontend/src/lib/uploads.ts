// Uploads and imports into the media library as this window tracks them, and the jobs
// (PROTOCOL section 7) that carry their progress. The server makes an upload's `import` job at
// its first byte, before the POST is answered, so the job is found by its title (the file's
// name) among those started since the upload began, or afterwards by the asset it made; a
// native-dialog import is answered with its jobs at once.
import type { JobInfo, UploadAnswer, WireErrorBody } from '../types'
import { formatBytes, type ProgressView } from './models'

export type UploadState = 'sending' | 'processing' | 'done' | 'duplicate' | 'error' | 'cancelled'

export interface UploadTask {
  key: string
  name: string
  size: number | null
  collectionId: string
  /** `upload`: the browser sends the bytes; `import`: the server reads a path the native dialog gave. */
  via: 'upload' | 'import'
  /** Epoch seconds on this machine's clock, which the local server shares. */
  startedAt: number
  /** Bytes the browser has sent. */
  sent: number
  state: UploadState
  jobId?: string
  assetId?: string
  error?: WireErrorBody
  /** The user pressed Cancel; whatever answer follows is a cancellation. */
  cancelling?: boolean
}

/** How far apart the page's and the server's clocks may read the same moment (both on this
 * machine; integer seconds on the wire). */
const CLOCK_SLACK = 2

export function jobFinished(job: JobInfo): boolean {
  return job.status === 'done' || job.status === 'error' || job.status === 'cancelled'
}

export function taskFinished(task: UploadTask): boolean {
  return !(task.state === 'sending' || task.state === 'processing')
}

/** The task a job belongs to: the one bound to it already, else — an import job — the oldest
 * unbound browser upload of the same file name that began before the job did. */
export function claimant(tasks: UploadTask[], job: JobInfo): UploadTask | undefined {
  const bound = tasks.find((t) => t.jobId === job.id)
  if (bound || job.kind !== 'import') return bound
  const taken = new Set(tasks.map((t) => t.jobId).filter(Boolean))
  if (taken.has(job.id)) return undefined
  return tasks
    .filter((t) => t.via === 'upload' && !t.jobId && !taskFinished(t) && t.name === job.title && job.started_at >= t.startedAt - CLOCK_SLACK)
    .sort((a, b) => a.startedAt - b.startedAt)[0]
}

/** The job an answered upload ran as, when its title did not give it away: the newest import
 * job since the upload began whose result is the answered asset. */
export function jobOfAnswer(jobs: JobInfo[], task: UploadTask, answer: UploadAnswer, claimed: Set<string>): JobInfo | undefined {
  return jobs
    .filter((j) => j.kind === 'import' && !claimed.has(j.id) && j.result?.asset_id === answer.id && j.started_at >= task.startedAt - CLOCK_SLACK)
    .sort((a, b) => b.started_at - a.started_at)[0]
}

/** A native-dialog import's end, from its job (an upload's end comes from its answer). */
export function stateOfJob(job: JobInfo): UploadState {
  if (job.status === 'done') return job.result?.duplicate === true ? 'duplicate' : 'done'
  if (job.status === 'error') return 'error'
  if (job.status === 'cancelled') return 'cancelled'
  return 'processing'
}

/** What one task's row shows: the job's progress once it is known, the bytes sent before. */
export function uploadView(task: UploadTask, job?: JobInfo): ProgressView {
  const name = task.name
  switch (task.state) {
    case 'done':
      return { label: `Added ${name}`, tone: 'ok' }
    case 'duplicate':
      return { label: `${name} is already in this collection`, tone: 'info' }
    case 'cancelled':
      return { label: `Cancelled ${name}`, tone: 'info' }
    case 'error':
      return { label: `Could not add ${name}`, tone: 'error', detail: task.error?.message }
  }
  if (task.cancelling) return { label: `Cancelling ${name}…`, value: null, tone: 'busy' }
  if (job) return jobView(job, name)
  if (task.via === 'import' || task.state === 'processing') return { label: `Adding ${name}`, value: null, tone: 'busy' }
  const total = task.size || null
  return {
    label: `Uploading ${name}`,
    value: total ? Math.min(1, task.sent / total) : null,
    tone: 'busy',
    detail: total ? `${formatBytes(task.sent)} of ${formatBytes(total)}` : formatBytes(task.sent),
  }
}

/** A job's row (one of this window's uploads, or any window's running job). */
export function jobView(job: JobInfo, name = job.title): ProgressView {
  switch (job.status) {
    case 'queued':
      return { label: `Waiting: ${name}`, value: null, tone: 'busy', detail: job.detail }
    case 'paused':
      return { label: `Paused: ${name}`, value: job.progress ?? 0, tone: 'info', detail: job.detail }
    case 'running':
      return { label: `${verb(job.kind)} ${name}`, value: job.progress, tone: 'busy', detail: job.detail || undefined }
    case 'done':
      return { label: `${verb(job.kind)} ${name}`, value: 1, tone: 'busy' }
    case 'cancelled':
      return { label: `Cancelled ${name}`, tone: 'info' }
    default:
      return { label: `Failed: ${name}`, tone: 'error', detail: job.error?.message }
  }
}

function verb(kind: string): string {
  if (kind === 'import') return 'Adding'
  if (kind === 'transcode') return 'Converting'
  if (kind === 'download') return 'Downloading'
  if (kind === 'index') return 'Indexing'
  return 'Working on'
}
