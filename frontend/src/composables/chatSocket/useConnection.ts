// The connection to `/chat` (the Socket.IO part of docs/protocol.md): the one place io() is
// called, and the link's state the banner shows.
// - auth is a callback, so every reconnect re-reads the token;
// - socket.io-client's manager retries with exponential backoff and jitter (randomizationFactor);
// - a CONNECT the server refused is retried too (socket.io does not retry that on its own);
// - the rest of the chat socket (recovery, actions) hears (re)connects and drops through
//   onConnect/onDisconnect, in the order they were registered.
import { io as realIo, type ManagerOptions, type SocketOptions } from 'socket.io-client'
import { reactive } from 'vue'

type Handler = (...args: any[]) => void

/** The part of socket.io-client's Socket the chat socket uses (a fake implements it in tests). */
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

export interface ConnectionOptions {
  url: string
  getToken: () => string
  io?: IoFactory
  /** Failed attempts after which the banner says "Offline" instead of "Reconnecting…". */
  offlineAfter?: number
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

export function useConnection(options: ConnectionOptions) {
  const state = reactive({
    status: 'connecting' as LinkStatus,
    attempts: 0,
    connectedOnce: false,
    error: '' as string,
  })
  const offlineAfter = options.offlineAfter ?? 5
  const connected: (() => void)[] = []
  const dropped: (() => void)[] = []

  const socket = (options.io ?? (realIo as unknown as IoFactory))(options.url, {
    ...SOCKET_OPTIONS,
    auth: (cb: (data: object) => void) => cb({ token: options.getToken() }),
  })

  socket.on('connect', () => {
    state.status = 'connected'
    state.attempts = 0
    state.error = ''
    state.connectedOnce = true
    for (const fn of connected) fn()
  })
  socket.on('disconnect', (reason: string) => {
    state.status = reason === 'io client disconnect' ? 'offline' : 'reconnecting'
    for (const fn of dropped) fn()
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

  return {
    state,
    socket,
    /** Runs after every (re)connect, once the state says connected. */
    onConnect(fn: () => void): void {
      connected.push(fn)
    },
    /** Runs after every drop, the page's own disconnect included. */
    onDisconnect(fn: () => void): void {
      dropped.push(fn)
    },
    dispose(): void {
      socket.disconnect()
    },
  }
}

export type Connection = ReturnType<typeof useConnection>
