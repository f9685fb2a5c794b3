// The collection view's pure logic over the asset objects of PROTOCOL section 6 (their types are
// in ../types): one item shape for the three kinds, and "All" as one newest-first list merged
// from the three paged lists (`?limit=&cursor=`), fetched a page at a time per kind.
import type { AssetKind, AudioAsset, ImageAsset, VideoAsset } from '../types'
import { isLocalUrl } from './links'

export const KINDS: AssetKind[] = ['video', 'audio', 'image']

/** One asset as the grid and the asset view show it, whatever its kind. */
export interface LibraryItem {
  kind: AssetKind
  id: string
  collectionId: string
  name: string
  description: string
  /** Seconds; 0 for images. */
  length: number
  /** A same-origin image to show for it (a video's thumbnail, an image itself). */
  thumb?: string
  /** A same-origin URL that plays or shows it. */
  src?: string
  missing: boolean
  createdAt: number
  size?: number
  width?: number | null
  height?: number | null
}

type AnyAsset = VideoAsset | AudioAsset | ImageAsset

const local = (url: unknown): string | undefined => (typeof url === 'string' && isLocalUrl(url) ? url : undefined)

/** A list's (or one asset's) object as a LibraryItem; URLs from another origin are dropped. */
export function toItem(kind: AssetKind, asset: AnyAsset): LibraryItem {
  const a = asset as Partial<VideoAsset & AudioAsset & ImageAsset>
  const item: LibraryItem = {
    kind,
    id: String(a.id),
    collectionId: String(a.collection_id ?? ''),
    name: String(a.name ?? ''),
    description: String(a.description ?? ''),
    length: Number(a.length) || 0,
    missing: a.missing === true,
    createdAt: Number(a.created_at) || 0,
    size: a.size,
    width: a.width,
    height: a.height,
  }
  if (kind === 'video') {
    item.thumb = local(a.thumbnail_url)
    item.src = local(a.stream_url)
  } else if (kind === 'image') {
    item.thumb = local(a.url)
    item.src = local(a.url)
  } else {
    item.src = local(a.url)
  }
  return item
}

/** One kind's list as far as it has been read: items fetched but not shown yet, and the cursor. */
export interface KindSource {
  buffer: LibraryItem[]
  cursor: string | null
  /** The server has nothing after what was fetched. */
  done: boolean
}

export function emptySources(kinds: AssetKind[]): Partial<Record<AssetKind, KindSource>> {
  return Object.fromEntries(kinds.map((k) => [k, { buffer: [], cursor: null, done: false }]))
}

/** The kinds whose next page must be fetched before anything more can be shown in order. */
export function starving(sources: Partial<Record<AssetKind, KindSource>>): AssetKind[] {
  return KINDS.filter((k) => sources[k] && !sources[k].done && sources[k].buffer.length === 0)
}

/** Takes up to `max` items, newest first across the kinds, while that order is certain: it stops
 * as soon as a kind with more on the server has nothing fetched (its next item may be newer).
 * Equal times keep the kinds' order (video, audio, image). Mutates the buffers. */
export function takeNewest(sources: Partial<Record<AssetKind, KindSource>>, max: number): LibraryItem[] {
  const taken: LibraryItem[] = []
  while (taken.length < max && starving(sources).length === 0) {
    let best: KindSource | undefined
    for (const k of KINDS) {
      const s = sources[k]
      if (s?.buffer.length && (!best || s.buffer[0].createdAt > best.buffer[0].createdAt)) best = s
    }
    if (!best) break
    taken.push(best.buffer.shift() as LibraryItem)
  }
  return taken
}

/** Every source read to its end and shown. */
export function exhausted(sources: Partial<Record<AssetKind, KindSource>>): boolean {
  return Object.values(sources).every((s) => !s || (s.done && s.buffer.length === 0))
}

/** 75 → "1:15"; 3725 → "1:02:05". */
export function formatLength(seconds: number): string {
  const t = Math.max(0, Math.round(seconds || 0))
  const h = Math.floor(t / 3600)
  const m = Math.floor((t % 3600) / 60)
  const s = String(t % 60).padStart(2, '0')
  return h ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`
}

/** The line under a card: length (or size) and resolution. */
export function itemDetails(item: LibraryItem): string {
  const parts: string[] = []
  if (item.kind !== 'image') parts.push(formatLength(item.length))
  if (item.width && item.height) parts.push(`${item.width}×${item.height}`)
  if (item.kind === 'audio') parts.push('audio')
  return parts.join(' · ')
}
