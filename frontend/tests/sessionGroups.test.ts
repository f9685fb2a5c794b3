import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { groupOf, groupSessions } from '../src/lib/sessionGroups'
import type { Session } from '../src/types'

// A zone with daylight saving, so the 23-hour day (29 March 2026 in Berlin) is really there.
const zone = process.env.TZ
beforeAll(() => {
  process.env.TZ = 'Europe/Berlin'
})
afterAll(() => {
  process.env.TZ = zone
})

const at = (...parts: [number, number, number, number?, number?, number?]) =>
  Math.floor(new Date(parts[0], parts[1], parts[2], parts[3] ?? 0, parts[4] ?? 0, parts[5] ?? 0).getTime() / 1000)

function chat(id: string, updated: number, pinned: number | null = null): Session {
  return { session_id: id, name: id, video_id: null, collection_id: null, created_at: updated, updated_at: updated, metadata: {}, pinned_at: pinned }
}

describe('groupOf', () => {
  // Thursday 2 April 2026, 09:30 local time.
  const now = new Date(2026, 3, 2, 9, 30)

  it('puts a chat in its local calendar day, to the second', () => {
    expect(groupOf(chat('a', at(2026, 3, 2, 0, 0, 0)), now)).toBe('today')
    expect(groupOf(chat('a', at(2026, 3, 1, 23, 59, 59)), now)).toBe('yesterday')
    expect(groupOf(chat('a', at(2026, 3, 1, 0, 0, 0)), now)).toBe('yesterday')
    expect(groupOf(chat('a', at(2026, 2, 31, 23, 59, 59)), now)).toBe('week')
    // The seven calendar days ending today: from Friday 27 March, 00:00.
    expect(groupOf(chat('a', at(2026, 2, 27, 0, 0, 0)), now)).toBe('week')
    expect(groupOf(chat('a', at(2026, 2, 26, 23, 59, 59)), now)).toBe('older')
    expect(groupOf(chat('a', 0), now)).toBe('older')
  })

  it('counts a time ahead of the clock as today', () => {
    expect(groupOf(chat('a', at(2026, 3, 5)), now)).toBe('today')
  })

  it('puts a pinned chat in Pinned whatever its age', () => {
    expect(groupOf(chat('a', 0, at(2026, 3, 2)), now)).toBe('pinned')
    expect(groupOf(chat('a', at(2026, 3, 2, 9), 1), now)).toBe('pinned')
  })

  it('keeps the days whole across a daylight-saving change', () => {
    // Monday 30 March 2026, 00:30: the Sunday before had 23 hours. 24 hours back from now is
    // Saturday 23:30, yet 23:30 on Sunday is still yesterday and Saturday is not.
    const monday = new Date(2026, 2, 30, 0, 30)
    expect(new Date(2026, 2, 28, 12).getTimezoneOffset()).not.toBe(new Date(2026, 2, 30, 12).getTimezoneOffset())
    expect(groupOf(chat('a', at(2026, 2, 29, 0, 0, 0)), monday)).toBe('yesterday')
    expect(groupOf(chat('a', at(2026, 2, 29, 23, 30)), monday)).toBe('yesterday')
    expect(groupOf(chat('a', at(2026, 2, 28, 23, 59, 59)), monday)).toBe('week')
    expect(groupOf(chat('a', at(2026, 2, 30, 0, 0, 0)), monday)).toBe('today')
    // And the autumn one (25 October 2026 has 25 hours).
    const after = new Date(2026, 9, 26, 23, 0)
    expect(groupOf(chat('a', at(2026, 9, 25, 0, 0, 0)), after)).toBe('yesterday')
    expect(groupOf(chat('a', at(2026, 9, 24, 23, 59, 59)), after)).toBe('week')
  })

  it('starts a new year and a new month on their own days', () => {
    const newYear = new Date(2027, 0, 1, 8)
    expect(groupOf(chat('a', at(2026, 11, 31, 22)), newYear)).toBe('yesterday')
    expect(groupOf(chat('a', at(2026, 11, 26, 0)), newYear)).toBe('week')
    expect(groupOf(chat('a', at(2026, 11, 25, 23)), newYear)).toBe('older')
  })
})

describe('groupSessions', () => {
  const now = new Date(2026, 3, 2, 9, 30)

  it('answers the non-empty groups in order, each in the order the list gave', () => {
    const list = [
      chat('p2', at(2025, 0, 1), at(2026, 3, 1)),
      chat('p1', at(2026, 3, 2, 8), at(2026, 2, 1)),
      chat('t2', at(2026, 3, 2, 9)),
      chat('t1', at(2026, 3, 2, 1)),
      chat('w1', at(2026, 2, 30)),
      chat('o1', at(2025, 5, 1)),
    ]
    const groups = groupSessions(list, now)
    expect(groups.map((g) => [g.label, g.sessions.map((s) => s.session_id)])).toEqual([
      ['Pinned', ['p2', 'p1']],
      ['Today', ['t2', 't1']],
      ['Last 7 days', ['w1']],
      ['Older', ['o1']],
    ])
  })

  it('answers no group for no chats', () => {
    expect(groupSessions([], now)).toEqual([])
  })
})
