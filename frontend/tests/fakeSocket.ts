// An in-process stand-in for socket.io-client's Socket, implementing only what SocketLike names:
// the test plays the server (connect, drop, snapshots, acks) and the real composable is under test.
import type { SocketLike } from '../src/composables/chatSocket/useConnection'

type Handler = (...args: any[]) => void

export interface Emitted {
  event: string
  payload: any
  ack?: (reply: unknown) => void
}

export class FakeSocket implements SocketLike {
  connected = false
  active = true
  emitted: Emitted[] = []
  auth: ((cb: (data: object) => void) => void) | undefined
  private handlers = new Map<string, Handler[]>()
  private managerHandlers = new Map<string, Handler[]>()
  io = {
    on: (event: string, fn: Handler) => {
      this.managerHandlers.set(event, [...(this.managerHandlers.get(event) ?? []), fn])
    },
  }

  on(event: string, fn: Handler): void {
    this.handlers.set(event, [...(this.handlers.get(event) ?? []), fn])
  }
  emit(event: string, ...args: unknown[]): void {
    const ack = typeof args[args.length - 1] === 'function' ? (args.pop() as (reply: unknown) => void) : undefined
    this.emitted.push({ event, payload: args[0], ack })
  }
  connect(): void {}
  disconnect(): void {
    this.connected = false
    this.active = false
    this.fire('disconnect', 'io client disconnect')
  }

  // --- the server's side, driven by the test ---
  /** What a real CONNECT sends as `auth`. */
  authPayload(): object {
    let out: object = {}
    this.auth?.((data) => (out = data))
    return out
  }
  serverConnect(): void {
    this.connected = true
    this.fire('connect')
  }
  serverDrop(): void {
    this.connected = false
    this.fire('disconnect', 'transport close')
  }
  attempt(n: number): void {
    for (const fn of this.managerHandlers.get('reconnect_attempt') ?? []) fn(n)
  }
  push(event: string, payload: unknown): void {
    this.fire(event, payload)
  }
  take(event: string): Emitted[] {
    const out = this.emitted.filter((e) => e.event === event)
    this.emitted = this.emitted.filter((e) => e.event !== event)
    return out
  }
  private fire(event: string, ...args: unknown[]): void {
    for (const fn of this.handlers.get(event) ?? []) fn(...args)
  }
}
