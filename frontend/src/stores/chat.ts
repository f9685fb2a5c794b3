// The app's state: sessions list, agents, prefs (server-side, the HTTP API of docs/protocol.md),
// the session on screen and the actions the UI calls. It builds the app's one HTTP client (which
// the Settings, media and jobs stores use too) and its one socket, owned by useChatSocket; both
// read the token kept here. Other stores hear the socket through onUpdates, onJobs, onConnects.
// A chat may be about a video (PROTOCOL section 6): its inputs then carry that `video_id` and
// `collection_id`, from the session as stored or from "Chat about this video" in this page.
import { defineStore } from 'pinia'
import { computed, markRaw, ref, shallowRef } from 'vue'
import { createApi, WireError } from '../lib/http'
import { keyedDebounce } from '../lib/debounce'
import { takeToken } from '../lib/token'
import { useChatSocket, type ChatSocket } from '../composables/useChatSocket'
import type { AgentInfo, ChatContext, ChatInput, JobInfo, Prefs, SearchHit, Session, UpdateEvent } from '../types'

export const PAGE = 50

export const useChatStore = defineStore('chat', () => {
  let token = ''
  const api = markRaw(createApi(() => token))
  const link = shallowRef<ChatSocket>()
  const sessions = ref<Session[]>([])
  const agents = ref<AgentInfo[]>([])
  const prefs = ref<Prefs>({})
  const drafts = ref<Record<string, string>>({})
  const currentId = ref('')
  const hits = ref<SearchHit[] | null>(null)
  const highlight = ref('')
  const loadingOlder = ref(false)
  const composerFocus = ref(0)
  const ready = ref(false)
  /** Contexts set in this page (a chat started about a video, or one cleared), by session id. */
  const contexts = ref<Record<string, ChatContext>>({})

  const log = computed(() => (link.value && currentId.value ? link.value.log(currentId.value) : undefined))
  const messages = computed(() => log.value?.messages ?? [])
  const running = computed(() => Boolean(link.value && currentId.value && link.value.isRunning(currentId.value)))
  const linkStatus = computed(() => link.value?.state.status ?? 'connecting')
  const currentSession = computed(() => sessions.value.find((s) => s.session_id === currentId.value))
  const context = computed(() => contextOf(currentId.value))

  /** What a chat's inputs are about: as set in this page, else as the server keeps it. */
  function contextOf(sid: string): ChatContext | null {
    const set = contexts.value[sid]
    if (set) return set.video_id || set.collection_id ? set : null
    const s = sessions.value.find((x) => x.session_id === sid)
    return s && (s.video_id || s.collection_id) ? { video_id: s.video_id, collection_id: s.collection_id } : null
  }

  const saveDraft = keyedDebounce<string>(500, (sid, text) => {
    api.chat.patchPrefs({ drafts: { [sid]: text || null } as unknown as Record<string, string> }).catch(() => {})
  })

  async function start(): Promise<void> {
    token = takeToken()
    link.value = useChatSocket({
      url: window.location.origin + '/chat',
      getToken: () => token,
      onUpdate: onUpdate,
      onJob: (job) => {
        for (const listener of jobListeners) listener(job)
      },
      // After a reconnect the lists may have changed while we were away (another window, a restart).
      onConnect: () => {
        if (ready.value) {
          void refreshSessions()
          void refreshPrefs()
        }
        for (const listener of connectListeners) listener()
      },
    })
    const [p] = await Promise.all([
      api.chat.prefs().catch(() => ({}) as Prefs),
      refreshSessions(),
      api.chat.agents().then((a) => (agents.value = a), () => {}),
    ])
    prefs.value = p
    drafts.value = { ...(p.drafts ?? {}) }
    const sid = p.current_session
    if (sid) await openSession(sid)
    else newSession(false)
    ready.value = true
    window.addEventListener('pagehide', () => saveDraft.flush())
  }

  async function refreshSessions(): Promise<void> {
    try {
      sessions.value = await api.chat.sessions()
    } catch {
      /* the banner shows the link state; the list refreshes on the next update */
    }
  }

  async function refreshPrefs(): Promise<void> {
    const p = await api.chat.prefs().catch(() => null)
    if (!p) return
    prefs.value = p
    // Another window's drafts; the one being typed here stays as typed.
    for (const [sid, text] of Object.entries(p.drafts ?? {})) if (sid !== currentId.value) drafts.value[sid] = text
  }

  /** Other stores (Settings) hear the `update_data` events they care about through here. */
  const updateListeners = new Set<(event: UpdateEvent) => void>()
  function onUpdates(listener: (event: UpdateEvent) => void): () => void {
    updateListeners.add(listener)
    return () => updateListeners.delete(listener)
  }

  const jobListeners = new Set<(job: JobInfo) => void>()
  /** The jobs store follows every job (imports, transcodes) through here. */
  function onJobs(listener: (job: JobInfo) => void): () => void {
    jobListeners.add(listener)
    return () => jobListeners.delete(listener)
  }

  const connectListeners = new Set<() => void>()
  /** Runs after every (re)connect of the socket: what was missed meanwhile can be read again. */
  function onConnects(listener: () => void): () => void {
    connectListeners.add(listener)
    return () => connectListeners.delete(listener)
  }

  function onUpdate(event: UpdateEvent): void {
    if (event.update === 'sessions') void refreshSessions()
    else if (event.update === 'prefs') void refreshPrefs()
    for (const listener of updateListeners) listener(event)
  }

  function remember(sid: string): void {
    prefs.value.current_session = sid
    api.chat.patchPrefs({ current_session: sid }).catch(() => {})
  }

  /** A fresh chat (client-only until its first input), about `about` when given. */
  function newSession(focus = true, about?: ChatContext): void {
    saveDraft.flush()
    const sid = crypto.randomUUID()
    if (about) contexts.value[sid] = about
    currentId.value = sid
    hits.value = null
    const l = link.value!.log(sid)
    l.isNew = true
    l.loaded = true
    link.value!.watch(sid)
    remember(sid)
    if (focus) composerFocus.value++
  }

  async function openSession(sid: string, around?: string): Promise<void> {
    saveDraft.flush()
    currentId.value = sid
    highlight.value = around ?? ''
    const l = link.value!.log(sid)
    try {
      const page = await api.chat.session(sid, around ? { around, limit: PAGE } : { limit: PAGE })
      l.reset(page.conversation, Boolean(page.has_more), Boolean(page.has_newer))
      l.isNew = false
    } catch (e) {
      // Not stored yet (a new chat from before a reload) or deleted: an empty new chat.
      if (e instanceof WireError && e.code === 'not_found') {
        l.reset([], false, false)
        l.isNew = true
      }
    }
    link.value!.watch(sid)
    remember(sid)
    composerFocus.value++
  }

  async function loadOlder(): Promise<boolean> {
    const l = log.value
    if (!l || !l.hasMore || loadingOlder.value || l.firstSeq === undefined) return false
    loadingOlder.value = true
    try {
      const page = await api.chat.session(l.sessionId, { limit: PAGE, before: l.firstSeq })
      l.prepend(page.conversation, Boolean(page.has_more))
      return true
    } catch {
      return false
    } finally {
      loadingOlder.value = false
    }
  }

  async function send(text: string, extraAgents: string[] = []): Promise<void> {
    const body = text.trim()
    if (!body || !link.value) return
    const sid = currentId.value
    if (log.value?.hasNewer) await openSession(sid)
    const mentioned = [...body.matchAll(/(?:^|\s)@([A-Za-z0-9_-]+)/g)].map((m) => m[1])
    const known = new Set(agents.value.map((a) => a.name))
    const input: ChatInput = {
      session_id: sid,
      conv_id: crypto.randomUUID(),
      msg_id: crypto.randomUUID(),
      msg_type: 'input',
      agents: [...new Set([...mentioned.filter((n) => known.has(n)), ...extraAgents])],
      content: [{ type: 'text', text: body }],
      metadata: {},
    }
    const about = contexts.value[sid] ?? contextOf(sid)
    if (about) {
      input.collection_id = about.collection_id
      input.video_id = about.video_id
    }
    link.value.send(input)
    setDraft(sid, '')
    bump(sid)
  }

  /** Newest-updated first: the chat just written to moves to the top at once. */
  function bump(sid: string): void {
    const at = sessions.value.findIndex((s) => s.session_id === sid)
    if (at <= 0) return
    const [session] = sessions.value.splice(at, 1)
    sessions.value.unshift({ ...session, updated_at: Math.floor(Date.now() / 1000) })
  }

  async function stop(): Promise<void> {
    const l = log.value
    if (!l || !link.value) return
    const run = [...l.messages].reverse().find((m) => m.msg_type === 'output' && m.status === 'progress')
    const conv = run?.conv_id ?? [...l.messages].reverse().find((m) => m.msg_type === 'input')?.conv_id
    if (conv) await link.value.stop(l.sessionId, conv)
  }

  function setDraft(sid: string, text: string): void {
    if ((drafts.value[sid] ?? '') === text) return
    drafts.value[sid] = text
    saveDraft.call(sid, text)
  }

  async function rename(sid: string, name: string): Promise<void> {
    const updated = await api.chat.rename(sid, name)
    sessions.value = sessions.value.map((s) => (s.session_id === sid ? { ...s, ...updated } : s))
  }

  async function remove(sid: string): Promise<void> {
    await api.chat.remove(sid)
    sessions.value = sessions.value.filter((s) => s.session_id !== sid)
    if (sid === currentId.value) newSession(false)
  }

  async function search(q: string): Promise<void> {
    const text = q.trim()
    if (!text) {
      hits.value = null
      return
    }
    hits.value = await api.chat.search(text).catch(() => [])
  }

  /** The current chat's next inputs are about nothing in particular (sent as nulls, which the
   * server keeps, so the session forgets the video too). */
  function clearContext(): void {
    contexts.value[currentId.value] = { video_id: null, collection_id: null }
  }

  function setTheme(theme: 'light' | 'dark' | 'system'): void {
    prefs.value.theme = theme
    api.chat.patchPrefs({ theme }).catch(() => {})
  }

  return {
    sessions, agents, prefs, drafts, currentId, hits, highlight, loadingOlder, composerFocus, ready,
    log, messages, running, linkStatus, currentSession, link, context,
    start, newSession, openSession, loadOlder, send, stop, setDraft, rename, remove, search, setTheme,
    refreshSessions, onUpdates, onJobs, onConnects, contextOf, clearContext, api,
  }
})
