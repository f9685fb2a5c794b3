// Long-running work as the window shows it (PROTOCOL section 7): every job any window started
// (`GET /jobs` at each connect, then the socket's `job` events), and this window's uploads and
// native-dialog imports into the media library, each bound to the `import` job that carries its
// progress and takes its Cancel. The grid learns of new assets from the server's `update_data`
// events (the media store), not from here. HTTP goes through the chat store's one client.
import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import { WireError } from '../lib/http'
import { claimant, jobFinished, jobOfAnswer, jobView, stateOfJob, taskFinished, uploadView, type UploadTask } from '../lib/uploads'
import type { JobInfo, WireErrorBody } from '../types'
import { useChatStore } from './chat'

const now = () => Math.floor(Date.now() / 1000)
const basename = (path: string) => path.split(/[\\/]/).pop() || path
const body = (e: WireError): WireErrorBody => ({ code: e.code, message: e.message })

export const useJobsStore = defineStore('jobs', () => {
  const chat = useChatStore()
  const api = () => chat.api.media

  const jobs = ref<Record<string, JobInfo>>({})
  const tasks = ref<UploadTask[]>([])
  const actionError = ref<WireError | null>(null)
  const aborts = new Map<string, () => void>()
  let keys = 0

  /** The tray: this window's uploads, then the other jobs still running (any window's). */
  const rows = computed(() => {
    const mine = tasks.value.map((t) => {
      const job = t.jobId ? jobs.value[t.jobId] : undefined
      return { key: t.key, task: t, job, view: uploadView(t, job) }
    })
    const bound = new Set(tasks.value.map((t) => t.jobId))
    const others = Object.values(jobs.value)
      .filter((j) => !jobFinished(j) && !bound.has(j.id))
      .sort((a, b) => a.started_at - b.started_at)
      .map((j) => ({ key: 'job:' + j.id, task: undefined, job: j, view: jobView(j) }))
    return [...mine, ...others]
  })
  /** A function, not a computed: the desktop window installs its bridge after the page loads. */
  const hasNativeDialog = () => typeof window.directorDesktop?.chooseFiles === 'function'

  chat.onJobs(applyJob)
  chat.onConnects(() => void refreshJobs())

  // --- jobs ---------------------------------------------------------------------------------
  async function refreshJobs(): Promise<void> {
    try {
      for (const job of await api().jobs()) applyJob(job)
    } catch {
      /* the next connect reads them again */
    }
  }

  /** One job's news: kept (a finished job never goes back to running), bound to its task. */
  function applyJob(job: JobInfo): void {
    const prev = jobs.value[job.id]
    if (prev && jobFinished(prev) && !jobFinished(job)) return
    jobs.value[job.id] = job
    const task = claimant(tasks.value, job)
    if (!task) return
    task.jobId = job.id
    if (task.via === 'import' && jobFinished(job) && !taskFinished(task)) {
      task.state = stateOfJob(job)
      task.error = job.error ?? undefined
      if (typeof job.result?.asset_id === 'string') task.assetId = job.result.asset_id
    }
  }

  /** Any window's job, from the tray. */
  async function cancelJob(id: string): Promise<void> {
    try {
      applyJob(await api().cancelJob(id))
    } catch (e) {
      actionError.value = WireError.from(e)
    }
  }

  // --- uploads and imports ------------------------------------------------------------------
  function task(key: string): UploadTask | undefined {
    return tasks.value.find((t) => t.key === key)
  }

  function addTask(fields: Omit<UploadTask, 'key' | 'startedAt' | 'sent'>): UploadTask {
    tasks.value.push({ key: `t${++keys}`, startedAt: now(), sent: 0, ...fields })
    return tasks.value[tasks.value.length - 1]
  }

  /** Several files at once, each its own multipart POST (so each is its own job and bar). */
  function uploadFiles(files: File[], collectionId: string): Promise<void[]> {
    return Promise.all(files.map((f) => uploadFile(f, collectionId)))
  }

  async function uploadFile(file: File, cid: string): Promise<void> {
    const { key } = addTask({ name: file.name, size: file.size, collectionId: cid, via: 'upload', state: 'sending' })
    const up = api().upload(cid, file, {
      onProgress: (loaded) => {
        const t = task(key)
        if (t) t.sent = loaded
      },
    })
    aborts.set(key, up.abort)
    try {
      const answer = await up.done
      const t = task(key)
      if (!t) return
      if (!t.jobId) {
        const claimed = new Set(tasks.value.map((x) => x.jobId).filter((id): id is string => Boolean(id)))
        t.jobId = jobOfAnswer(Object.values(jobs.value), t, answer, claimed)?.id
      }
      t.state = answer.duplicate ? 'duplicate' : 'done'
      t.assetId = answer.id
    } catch (e) {
      const t = task(key)
      const err = WireError.from(e)
      if (t) Object.assign(t, t.cancelling || err.code === 'cancelled' ? { state: 'cancelled' } : { state: 'error', error: body(err) })
    } finally {
      aborts.delete(key)
    }
  }

  /** The desktop window's native dialog: the server reads the chosen paths itself — copied into
   * the library, or with `reference` left where they are. */
  async function importWithDialog(collectionId: string, reference: boolean): Promise<void> {
    const desktop = window.directorDesktop
    if (!desktop) return
    actionError.value = null
    let paths: string[]
    try {
      paths = (await desktop.chooseFiles({ multiple: true })) ?? []
    } catch (e) {
      actionError.value = WireError.from(e)
      return
    }
    if (!paths.length) return
    const fields = { size: null, collectionId, via: 'import' as const }
    try {
      const started = await api().importPaths(collectionId, paths, reference)
      started.forEach((job, i) => {
        addTask({ ...fields, name: paths[i] ? basename(paths[i]) : job.title, state: 'processing', jobId: job.id })
        // Its events may have come first: the newer of the two wins.
        applyJob(jobs.value[job.id] && jobFinished(jobs.value[job.id]) ? jobs.value[job.id] : job)
      })
    } catch (e) {
      const err = WireError.from(e)
      for (const path of paths) addTask({ ...fields, name: basename(path), state: 'error', error: body(err) })
    }
  }

  /** Cancel: the job once it is known (`DELETE /jobs/{id}`), else abort the upload itself (the
   * server cancels the job of a request that goes away). */
  async function cancel(key: string): Promise<void> {
    const t = task(key)
    if (!t || taskFinished(t)) return
    t.cancelling = true
    if (!t.jobId) return aborts.get(key)?.()
    try {
      const job = await api().cancelJob(t.jobId)
      applyJob(job)
      // A job that finished first made its asset: the upload's answer says so.
      if (job.status !== 'done') aborts.get(key)?.()
    } catch (e) {
      t.cancelling = false
      actionError.value = WireError.from(e)
    }
  }

  function dismiss(key: string): void {
    tasks.value = tasks.value.filter((t) => t.key !== key || !taskFinished(t))
  }

  function clearFinished(): void {
    tasks.value = tasks.value.filter((t) => !taskFinished(t))
  }

  return {
    jobs, tasks, rows, actionError, hasNativeDialog,
    refreshJobs, applyJob, cancelJob, uploadFiles, importWithDialog, cancel, dismiss, clearFinished,
  }
})
