// The media library as the window shows it (PROTOCOL section 6): the collections, the view on
// screen (chat, a collection's grid, one asset), the grid's newest-first list read a page per
// kind at a time and read again when the server says it changed, and FFmpeg's state with the
// upload limit. Uploads and jobs are the jobs store's. HTTP goes through the chat store's one
// client.
import { defineStore } from 'pinia'
import { computed, ref, shallowRef } from 'vue'
import { WireError } from '../lib/http'
import { emptySources, exhausted, KINDS, starving, takeNewest, toItem, type KindSource, type LibraryItem } from '../lib/library'
import type { AssetKind, Collection, MediaStatus, UpdateEvent } from '../types'
import { useChatStore } from './chat'

export const DEFAULT_COLLECTION = 'default'
/** Items per request and per "load more": a screenful or two of cards. */
export const PAGE = 60
/** At most this many items are read again when the list changes under a long scroll. */
const RELOAD_MAX = 600
const RELOAD_DELAY_MS = 150

export type MediaView = 'chat' | 'collection' | 'asset'
export type KindFilter = AssetKind | 'all'

export const useMediaStore = defineStore('media', () => {
  const chat = useChatStore()
  const api = () => chat.api.media

  const view = ref<MediaView>('chat')
  const collections = ref<Collection[]>([])
  const collectionId = ref(DEFAULT_COLLECTION)
  const asset = ref<LibraryItem | null>(null)
  const filter = ref<KindFilter>('all')
  const query = ref('')
  const items = ref<LibraryItem[]>([])
  const loading = ref(false)
  const finished = ref(false)
  const listError = ref('')
  const status = shallowRef<MediaStatus | null>(null)
  const actionError = ref<WireError | null>(null)
  let sources: Partial<Record<AssetKind, KindSource>> = {}
  let generation = 0

  const collection = computed(() => collections.value.find((c) => c.id === collectionId.value))
  let started = false
  chat.onUpdates(onUpdate)
  // After a reconnect the lists may have changed meanwhile (another window, a restart).
  chat.onConnects(() => {
    if (!started) return
    void refreshCollections()
    scheduleReload()
  })

  /** After the chat store has started (it holds the token): the collections. */
  async function start(): Promise<void> {
    started = true
    await refreshCollections()
  }

  function onUpdate(event: UpdateEvent): void {
    if (event.update === 'collections') void refreshCollections()
    else if (event.update === 'videos' && (!event.collection_id || event.collection_id === collectionId.value)) scheduleReload()
  }

  // --- collections --------------------------------------------------------------------------
  async function refreshCollections(): Promise<void> {
    let list: Collection[]
    try {
      list = await api().collections()
    } catch {
      return // the banner shows a lost server; the next `collections` event reads it again
    }
    // The default collection first, whatever order arrives.
    collections.value = [...list.filter((c) => c.id === DEFAULT_COLLECTION), ...list.filter((c) => c.id !== DEFAULT_COLLECTION)]
    if (!list.some((c) => c.id === collectionId.value)) collectionId.value = DEFAULT_COLLECTION
  }

  function openCollection(id: string): void {
    const changed = id !== collectionId.value || view.value === 'chat' || !items.value.length
    if (id !== collectionId.value) query.value = ''
    collectionId.value = id
    view.value = 'collection'
    asset.value = null
    if (changed) void reload()
  }

  /** Throws the server's refusal, for the form to show. */
  async function createCollection(name: string): Promise<Collection> {
    const made = await api().createCollection(name.trim().slice(0, 200))
    await refreshCollections()
    if (!collections.value.some((c) => c.id === made.id)) collections.value = [...collections.value, made]
    openCollection(made.id)
    return made
  }

  /** Throws the server's refusal (a non-empty collection: 409 `conflict`). */
  async function deleteCollection(id: string): Promise<void> {
    await api().deleteCollection(id)
    collections.value = collections.value.filter((c) => c.id !== id)
    if (collectionId.value === id) {
      collectionId.value = DEFAULT_COLLECTION
      if (view.value !== 'chat') openCollection(DEFAULT_COLLECTION)
    }
    void refreshCollections()
  }

  // --- the grid -----------------------------------------------------------------------------
  const kinds = () => (filter.value === 'all' ? KINDS : [filter.value])

  /** Reads the list again from its start, as far as `keep` items (what was on screen). */
  async function reload(keep = PAGE): Promise<void> {
    const gen = ++generation
    sources = emptySources(kinds())
    finished.value = false
    listError.value = ''
    const fresh: LibraryItem[] = []
    loading.value = true
    try {
      while (fresh.length < keep && !exhausted(sources)) {
        const more = await nextItems(gen, Math.min(PAGE, keep - fresh.length))
        if (gen !== generation) return
        if (!more.length) break
        fresh.push(...more)
      }
      items.value = fresh
      finished.value = exhausted(sources)
    } catch (e) {
      if (gen === generation) listError.value = WireError.from(e).message
    } finally {
      if (gen === generation) loading.value = false
    }
  }

  /** The next items of the grid (scrolled to its end, or "Load more"). */
  async function loadMore(): Promise<void> {
    if (loading.value || finished.value) return
    const gen = generation
    loading.value = true
    listError.value = ''
    try {
      const more = await nextItems(gen, PAGE)
      if (gen !== generation) return
      items.value = [...items.value, ...more]
      finished.value = exhausted(sources)
    } catch (e) {
      if (gen === generation) listError.value = WireError.from(e).message
    } finally {
      if (gen === generation) loading.value = false
    }
  }

  /** Up to `max` items in order, fetching each kind's next page when its turn needs it. */
  async function nextItems(gen: number, max: number): Promise<LibraryItem[]> {
    const out: LibraryItem[] = []
    while (out.length < max && gen === generation) {
      const hungry = starving(sources)
      if (hungry.length) await Promise.all(hungry.map((k) => fetchPage(k, gen)))
      if (gen !== generation) break
      const taken = takeNewest(sources, max - out.length)
      if (!taken.length) break
      out.push(...taken)
    }
    return out
  }

  async function fetchPage(kind: AssetKind, gen: number): Promise<void> {
    const source = sources[kind]
    if (!source) return
    const page = await api().assets(collectionId.value, kind, { q: query.value.trim(), limit: PAGE, cursor: source.cursor ?? undefined })
    if (gen !== generation) return
    source.buffer.push(...page.items.map((a) => toItem(kind, a)))
    source.cursor = page.next
    source.done = !page.next
  }

  let reloadTimer: ReturnType<typeof setTimeout> | undefined
  /** The list changed on the server (an upload, another window): read it again, once. */
  function scheduleReload(): void {
    if (view.value === 'chat') return
    clearTimeout(reloadTimer)
    reloadTimer = setTimeout(() => void reload(Math.min(RELOAD_MAX, Math.max(PAGE, items.value.length))), RELOAD_DELAY_MS)
  }

  function setFilter(next: KindFilter): void {
    if (filter.value === next) return
    filter.value = next
    void reload()
  }

  function setQuery(text: string): void {
    if (query.value === text) return
    query.value = text
    void reload()
  }

  // --- one asset ----------------------------------------------------------------------------
  function openAsset(item: LibraryItem): void {
    asset.value = item
    view.value = 'asset'
  }

  /** A video known by its ids (a chat's context): fetched, then shown. */
  async function openVideo(cid: string, vid: string): Promise<void> {
    try {
      const video = toItem('video', await api().asset(cid, 'video', vid))
      collectionId.value = cid
      openAsset(video)
    } catch (e) {
      actionError.value = WireError.from(e)
    }
  }

  /** Video names by id, for a chat's context line (each read once). */
  const names = ref<Record<string, string>>({})
  function lookUpName(cid: string, vid: string): void {
    if (vid in names.value) return
    const known = items.value.find((i) => i.id === vid && i.kind === 'video')
    names.value[vid] = known?.name ?? ''
    if (known) return
    api()
      .asset(cid, 'video', vid)
      .then((v) => (names.value[vid] = v.name), () => {})
  }

  /** Throws the server's refusal, for the dialog to show. */
  async function deleteAsset(item: LibraryItem): Promise<void> {
    await api().deleteAsset(item.collectionId, item.kind, item.id)
    items.value = items.value.filter((i) => !(i.id === item.id && i.kind === item.kind))
    if (asset.value?.id === item.id) backToCollection()
  }

  function backToCollection(): void {
    view.value = 'collection'
    asset.value = null
    if (!items.value.length) void reload()
  }

  /** "Chat about this video": a new chat whose inputs carry the video's ids. */
  function chatAbout(item: LibraryItem): void {
    chat.newSession(true, { collection_id: item.collectionId, video_id: item.id, name: item.name })
    view.value = 'chat'
  }

  /** The video view's composer: into the chat about this video, a new one if the chat on screen
   * is about something else. */
  function askAbout(item: LibraryItem, text: string): void {
    if (chat.context?.video_id !== item.id) {
      chat.newSession(false, { collection_id: item.collectionId, video_id: item.id, name: item.name })
    }
    void chat.send(text)
  }

  function showChat(): void {
    view.value = 'chat'
  }

  // --- status and the upload limit ----------------------------------------------------------
  /** Throws when the server cannot say, for Settings to show. */
  async function refreshStatus(): Promise<void> {
    status.value = await api().status()
  }

  /** Throws the server's refusal, for Settings to show. */
  async function setMaxUpload(bytes: number): Promise<void> {
    status.value = await api().setMaxUpload(bytes)
  }

  /** Throws the server's refusal, for Settings to show. */
  async function setIndexOnImport(on: boolean): Promise<void> {
    status.value = await api().setIndexOnImport(on)
  }

  return {
    view, collections, collectionId, collection, asset, filter, query, items, loading, finished, listError,
    status, actionError,
    start, refreshCollections, openCollection, createCollection, deleteCollection,
    reload, loadMore, setFilter, setQuery, openAsset, openVideo, names, lookUpName, deleteAsset, backToCollection,
    chatAbout, askAbout, showChat, refreshStatus, setMaxUpload, setIndexOnImport,
  }
})
