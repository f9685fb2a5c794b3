// One session's messages as the client knows them, kept by the recovery rules of docs/protocol.md:
// per msg_id the newest snapshot by `metadata.seq` wins, older or equal ones are dropped (replay
// duplicates are normal), and the highest seq seen is remembered for the next `reconnect`.
// Messages without a seq (the seed's error responses, the user's not-yet-stored inputs) are shown
// after everything known when they arrived.
import type { ShownMessage } from '../types'

export type ApplyResult = 'applied' | 'stale' | 'outside'

function seqOf(m: ShownMessage): number | undefined {
  const s = m.metadata?.seq
  return typeof s === 'number' ? s : undefined
}

function firstSeqOf(m: ShownMessage): number | undefined {
  const s = m.metadata?.first_seq
  return typeof s === 'number' ? s : seqOf(m)
}

export class MessageLog {
  messages: ShownMessage[] = []
  /** Highest seq seen for this session; what `reconnect` asks to be sent after. */
  lastSeq = 0
  /** Older messages exist on the server before `messages[0]`. */
  hasMore = false
  /** Newer messages exist after the loaded window (after jumping to a search hit). */
  hasNewer = false
  /** The server does not know this session yet: a new chat not sent to. */
  isNew = false
  /** Loaded from the server (or known new). */
  loaded = false
  private keys = new Map<string, number>()

  constructor(readonly sessionId: string) {}

  get firstSeq(): number | undefined {
    for (const m of this.messages) {
      const s = firstSeqOf(m)
      if (s !== undefined) return s
    }
    return undefined
  }

  find(msgId: string): ShownMessage | undefined {
    return this.messages.find((m) => m.msg_id === msgId)
  }

  apply(msg: ShownMessage): ApplyResult {
    const seq = seqOf(msg)
    const existing = this.find(msg.msg_id)
    if (seq === undefined) {
      if (existing && seqOf(existing) !== undefined) return 'stale'
      this.place(msg, existing ? this.keys.get(msg.msg_id)! : this.lastSeq + 0.5)
      return 'applied'
    }
    if (seq > this.lastSeq) this.lastSeq = seq
    if (existing) {
      const old = seqOf(existing)
      if (old !== undefined && old >= seq) return 'stale'
    } else {
      const first = firstSeqOf(msg)!
      const floor = this.firstSeq
      // A window that does not reach the start or the end of the chat only takes messages inside it.
      if (this.hasMore && floor !== undefined && first < floor) return 'outside'
      if (this.hasNewer) return 'outside'
    }
    this.place(msg, firstSeqOf(msg)!)
    return 'applied'
  }

  /** Older messages from `GET /session/{id}?before=`: put before what is shown. */
  prepend(older: ShownMessage[], hasMore: boolean): void {
    this.hasMore = false // the window now reaches back to these
    for (const m of older) this.apply(m)
    this.hasMore = hasMore
  }

  /** A fresh page from the server replaces what is shown (opening a chat or jumping to a hit). */
  reset(page: ShownMessage[], hasMore: boolean, hasNewer: boolean): void {
    const unsent = this.messages.filter((m) => m.pending)
    this.messages = []
    this.keys.clear()
    this.hasMore = false
    this.hasNewer = false
    for (const m of page) this.apply(m)
    this.hasMore = hasMore
    this.hasNewer = hasNewer
    for (const m of unsent) this.apply(m)
    this.loaded = true
  }

  remove(msgId: string): void {
    this.messages = this.messages.filter((m) => m.msg_id !== msgId)
    this.keys.delete(msgId)
  }

  private place(msg: ShownMessage, key: number): void {
    const at = this.messages.findIndex((m) => m.msg_id === msg.msg_id)
    if (at >= 0) this.messages.splice(at, 1)
    this.keys.set(msg.msg_id, key)
    let i = this.messages.length
    while (i > 0 && (this.keys.get(this.messages[i - 1].msg_id) ?? 0) > key) i--
    this.messages.splice(i, 0, msg)
  }
}
