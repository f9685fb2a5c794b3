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
import { inListOrder, mergePage, sessionOf } from '../lib/sessionList'
import { saveFile } from '../lib/saveFile'
import type { AgentInfo, ChatContext, ChatInput, ContentItem, JobInfo, Prefs, SearchHit, Session, UpdateEvent } from '../types'
import type { Ack, SelectVersionAck, VersionAck } from '../types'

export const PAGE = 50
/** Chats read per page of the sidebar's list (the server pages it: docs/protocol.md, Sessions). */
export const SESSIONS_PAGE = 100

export const useChatStore = defineStore('chat', () => {
  let token = ''
  const api = markRaw(createApi(() => token))
  const link = shallowRef<ChatSocket>()
  const sessions = ref<Session[]>([])
  /** The cursor of the list's next page; null once the oldest chat is loaded. */
  const sessionsNext = ref<string | null>(null)
  const loadingSessions = ref(false)
  /** A failed pin or export, for the sidebar to show. */
  const sidebarNotice = ref('')
  /** The chat on screen when it is not among the loaded pages (opened from a link or a hit). */
  const opened = ref<Session>()
  let listGeneration = 0
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
  /** The thread: the shown path of the chat (PROTOCOL 8): turns on a branch not shown (`hidden`)
   * and deleted turns are kept in the log, by seq, but not shown. */
  const messages = computed(() => (log.value?.messages ?? []).filter((m) => !m.metadata?.hidden && !m.metadata?.deleted))
  const running = computed(() => Boolean(link.value && currentId.value && link.value.isRunning(currentId.value)))
  const linkStatus = computed(() => link.value?.state.status ?? 'connecting')
  const currentSession = computed(() => findSession(currentId.value))

  function findSession(sid: string): Session | undefined {
    return sessions.value.find((s) => s.session_id === sid) ?? (opened.value?.session_id === sid ? opened.value : undefined)
  }
  const context = computed(() => contextOf(currentId.value))

  /** What a chat's inputs are about: as set in this page, else as the server keeps it. */
  function contextOf(sid: string): ChatContext | null {
    const set = contexts.value[sid]
    if (set) return set.video_id || set.collection_id ? set : null
    const s = findSession(sid)
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
    // Start-up marks for the desktop shell's trace (bench/README.md): the engine.io link open,
    // the socket connected, the first lists in.
    link.value.socket.io.on('open', () => markOnce('director:socket_open'))
    link.value.socket.on('connect', () => markOnce('director:connected'))
    const [p] = await Promise.all([
      api.chat.prefs().catch(() => ({}) as Prefs),
      refreshSessions(),
      api.chat.agents().then((a) => (agents.value = a), () => {}),
    ])
    markOnce('director:data')
    prefs.value = p
    drafts.value = { ...(p.drafts ?? {}) }
    const sid = p.current_session
    if (sid) await openSession(sid)
    else newSession(false)
    ready.value = true
    window.addEventListener('pagehide', () => saveDraft.flush())
  }

  /** Re-read the list from the top, as many chats as are loaded (a page at least): new chats,
   * pins, renames and deletions take their places. The newest read wins over older ones. */
  async function refreshSessions(): Promise<void> {
    const generation = ++listGeneration
    const wanted = Math.max(SESSIONS_PAGE, sessions.value.length)
    try {
      let items: Session[] = []
      let next: string | null = null
      do {
        const page = await api.chat.sessionsPage({ limit: Math.min(wanted - items.length, 1000), cursor: next ?? undefined })
        items = mergePage(items, page.items)
        next = page.next
      } while (next && items.length < wanted)
      if (generation !== listGeneration) return
      sessions.value = items
      sessionsNext.value = next
    } catch {
      /* the banner shows the link state; the list refreshes on the next update */
    }
  }

  /** The list's next page (the sidebar asks as its end scrolls into view). */
  async function loadMoreSessions(): Promise<void> {
    const cursor = sessionsNext.value
    if (!cursor || loadingSessions.value) return
    const generation = listGeneration
    loadingSessions.value = true
    try {
      const page = await api.chat.sessionsPage({ limit: SESSIONS_PAGE, cursor })
      if (generation !== listGeneration) return // a refresh re-read the list meanwhile
      sessions.value = mergePage(sessions.value, page.items)
      sessionsNext.value = page.next
    } catch {
      /* the "Show more" button stays for another try */
    } finally {
      loadingSessions.value = false
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
      opened.value = sessionOf(page)
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

  /** `attached`: content items after the text (images the composer uploaded, issue 15). */
  async function send(text: string, extraAgents: string[] = [], attached: ContentItem[] = []): Promise<void> {
    const body = text.trim()
    if ((!body && !attached.length) || !link.value) return
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
      content: [...(body ? [{ type: 'text', text: body }] : []), ...attached],
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

  /** Newest-updated first: the chat just written to moves to the top of its group at once. */
  function bump(sid: string): void {
    const now = Math.floor(Date.now() / 1000)
    if (!sessions.value.some((s) => s.session_id === sid)) return
    sessions.value = inListOrder(sessions.value.map((s) => (s.session_id === sid ? { ...s, updated_at: now } : s)))
  }

  async function stop(): Promise<void> {
    const l = log.value
    if (!l || !link.value) return
    const run = [...l.messages].reverse().find((m) => m.msg_type === 'output' && m.status === 'progress')
    const conv = run?.conv_id ?? [...l.messages].reverse().find((m) => m.msg_type === 'input')?.conv_id
    if (conv) await link.value.stop(l.sessionId, conv)
  }

  // --- versions and deleted turns (PROTOCOL 8) ------------------------------------------------
  /** The turn just deleted in this window, while its undo is offered. */
  const undo = ref<{ sessionId: string; convId: string } | null>(null)
  /** Why the last version action was refused (a reply still being written, the link down). */
  const notice = ref('')

  function refused(ack: Ack<VersionAck | SelectVersionAck>): boolean {
    notice.value = ack.ok ? '' : ack.error.message
    return !ack.ok
  }

  /** Write the turn's reply again: a new version, the old ones kept. */
  async function regenerate(convId: string): Promise<boolean> {
    const l = log.value
    if (!l || !link.value) return false
    return !refused(await link.value.revise(l.sessionId, convId))
  }

  /** Replace the turn's text (its attachments stay) and run it again: a new version of both. */
  async function editInput(convId: string, text: string): Promise<boolean> {
    const l = log.value
    const input = l?.messages.find((m) => m.conv_id === convId && m.msg_type === 'input')
    if (!l || !input || !link.value || !text.trim()) return false
    const content: ContentItem[] = [{ type: 'text', text: text.trim() }, ...input.content.filter((c) => c.type !== 'text')]
    return !refused(await link.value.revise(l.sessionId, convId, content))
  }

  async function selectVersion(msgId: string, version: number): Promise<boolean> {
    const l = log.value
    if (!l || !link.value) return false
    return !refused(await link.value.selectVersion(l.sessionId, msgId, version))
  }

  /** Delete a turn; every window removes it, and this one offers to undo. */
  async function deleteTurn(convId: string): Promise<void> {
    const sid = currentId.value
    try {
      await api.chat.deleteTurn(sid, convId)
      undo.value = { sessionId: sid, convId }
      notice.value = ''
    } catch (e) {
      notice.value = e instanceof Error ? e.message : 'The message could not be deleted.'
    }
  }

  async function undoDelete(): Promise<void> {
    const u = undo.value
    undo.value = null
    if (!u) return
    try {
      await api.chat.restoreTurn(u.sessionId, u.convId)
    } catch (e) {
      notice.value = e instanceof Error ? e.message : 'The message could not be restored.'
    }
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

  /** Pin or unpin a chat; every window hears of it (`update_data` `sessions`). A failure shows
   * in the sidebar's notice. */
  async function pin(sid: string, pinned: boolean): Promise<void> {
    try {
      const updated = await api.chat.pin(sid, pinned)
      sessions.value = inListOrder(sessions.value.map((s) => (s.session_id === sid ? { ...s, ...updated } : s)))
    } catch (e) {
      sidebarNotice.value = `Could not ${pinned ? 'pin' : 'unpin'} the chat: ${WireError.from(e).message}`
    }
  }

  /** Download the chat as Markdown or as JSON (the export format, which Import reads back). */
  async function exportSession(sid: string, format: 'markdown' | 'json'): Promise<void> {
    try {
      const file = await api.chat.exportSession(sid, format)
      saveFile(file.blob, file.filename)
    } catch (e) {
      sidebarNotice.value = `Could not export the chat: ${WireError.from(e).message}`
    }
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
    sessions, sessionsNext, loadingSessions, loadMoreSessions, pin, exportSession, sidebarNotice,
    agents, prefs, drafts, currentId, hits, highlight, loadingOlder, composerFocus, ready,
    log, messages, running, linkStatus, currentSession, link, context,
    start, newSession, openSession, loadOlder, send, stop, setDraft, rename, remove, search, setTheme,
    refreshSessions, onUpdates, onJobs, onConnects, contextOf, clearContext, api,
    undo, notice, regenerate, editInput, selectVersion, deleteTurn, undoDelete,
  }
})

/** A start-up mark for the desktop shell's trace, the first time only (reconnects do not move it). */
function markOnce(name: string): void {
  if (performance.getEntriesByName(name, 'mark').length === 0) performance.mark(name)
}
