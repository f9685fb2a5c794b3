// The sidebar's groups of chats: Pinned, then by last activity in local time — Today, Yesterday,
// Last 7 days, Older. Pure functions of the list and "now", so the date boundaries are tested.
import type { Session } from '../types'

export type GroupKey = 'pinned' | 'today' | 'yesterday' | 'week' | 'older'

export interface SessionGroup {
  key: GroupKey
  label: string
  sessions: Session[]
}

export const GROUP_LABELS: Record<GroupKey, string> = {
  pinned: 'Pinned',
  today: 'Today',
  yesterday: 'Yesterday',
  week: 'Last 7 days',
  older: 'Older',
}

const ORDER: GroupKey[] = ['pinned', 'today', 'yesterday', 'week', 'older']

/** Local midnight `daysBack` calendar days before `now`'s day, in epoch seconds. Built from the
 * calendar date, not by subtracting 24-hour steps, so a 23- or 25-hour day (a daylight-saving
 * change) moves no chat into the wrong group. */
function midnight(now: Date, daysBack: number): number {
  return new Date(now.getFullYear(), now.getMonth(), now.getDate() - daysBack).getTime() / 1000
}

/** The group of one chat. "Last 7 days" is the seven calendar days ending today, less the two
 * that have their own group; a time ahead of the clock (another machine's) counts as today. */
export function groupOf(session: Session, now: Date): GroupKey {
  if (session.pinned_at !== null && session.pinned_at !== undefined) return 'pinned'
  const at = session.updated_at
  if (at >= midnight(now, 0)) return 'today'
  if (at >= midnight(now, 1)) return 'yesterday'
  if (at >= midnight(now, 6)) return 'week'
  return 'older'
}

/** The non-empty groups in display order; each keeps the order the list gave its chats. */
export function groupSessions(sessions: readonly Session[], now: Date): SessionGroup[] {
  const found = new Map<GroupKey, Session[]>()
  for (const s of sessions) {
    const key = groupOf(s, now)
    const list = found.get(key)
    if (list) list.push(s)
    else found.set(key, [s])
  }
  return ORDER.filter((key) => found.has(key)).map((key) => ({ key, label: GROUP_LABELS[key], sessions: found.get(key)! }))
}
