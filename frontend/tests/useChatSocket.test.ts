import { beforeEach, describe, expect, it } from 'vitest'
import { useChatSocket } from '../src/composables/useChatSocket'
import type { ChatInput, ErrorResponse, Message } from '../src/types'
import { FakeSocket } from './fakeSocket'

const SID = 'session-1'

function output(msgId: string, seq: number, text: string, status = 'progress', firstSeq = seq): Message {
  return {
    session_id: SID,
    conv_id: 'c1',
    msg_id: msgId,
    msg_type: 'output',
    status,
    actions: [],
    agents: [],
    content: [{ type: 'text', text, status, agent_name: 'assistant' }],
    metadata: { seq, first_seq: firstSeq, timestamp: '2026-11-26T10:00:00+00:00' },
  }
}

function input(text: string, msgId = crypto.randomUUID()): ChatInput {
  return {
    session_id: SID,
    conv_id: crypto.randomUUID(),
    msg_id: msgId,
    msg_type: 'input',
    agents: [],
    content: [{ type: 'text', text }],
    metadata: {},
  }
}

describe('useChatSocket', () => {
  let fake: FakeSocket
  let token: string
  let chat: ReturnType<typeof useChatSocket>
  let options: Record<string, unknown>

  beforeEach(() => {
    fake = new FakeSocket()
    token = 'first-token'
    chat = useChatSocket({
      url: 'http://127.0.0.1:1/chat',
      getToken: () => token,
      io: (_url, opts) => {
        options = opts as Record<string, unknown>
        fake.auth = opts.auth as FakeSocket['auth']
        return fake
      },
    })
  })

  it('asks socket.io for endless retries with exponential backoff and jitter', () => {
    expect(options).toMatchObject({
      reconnection: true,
      reconnectionAttempts: Infinity,
      reconnectionDelay: 250,
      reconnectionDelayMax: 5000,
      randomizationFactor: 0.5,
    })
  })

  it('passes the token through an auth callback re-read on every connect', () => {
    expect(fake.authPayload()).toEqual({ token: 'first-token' })
    token = 'second-token'
    expect(fake.authPayload()).toEqual({ token: 'second-token' })
  })

  it('sends reconnect with the highest seq seen after every (re)connect', () => {
    chat.watch(SID)
    fake.serverConnect()
    const [first] = fake.take('reconnect')
    expect(first.payload).toEqual({ session_id: SID, since_seq: 0 })
    first.ack!({ ok: true, data: { last_seq: 0, running: false } })

    fake.push('chat', output('o1', 3, 'Hel'))
    fake.push('chat', output('o1', 7, 'Hello'))
    fake.serverDrop()
    expect(chat.state.status).toBe('reconnecting')
    expect(fake.take('reconnect')).toEqual([])

    fake.serverConnect()
    const [again] = fake.take('reconnect')
    expect(again.payload).toEqual({ session_id: SID, since_seq: 7 })
    expect(chat.state.status).toBe('connected')
  })

  it('keeps the newest snapshot per msg_id and drops stale or equal seqs', () => {
    chat.watch(SID)
    fake.serverConnect()
    fake.push('chat', output('o1', 5, 'Hello wor'))
    fake.push('chat', output('o1', 4, 'Hello')) // stale: arrives late
    fake.push('chat', output('o1', 5, 'DUPLICATE')) // equal seq: a replay duplicate
    const log = chat.log(SID)
    expect(log.messages).toHaveLength(1)
    expect(log.messages[0].content[0].text).toBe('Hello wor')
    fake.push('chat', output('o1', 9, 'Hello world', 'success'))
    expect(log.messages).toHaveLength(1)
    expect(log.messages[0].content[0].text).toBe('Hello world')
    expect(log.lastSeq).toBe(9)
  })

  it('orders messages by first_seq whatever order snapshots arrive in', () => {
    chat.watch(SID)
    fake.serverConnect()
    fake.push('chat', output('b', 6, 'second', 'success', 4))
    fake.push('chat', output('a', 5, 'first', 'success', 2))
    fake.push('chat', output('c', 8, 'third', 'success', 8))
    expect(chat.log(SID).messages.map((m) => m.msg_id)).toEqual(['a', 'b', 'c'])
  })

  it('does not duplicate messages replayed after a reconnect', () => {
    chat.watch(SID)
    fake.serverConnect()
    fake.push('chat', output('o1', 2, 'done', 'success'))
    fake.serverDrop()
    fake.serverConnect()
    // The server replays everything after since_seq; a replay of what we have is harmless.
    fake.push('chat', output('o1', 2, 'done', 'success'))
    fake.push('chat', output('o2', 3, 'new', 'success'))
    expect(chat.log(SID).messages.map((m) => m.msg_id)).toEqual(['o1', 'o2'])
  })

  it('queues inputs typed while disconnected and sends them once connected', () => {
    chat.watch(SID)
    const a = input('typed while offline')
    const b = input('and another')
    chat.send(a)
    chat.send(b)
    expect(fake.take('chat')).toEqual([])
    expect(chat.log(SID).messages.map((m) => m.pending)).toEqual(['queued', 'queued'])
    expect(chat.queued()).toBe(2)

    fake.serverConnect()
    const sent = fake.take('chat')
    expect(sent.map((e) => e.payload.msg_id)).toEqual([a.msg_id, b.msg_id])
    sent[0].ack!({ ok: true, data: { session_id: SID, conv_id: a.conv_id, msg_id: a.msg_id, output_msg_id: 'o-a' } })
    expect(chat.queued()).toBe(1)
    expect(chat.log(SID).find(a.msg_id)?.pending).toBeUndefined()
    expect(chat.isRunning(SID)).toBe(true)
  })

  it('re-sends an input whose ack was lost to a disconnect, with the same ids', () => {
    chat.watch(SID)
    fake.serverConnect()
    const a = input('hello')
    chat.send(a)
    const [first] = fake.take('chat')
    expect(first.payload.msg_id).toBe(a.msg_id)
    fake.serverDrop() // no ack came back
    expect(chat.log(SID).find(a.msg_id)?.pending).toBe('queued')
    fake.serverConnect()
    const [again] = fake.take('chat')
    expect(again.payload).toEqual(first.payload) // idempotent on the server: same session_id, msg_id, conv_id
    again.ack!({ ok: true, data: { session_id: SID, conv_id: a.conv_id, msg_id: a.msg_id, output_msg_id: 'o1' } })
    expect(chat.queued()).toBe(0)
    fake.serverDrop()
    fake.serverConnect()
    expect(fake.take('chat')).toEqual([])
  })

  it('replaces the optimistic input with the stored one', () => {
    chat.watch(SID)
    fake.serverConnect()
    const a = input('hi')
    chat.send(a)
    fake.push('chat', { ...a, status: 'success', actions: [], metadata: { seq: 1, first_seq: 1 } })
    const log = chat.log(SID)
    expect(log.messages).toHaveLength(1)
    expect(log.messages[0].metadata.seq).toBe(1)
  })

  it('treats not_found on reconnect as a new empty chat', () => {
    chat.watch(SID)
    fake.serverConnect()
    const [rc] = fake.take('reconnect')
    rc.ack!({ ok: false, error: { code: 'not_found', message: 'no such session' } })
    expect(chat.log(SID).isNew).toBe(true)
    expect(chat.log(SID).messages).toEqual([])
  })

  it('shows the seed error response in the thread without a seq', () => {
    chat.watch(SID)
    fake.serverConnect()
    const a = input('x')
    chat.send(a)
    const [sent] = fake.take('chat')
    const refused: ErrorResponse = {
      status: 'error',
      message: 'Error in chat handler: too large',
      session_id: SID,
      conv_id: a.conv_id,
      msg_id: 'err-1',
      msg_type: 'output',
      content: [],
      metadata: { timestamp: '2026-11-26T10:00:00+00:00', error_type: 'too_large' },
    }
    fake.push('chat', refused)
    sent.ack!({ ok: false, error: { code: 'too_large', message: 'too large' } })
    const log = chat.log(SID)
    expect(log.messages.map((m) => m.msg_id)).toEqual([a.msg_id, 'err-1'])
    expect(log.find('err-1')).toMatchObject({ message: refused.message, actions: [], agents: [], session_id: SID })
    // A response to a payload without ids is shown in the session on screen.
    fake.push('chat', { ...refused, session_id: null, conv_id: null, msg_id: 'err-2' })
    expect(log.find('err-2')).toMatchObject({ session_id: SID, conv_id: '', status: 'error' })
    expect(log.find(a.msg_id)?.status).toBe('error') // the user's words stay on screen
    expect(chat.queued()).toBe(0)
  })

  it('says Offline after repeated failed attempts and recovers on connect', () => {
    fake.serverConnect()
    fake.serverDrop()
    fake.attempt(1)
    expect(chat.state.status).toBe('reconnecting')
    fake.attempt(6)
    expect(chat.state.status).toBe('offline')
    fake.serverConnect()
    expect(chat.state.status).toBe('connected')
  })

  it('on a (re)connect resyncs the session on screen first, then sends the queue, then tells the app', () => {
    const order: string[] = []
    const other = new FakeSocket()
    const link = useChatSocket({ url: 'x', getToken: () => '', io: () => other, onConnect: () => order.push('onConnect') })
    link.watch(SID)
    link.send(input('queued while connecting'))
    expect(link.state.queued).toBe(1)
    other.serverConnect()
    order.unshift(...other.emitted.map((e) => e.event))
    expect(order).toEqual(['reconnect', 'chat', 'onConnect'])
    expect(link.state).toMatchObject({ status: 'connected', connectedOnce: true, current: SID, queued: 1 })
  })

  it('stops a run with an ack, and answers false while disconnected', async () => {
    expect(await chat.stop(SID, 'c1')).toBe(false)
    fake.serverConnect()
    const stopped = chat.stop(SID, 'c1')
    const [sent] = fake.take('stop')
    expect(sent.payload).toEqual({ session_id: SID, conv_id: 'c1' })
    sent.ack!({ ok: true, data: { stopped: true } })
    expect(await stopped).toBe(true)
  })

  it('refreshes lists on update_data events', () => {
    const seen: string[] = []
    const other = new FakeSocket()
    useChatSocket({ url: 'x', getToken: () => '', io: () => other, onUpdate: (e) => seen.push(e.update) })
    other.push('event', { event_type: 'update_data', update: 'sessions' })
    other.push('event', { event_type: 'something_else', update: 'prefs' })
    expect(seen).toEqual(['sessions'])
  })

  it('hands job events to onJob, whichever window started the job', () => {
    const jobs: string[] = []
    const updates: string[] = []
    const other = new FakeSocket()
    useChatSocket({ url: 'x', getToken: () => '', io: () => other, onUpdate: (e) => updates.push(e.update), onJob: (j) => jobs.push(`${j.id}:${j.status}`) })
    const job = { id: 'j1', kind: 'import', title: 'clip.mp4', status: 'running', progress: 0.5, detail: '', started_at: 1, finished_at: null, error: null, result: null }
    other.push('event', { event_type: 'job', job })
    other.push('event', { event_type: 'job', job: { ...job, status: 'done' } })
    other.push('event', { event_type: 'job' }) // no job: ignored
    expect(jobs).toEqual(['j1:running', 'j1:done'])
    expect(updates).toEqual([])
  })
})
