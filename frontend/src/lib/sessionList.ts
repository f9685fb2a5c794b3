// The loaded part of the chats list, as the server orders it (docs/protocol.md, Sessions): pinned
// first, then most recently updated first. Pages arrive by cursor; a chat that moved between two
// pages (an unpin) can come again, so a page's copy replaces any earlier one.
import type { Session, SessionPage } from '../types'

/** The list with a page added at its end; a chat already listed moves to where the page has it. */
export function mergePage(list: readonly Session[], page: readonly Session[]): Session[] {
  const fresh = new Set(page.map((s) => s.session_id))
  return [...list.filter((s) => !fresh.has(s.session_id)), ...page]
}

/** The server's order, for a change made here before the server's list comes back (a pin). */
export function inListOrder(list: readonly Session[]): Session[] {
  const pinned = (s: Session) => (s.pinned_at === null || s.pinned_at === undefined ? 1 : 0)
  // Array.prototype.sort is stable: chats updated in the same second keep the server's order.
  return [...list].sort((a, b) => pinned(a) - pinned(b) || b.updated_at - a.updated_at)
}

/** The session a `GET /session/{id}` page describes, without its conversation. */
export function sessionOf(page: SessionPage): Session {
  const { conversation: _conversation, has_more: _more, has_newer: _newer, ...session } = page
  return session
}
