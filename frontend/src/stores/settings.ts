// The Settings view's state: the models listing and the chosen model's status (re-read on
// `update_data` `models` events), imports in flight (browser uploads with their byte progress,
// native-dialog copies polled on the server), connection tests, and the Data section's imports.
import { defineStore } from 'pinia'
import { computed, ref, shallowRef, watch } from 'vue'
import {
  importView,
  isGguf,
  isRunning,
  taskFailed,
  taskFromJob,
  taskFromJobInfo,
  uploadProgress,
  uploadTask,
  type ImportTask,
  type ProgressView,
} from '../lib/models'
import { WireError, type SettingsApi } from '../lib/http'
import type { ModelFile, ModelList, ModelStatus, ModelTest, SpeechChoice, SpeechStatus, UpdateEvent } from '../types'
import { useChatStore } from './chat'
import { useJobsStore } from './jobs'

declare global {
  interface Window {
    /** The desktop window's native side (director_desktop/window/page.py), absent in a browser. */
    directorDesktop?: {
      chooseFiles(options: { multiple?: boolean; file_types?: string[] }): Promise<string[]>
    }
  }
}

export interface DataResult {
  tone: 'ok' | 'error'
  text: string
  sessionId?: string
}

export const useSettingsStore = defineStore('settings', () => {
  const chat = useChatStore()
  const jobsStore = useJobsStore()
  const open = ref(false)
  const shown = ref(0)
  const listing = shallowRef<ModelList | null>(null)
  const status = shallowRef<ModelStatus | null>(null)
  const loadError = ref('')
  const tasks = ref<ImportTask[]>([])
  const aborts = new Map<string, () => void>()
  const busy = ref('')
  const actionError = ref<WireError | null>(null)
  const testResult = shallowRef<ModelTest | null>(null)
  const testing = ref(false)
  const dataTask = ref<ImportTask | null>(null)
  const dataResult = ref<DataResult | null>(null)
  /** The Speech section: `/config/speech`, re-read on `update_data` `speech` while open. */
  const speech = shallowRef<SpeechStatus | null>(null)
  const speechReadError = ref('')
  const speechSaving = ref(false)
  const speechError = ref<WireError | null>(null)
  let keys = 0
  let subscribed = false

  /** The listing's models that name their file (every one the server lists does). */
  const models = computed(() => (listing.value?.models ?? []).filter((m): m is ModelFile & { file: string } => typeof m.file === 'string'))
  const taskViews = computed(() => tasks.value.map((t) => ({ task: t, view: importView(t) })))
  const dataView = computed<ProgressView | null>(() => (dataTask.value ? importView(dataTask.value) : null))
  /** A function, not a computed: the window installs `directorDesktop` after the page loads, and
   * a global is not reactive. */
  const hasNativeDialog = () => typeof window.directorDesktop?.chooseFiles === 'function'

  /** The app's one HTTP client, built by the chat store; the first use subscribes to `models` events. */
  function client(): SettingsApi {
    if (!subscribed) {
      subscribed = true
      chat.onUpdates(onUpdate)
    }
    return chat.api.settings
  }

  function onUpdate(event: UpdateEvent): void {
    if (event.update === 'speech') {
      if (open.value) void refreshSpeech()
      return
    }
    if (event.update !== 'models') return
    void (open.value ? refresh() : refreshStatus())
    const id = typeof event.import_id === 'string' ? event.import_id : undefined
    if (id && tasks.value.some((t) => t.jobId === id && isRunning(t))) void pollJob(id)
  }

  async function refresh(): Promise<void> {
    try {
      const l = await client().models()
      listing.value = l
      status.value = l.status
      loadError.value = ''
    } catch (e) {
      loadError.value = WireError.from(e).message
    }
  }

  /** The chosen model's state alone, for the notice in the main window. */
  async function refreshStatus(): Promise<void> {
    try {
      status.value = await client().status()
    } catch {
      /* not shown until Settings is opened; the link banner covers a lost server */
    }
  }

  function show(): void {
    open.value = true
    shown.value++ // shows it again even if `open` never went false (Esc closes it natively first)
    void refresh()
    void refreshSpeech()
  }

  async function refreshSpeech(): Promise<void> {
    try {
      speech.value = await client().speech()
      speechReadError.value = ''
    } catch (e) {
      speechReadError.value = WireError.from(e).message
    }
  }

  /** Saves a speech choice; its failure is shown (with the server's code), never thrown. */
  async function chooseSpeech(choice: SpeechChoice & { api_key?: string | null }): Promise<boolean> {
    speechSaving.value = true
    speechError.value = null
    try {
      speech.value = await client().setSpeech(choice)
      return true
    } catch (e) {
      speechError.value = WireError.from(e)
      return false
    } finally {
      speechSaving.value = false
    }
  }

  function hide(): void {
    open.value = false
  }

  /** Runs one user action: its failure is shown (with the server's code), never thrown. */
  async function act<T>(name: string, job: () => Promise<T>): Promise<T | undefined> {
    busy.value = name
    actionError.value = null
    try {
      return await job()
    } catch (e) {
      actionError.value = WireError.from(e)
      return undefined
    } finally {
      busy.value = ''
    }
  }

  async function choose(choice: Record<string, unknown>): Promise<boolean> {
    testResult.value = null
    const s = await act('choose', () => client().choose(choice))
    if (!s) return false
    status.value = s
    void refresh()
    return true
  }

  async function test(choice?: Record<string, unknown>): Promise<void> {
    testing.value = true
    testResult.value = null
    const r = await act('test', () => client().test(choice))
    testing.value = false
    if (r) testResult.value = r
  }

  async function deleteModel(file: string): Promise<void> {
    const ok = await act('delete', async () => {
      await client().deleteModel(file)
      return true
    })
    if (ok) await refresh()
  }

  function replace(key: string, next: ImportTask): void {
    tasks.value = tasks.value.map((t) => (t.key === key ? next : t))
  }
  function task(key: string): ImportTask | undefined {
    return tasks.value.find((t) => t.key === key)
  }

  /** An upload through the browser (no native dialog): progress from XHR's upload events. */
  async function uploadModel(file: File): Promise<void> {
    const key = `u${++keys}`
    const start = uploadTask(key, file.name, file.size)
    if (!isGguf(file.name)) {
      tasks.value = [...tasks.value, taskFailed(start, new WireError('not_gguf', 'choose a .gguf model file'))]
      return
    }
    tasks.value = [...tasks.value, start]
    const up = client().uploadModel(file, {
      onProgress: (loaded, total) => {
        const t = task(key)
        if (t && isRunning(t)) replace(key, uploadProgress(t, loaded, total))
      },
    })
    aborts.set(key, up.abort)
    try {
      const job = await up.done
      replace(key, taskFromJob(job, key, file.name))
      await refresh()
    } catch (e) {
      const err = WireError.from(e)
      // The server may name its hidden temp file (`.upload-<id>.part`); the user knows the file by its name.
      const message = err.message.replace(/\.upload-[0-9a-f]+\.part/g, file.name)
      replace(key, taskFailed(task(key) ?? start, new WireError(err.code, message, err.status)))
    } finally {
      aborts.delete(key)
    }
  }

  /** The desktop window: the native file dialog gives a path, the server copies it. */
  async function importWithDialog(): Promise<void> {
    const desktop = window.directorDesktop
    if (!desktop) return
    let paths: string[] = []
    try {
      paths = await desktop.chooseFiles({ multiple: true, file_types: ['GGUF models (*.gguf)'] })
    } catch (e) {
      actionError.value = WireError.from(e)
      return
    }
    for (const path of paths) {
      const name = path.split(/[\\/]/).pop() ?? path
      const key = `c${++keys}`
      const start: ImportTask = { key, name, method: 'copy', phase: 'sending', bytes: 0, total: null }
      tasks.value = [...tasks.value, start]
      try {
        const job = await client().importPath(path)
        replace(key, taskFromJob(job, key, name))
        void pollJob(job.id)
      } catch (e) {
        replace(key, taskFailed(start, WireError.from(e)))
      }
    }
  }

  const following = new Set<string>()
  /** Follows a server-side copy through its `import` job (`/jobs` and the socket's `job`
   * events, as every progress bar of the page) until it ends. */
  function pollJob(id: string): void {
    if (following.has(id)) return
    following.add(id)
    let stop: (() => void) | undefined
    let ended = false
    const end = () => {
      ended = true
      following.delete(id)
      stop?.()
    }
    stop = watch(
      () => jobsStore.jobs[id],
      (job) => {
        const t = tasks.value.find((x) => x.jobId === id)
        if (!t) return end()
        if (!job) return
        const next = taskFromJobInfo(job, t)
        replace(t.key, next)
        if (next.phase !== 'sending') {
          end()
          void refresh()
        }
      },
      { immediate: true },
    )
    if (ended) stop()
    else if (!jobsStore.jobs[id]) void jobsStore.refreshJobs()
  }

  async function cancel(key: string): Promise<void> {
    const abort = aborts.get(key)
    if (abort) return abort()
    const t = task(key)
    if (t?.jobId) {
      const job = await act('cancel', () => client().cancelImport(t.jobId as string))
      if (job) replace(key, taskFromJob(job, key, t.name))
    }
  }

  function dismiss(key: string): void {
    tasks.value = tasks.value.filter((t) => t.key !== key)
  }

  /** The Data section: a Director `director.db`, or one chat exported as JSON. */
  async function importData(kind: 'director' | 'chat', file: File): Promise<void> {
    const start = uploadTask(`d${++keys}`, file.name, file.size)
    dataTask.value = start
    dataResult.value = null
    const onProgress = (loaded: number, total: number | null) => {
      if (dataTask.value && isRunning(dataTask.value)) dataTask.value = uploadProgress(dataTask.value, loaded, total)
    }
    try {
      if (kind === 'director') {
        const r = await client().importDirector(file, { onProgress }).done
        const n = r.session_ids.length
        dataResult.value = {
          tone: 'ok',
          text: n ? `Imported ${n} chat${n === 1 ? '' : 's'} from Director.` : 'That Director database has no chats.',
          sessionId: r.session_ids[0],
        }
      } else {
        const r = await client().importChat(file, { onProgress }).done
        dataResult.value = { tone: 'ok', text: 'Imported 1 chat.', sessionId: r.session_id }
      }
      dataTask.value = null
    } catch (e) {
      const err = WireError.from(e)
      dataTask.value = null
      dataResult.value = { tone: 'error', text: `Could not import ${file.name}: ${err.message}` }
    }
  }

  return {
    open, shown, listing, status, loadError, tasks, busy, actionError, testResult, testing, dataTask, dataResult,
    speech, speechReadError, speechSaving, speechError,
    models, taskViews, dataView, hasNativeDialog,
    show, hide, refresh, refreshStatus, refreshSpeech, chooseSpeech, choose, test, deleteModel, uploadModel, importWithDialog, cancel, dismiss, importData,
  }
})
