// The one owner of the Socket.IO connection to `/chat` (PROTOCOL sections 3 and 4).
// - auth is a callback, so every reconnect re-reads the token;
// - socket.io-client's manager retries with exponential backoff and jitter (randomizationFactor);
// - after every (re)connect it sends `reconnect {session_id, since_seq}` for the session on screen
//   and applies what comes back through MessageLog (newest seq per msg_id wins);
// - inputs are queued until the server acks them and re-sent after a reconnect, so nothing typed
//   while disconnected is dropped (the server treats a re-sent (session_id, msg_id) as idempotent).
// Components never call io() themselves; they get this object from the chat store.
import { io as realIo, type ManagerOptions, type SocketOptions } from 'socket.io-client'
import { reactive } from 'vue'
import { MessageLog } from '../lib/messageLog'
import type { Ack, ChatAck, ChatInput, Message, ReconnectAck, UpdateEvent } from '../types'

type Handler = (...args: any[]) => void

/** The part of socket.io-client's Socket this composable uses (a fake implements it in tests). */
export interface SocketLike {
  readonly connected: boolean
  readonly active: boolean
  on(event: string, fn: Handler): unknown
  emit(event: string, ...args: unknown[]): unknown
  connect(): unknown
  disconnect(): unknown
  io: { on(event: string, fn: Handler): unknown }
}

export type IoFactory = (url: string, opts: Partial<ManagerOptions & SocketOptions>) => SocketLike

export type LinkStatus = 'connecting' | 'connected' | 'reconnecting' | 'offline'

export interface ChatSocketOptions {
  url: string
  getToken: () => string
  io?: IoFactory
  onUpdate?: (event: UpdateEvent) => void
  onConnect?: () => void
  /** Failed attempts after which the banner says "Offline" instead of "Reconnecting…". */
  offlineAfter?: number
}

interface Outgoing {
  input: ChatInput
  inFlight: boolean
}

export const SOCKET_OPTIONS: Partial<ManagerOptions & SocketOptions> = {
  // Straight to a websocket: the server is on this machine's loopback, where no proxy can refuse
  // one, and the default (HTTP long-polling first, then the upgrade) costs a launch and every
  // reconnect several extra round trips.
  transports: ['websocket'],
  reconnection: true,
  reconnectionAttempts: Infinity,
  reconnectionDelay: 250,
  reconnectionDelayMax: 5000,
  randomizationFactor: 0.5,
  timeout: 5000,
}

