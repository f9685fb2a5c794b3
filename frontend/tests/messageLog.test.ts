import { describe, expect, it } from 'vitest'
import { MessageLog } from '../src/lib/messageLog'
import type { Message } from '../src/types'

function msg(id: string, seq: number, firstSeq = seq): Message {
  return { session_id: 's', conv_id: 'c', msg_id: id, msg_type: 'output', status: 'success', actions: [], agents: [], content: [], metadata: { seq, first_seq: firstSeq } }
}

describe('MessageLog windows', () => {
  it('prepends an older page before what is shown', () => {
    const log = new MessageLog('s')
    log.reset([msg('c', 3), msg('d', 4)], true, false)
    log.prepend([msg('a', 1), msg('b', 2)], false)
    expect(log.messages.map((m) => m.msg_id)).toEqual(['a', 'b', 'c', 'd'])
    expect(log.hasMore).toBe(false)
  })

  it('ignores live updates of messages older than a partial window', () => {
    const log = new MessageLog('s')
    log.reset([msg('c', 3), msg('d', 4)], true, false)
    expect(log.apply(msg('a', 9, 1))).toBe('outside')
    expect(log.apply(msg('e', 10))).toBe('applied')
    expect(log.messages.map((m) => m.msg_id)).toEqual(['c', 'd', 'e'])
    expect(log.lastSeq).toBe(10)
  })

  it('keeps unsent inputs across a reset', () => {
    const log = new MessageLog('s')
    log.apply({ ...msg('mine', 0), metadata: {}, msg_type: 'input', pending: 'queued' })
    log.reset([msg('a', 1)], false, false)
    expect(log.messages.map((m) => m.msg_id)).toEqual(['a', 'mine'])
  })
})
