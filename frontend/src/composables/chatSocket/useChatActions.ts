// What the user does on the socket, each answered by an ack: `chat` (send an input), `stop`, and
// the versions of PROTOCOL 8: `regenerate`, `edit` and `select_version`.
// Inputs are shown at once and queued until the server acks them; a drop puts the unacked ones
// back in the queue and a (re)connect sends them again, so nothing typed while disconnected is
// lost (the server treats a re-sent (session_id, msg_id) as idempotent). A refused input stays on
// screen, marked as failed.
import { reactive } from 'vue'
import type { Ack, ChatAck, ChatInput, ContentItem, SelectVersionAck, StopAck, VersionAck } from '../../types'
import type { SocketLike } from './useConnection'
import type { Recovery } from './useRecovery'

interface Outgoing {
  input: ChatInput
  inFlight: boolean
}

export function useChatActions(socket: SocketLike, sessions: Recovery) {
  const state = reactive({
    /** Inputs not yet acked by the server (shown in the banner while disconnected). */
    queued: 0,
  })
  const queue: Outgoing[] = []

  function transmit(item: Outgoing): void {
    if (!socket.connected || item.inFlight) return
    item.inFlight = true
    const { input } = item
    const local = sessions.log(input.session_id).find(input.msg_id)
    if (local) local.pending = 'sending'
    socket.emit('chat', input, (ack: Ack<ChatAck>) => {
      const at = queue.indexOf(item)
      if (at >= 0) queue.splice(at, 1)
      state.queued = queue.length
      const shown = sessions.log(input.session_id).find(input.msg_id)
      if (ack?.ok) {
        if (shown) delete shown.pending
        if (ack.data.output_msg_id) sessions.expectOutput(input.session_id, ack.data.output_msg_id)
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

  return {
    state,
    /** Queue an input; it is shown at once and sent now or as soon as the socket is connected. */
    send(input: ChatInput): void {
      const target = sessions.log(input.session_id)
      target.apply({ ...input, status: 'success', actions: [], pending: socket.connected ? 'sending' : 'queued' })
      queue.push({ input, inFlight: false })
      state.queued = queue.length
      flush()
    },
    stop(sessionId: string, convId: string): Promise<boolean> {
      return new Promise((resolve) => {
        if (!socket.connected) return resolve(false)
        socket.emit('stop', { session_id: sessionId, conv_id: convId }, (ack: Ack<StopAck>) =>
          resolve(Boolean(ack?.ok && ack.data.stopped)),
        )
      })
    },
    /** Run a turn again (`content` absent) or edit its input and run it: a new version. */
    revise(sessionId: string, convId: string, content?: ContentItem[]): Promise<Ack<VersionAck>> {
      const event = content ? 'edit' : 'regenerate'
      const payload = { session_id: sessionId, conv_id: convId, ...(content ? { content } : {}) }
      return new Promise((resolve) => {
        if (!socket.connected) return resolve(offline())
        socket.emit(event, payload, (ack: Ack<VersionAck>) => {
          if (ack?.ok && ack.data.output_msg_id) sessions.expectOutput(sessionId, ack.data.output_msg_id)
          resolve(ack)
        })
      })
    },
    /** Show another version of a message (and the branch that follows it). */
    selectVersion(sessionId: string, msgId: string, version: number): Promise<Ack<SelectVersionAck>> {
      return new Promise((resolve) => {
        if (!socket.connected) return resolve(offline())
        socket.emit('select_version', { session_id: sessionId, msg_id: msgId, version }, resolve)
      })
    },
    /** After a (re)connect: send every input not acked yet, again if its ack was lost. */
    resend(): void {
      for (const item of queue) item.inFlight = false
      flush()
    },
    /** After a drop: the unacked inputs wait for the next connect, shown as queued. */
    hold(): void {
      for (const item of queue) item.inFlight = false
      for (const item of queue) {
        const shown = sessions.log(item.input.session_id).find(item.input.msg_id)
        if (shown) shown.pending = 'queued'
      }
    },
    queued(): number {
      return queue.length
    },
  }
}

/** The answer to an action asked while the socket is down: nothing was sent. */
function offline(): { ok: false; error: { code: string; message: string } } {
  return { ok: false, error: { code: 'offline', message: 'Not connected; try again once the link is back.' } }
}
