import { describe, expect, it } from 'vitest'
import { inListOrder, mergePage, sessionOf } from '../src/lib/sessionList'
import type { Session } from '../src/types'

function chat(id: string, updated: number, pinned: number | null = null): Session {
  return { session_id: id, name: id, video_id: null, collection_id: null, created_at: 1, updated_at: updated, metadata: {}, pinned_at: pinned }
}
const ids = (list: Session[]) => list.map((s) => s.session_id)

describe('the loaded chats list', () => {
  it('adds a page at its end', () => {
    expect(ids(mergePage([chat('a', 3), chat('b', 2)], [chat('c', 1)]))).toEqual(['a', 'b', 'c'])
  })

  it('keeps one row per chat: a chat a page brings again moves to the page’s place', () => {
    // Unpinned between two pages: the next page has it again, at its place by activity.
    const merged = mergePage([chat('a', 9, 5), chat('b', 8)], [chat('c', 7), chat('a', 6), chat('d', 5)])
    expect(ids(merged)).toEqual(['b', 'c', 'a', 'd'])
    expect(merged[2].pinned_at).toBeNull()
  })

  it('orders as the server does: pinned first, then newest, stable for ties', () => {
    const list = [chat('a', 5), chat('b', 9), chat('c', 1, 7), chat('d', 5), chat('e', 3, 2)]
    expect(ids(inListOrder(list))).toEqual(['e', 'c', 'b', 'a', 'd'])
  })

  it('takes the session out of a session page', () => {
    const session = chat('a', 1)
    expect(sessionOf({ ...session, conversation: [], has_more: true, has_newer: false })).toEqual(session)
  })
})
