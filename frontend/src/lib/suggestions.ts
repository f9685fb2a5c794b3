// The start screen's suggestion cards: what the agents can do with the chat's collection and
// its newest video, built from the agents this server has (a card for an agent it lacks is never
// shown) and the collection's last few videos. Pure, so the cards are tested without a page.
import type { AgentInfo } from '../types'

export interface Suggestion {
  title: string
  hint: string
  /** What the card puts in the composer. */
  text: string
}

export interface RecentVideo {
  id: string
  collection_id: string
  name: string
  thumbnail_url?: string
  length?: number
}

/** Per agent: a card about the newest video, and one for a collection with no video yet. */
const WITH_VIDEO: Record<string, (video: string) => Omit<Suggestion, 'text'> & { text: string }> = {
  summarize_video: (v) => ({ title: `Summarize ${v}`, hint: 'The gist of what is said and shown', text: '@summarize_video ' }),
  search: (v) => ({ title: 'Find a moment', hint: `Search ${v} for what is said or shown`, text: '@search ' }),
  subtitle: (v) => ({ title: 'Add subtitles', hint: `Subtitles for ${v}, from its speech`, text: '@subtitle ' }),
  frame: (v) => ({ title: 'Grab a frame', hint: `A still of ${v} at a time you name`, text: '@frame 0:05' }),
  editing: (v) => ({ title: 'Cut a clip', hint: `A part of ${v}, from one time to another`, text: '@editing ' }),
  index: (v) => ({ title: 'Index the video', hint: `Scenes and speech of ${v}, for search`, text: '@index' }),
}
const ORDER = ['summarize_video', 'search', 'subtitle', 'frame', 'editing', 'index']

const GENERAL: Suggestion[] = [
  { title: 'Ask anything', hint: 'Talk with the assistant', text: 'What can you help me with?' },
  { title: 'Search your chats', hint: 'Full-text search over past chats', text: '@search_chats ' },
  { title: 'Summarize', hint: 'Paste text and get the gist', text: 'Summarize this in three bullet points:\n' },
]

/** At most four cards: with a video, what the agents can do with it; otherwise general ones,
 * then a first agent, so the screen always shows four. */
export function suggestions(agents: AgentInfo[], newest: RecentVideo | null, limit = 4): Suggestion[] {
  const have = new Set(agents.map((a) => a.name))
  const cards: Suggestion[] = []
  if (newest) {
    for (const name of ORDER) if (have.has(name)) cards.push(WITH_VIDEO[name](newest.name))
  }
  for (const card of GENERAL) {
    if (card.text.startsWith('@search_chats') && !have.has('search_chats')) continue
    cards.push(card)
  }
  const first = agents.find((a) => !ORDER.includes(a.name) && a.name !== 'search_chats')
  if (first) cards.push({ title: `Run @${first.name}`, hint: first.description, text: `@${first.name} ` })
  return cards.slice(0, limit)
}

/** `m:ss` of a length in seconds, for a video card. */
export function clock(seconds: number | undefined): string {
  if (!seconds || !Number.isFinite(seconds)) return ''
  const s = Math.round(seconds)
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`
}