export function useChatSocket(options: ChatSocketOptions) {
  const state = reactive({
    status: 'connecting' as LinkStatus,
    attempts: 0,
    connectedOnce: false,
    error: '' as string,
    current: '' as string,
    logs: {} as Record<string, MessageLog>,
    /** Output message ids acked for a run whose final snapshot has not arrived yet. */
    awaiting: {} as Record<string, string[]>,
    /** Inputs not yet acked by the server (shown in the banner while disconnected). */
    queued: 0,
  })
  const queue: Outgoing[] = []
  const offlineAfter = options.offlineAfter ?? 5

  const socket = (options.io ?? (realIo as unknown as IoFactory))(options.url, {
    ...SOCKET_OPTIONS,
    auth: (cb: (data: object) => void) => cb({ token: options.getToken() }),
  })

  function log(sessionId: string): MessageLog {
    if (!state.logs[sessionId]) state.logs[sessionId] = new MessageLog(sessionId)
    return state.logs[sessionId]
  }

  function apply(msg: Message): void {
    const sid = msg.session_id || state.current
    if (!sid) return
    const target = log(sid)
    target.isNew = false
    target.apply(msg)
    if (msg.msg_type === 'output' && msg.status !== 'progress') {
      const waiting = state.awaiting[sid]
      if (waiting) state.awaiting[sid] = waiting.filter((id) => id !== msg.msg_id)
    }
  }

  function resync(sessionId: string): void {
    if (!socket.connected || !sessionId) return
    const target = log(sessionId)
    socket.emit('reconnect', { session_id: sessionId, since_seq: target.lastSeq }, (ack: Ack<ReconnectAck>) => {
      if (ack?.ok) {
        target.isNew = false
        if (!ack.data.running) state.awaiting[sessionId] = []
      } else if (ack?.error.code === 'not_found') {
        // A chat made in this page and not sent to yet (or not stored yet): an empty new chat.
        target.isNew = true
        target.loaded = true
      }
    })
  }

  function transmit(item: Outgoing): void {
    if (!socket.connected || item.inFlight) return
    item.inFlight = true
    const { input } = item
    const local = log(input.session_id).find(input.msg_id)
    if (local) local.pending = 'sending'
    socket.emit('chat', input, (ack: Ack<ChatAck>) => {
      const at = queue.indexOf(item)
      if (at >= 0) queue.splice(at, 1)
      state.queued = queue.length
      const shown = log(input.session_id).find(input.msg_id)
      if (ack?.ok) {
        if (shown) delete shown.pending
        const waiting = state.awaiting[input.session_id] ?? []
        const out = log(input.session_id).find(ack.data.output_msg_id)
        if (!out || out.status === 'progress') state.awaiting[input.session_id] = [...waiting, ack.data.output_msg_id]
      } else if (shown) {
        // Refused before anything was stored: keep the user's words on screen, marked as failed.
        delete shown.pending
        shown.status = 'error'
      }
    })
  }

  function flush(): void {
    for (const item of queue) transmit(item)
  }

  socket.on('connect', () => {
    state.status = 'connected'
    state.attempts = 0
    state.error = ''
    state.connectedOnce = true
    for (const item of queue) item.inFlight = false
    resync(state.current)
    flush()
    options.onConnect?.()
  })
  socket.on('disconnect', (reason: string) => {
    state.status = reason === 'io client disconnect' ? 'offline' : 'reconnecting'
    for (const item of queue) item.inFlight = false
    for (const item of queue) {
      const shown = log(item.input.session_id).find(item.input.msg_id)
      if (shown) shown.pending = 'queued'
    }
  })
  socket.on('connect_error', (err: Error) => {
    if (err?.message === 'unauthorized') {
      state.error = 'unauthorized'
      state.status = 'offline'
    }
    // When the server refused the CONNECT itself, socket.io does not retry on its own.
    if (!socket.active) setTimeout(() => socket.connect(), 2000)
  })
  socket.io.on('reconnect_attempt', (attempt: number) => {
    state.attempts = attempt
    state.status = attempt > offlineAfter ? 'offline' : 'reconnecting'
  })
  socket.on('chat', (msg: Message) => apply(msg))
  socket.on('event', (event: UpdateEvent) => {
    if (event?.event_type === 'update_data') options.onUpdate?.(event)
  })

  return {
    state,
    socket,
    log,
    /** Show this session: its snapshots are applied and it is resynced on every (re)connect. */
    watch(sessionId: string): void {
      state.current = sessionId
      resync(sessionId)
    },
    /** Queue an input; it is shown at once and sent now or as soon as the socket is connected. */
    send(input: ChatInput): void {
      const target = log(input.session_id)
      target.apply({ ...input, status: 'success', actions: [], pending: socket.connected ? 'sending' : 'queued' })
      queue.push({ input, inFlight: false })
      state.queued = queue.length
      flush()
    },
    stop(sessionId: string, convId: string): Promise<boolean> {
      return new Promise((resolve) => {
        if (!socket.connected) return resolve(false)
        socket.emit('stop', { session_id: sessionId, conv_id: convId }, (ack: Ack<{ stopped: boolean }>) =>
          resolve(Boolean(ack?.ok && ack.data.stopped)),
        )
      })
    },
    isRunning(sessionId: string): boolean {
      const l = state.logs[sessionId]
      if (!l) return false
      if ((state.awaiting[sessionId] ?? []).length) return true
      return l.messages.some((m) => m.msg_type === 'output' && m.status === 'progress')
    },
    queued(): number {
      return queue.length
    },
    dispose(): void {
      socket.disconnect()
    },
  }
}

export type ChatSocket = ReturnType<typeof useChatSocket>
