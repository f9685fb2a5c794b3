// What the page knows of each session, and how it catches up (the recovery rules of
// docs/protocol.md): every `chat` snapshot is applied through the session's MessageLog (newest seq
// per msg_id wins); after every (re)connect the session on screen is resynced with
// `reconnect {session_id, since_seq}`, the highest seq seen; a session the server answers
// `not_found` for is a new chat not sent to yet. It also tracks the runs acked but not finished,
// so the page knows a session is busy before the reply's first snapshot arrives.
import { reactive } from 'vue'
import { MessageLog } from '../../lib/messageLog'
import type { Ack, ErrorResponse, Message, ReconnectAck, ShownMessage } from '../../types'
import type { SocketLike } from './useConnection'

export function useRecovery(socket: SocketLike) {
  const state = reactive({
    current: '' as string,
    logs: {} as Record<string, MessageLog>,
    /** Output message ids acked for a run whose final snapshot has not arrived yet. */
    awaiting: {} as Record<string, string[]>,
  })

  function log(sessionId: string): MessageLog {
    if (!state.logs[sessionId]) state.logs[sessionId] = new MessageLog(sessionId)
    return state.logs[sessionId]
  }

  function apply(msg: Message | ErrorResponse): void {
    const sid = msg.session_id || state.current
    if (!sid) return
    const target = log(sid)
    target.isNew = false
    target.apply(shown(msg, sid))
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

  socket.on('chat', (msg: Message | ErrorResponse) => apply(msg))

  return {
    state,
    log,
    /** Show this session: its snapshots are applied and it is resynced on every (re)connect. */
    watch(sessionId: string): void {
      state.current = sessionId
      resync(sessionId)
    },
    /** Catch the session on screen up after a (re)connect. */
    resyncCurrent(): void {
      resync(state.current)
    },
    /** A run the server acked: the session is running until this output's final snapshot. */
    expectOutput(sessionId: string, outputMsgId: string): void {
      const out = log(sessionId).find(outputMsgId)
      if (!out || out.status === 'progress') state.awaiting[sessionId] = [...(state.awaiting[sessionId] ?? []), outputMsgId]
    },
    isRunning(sessionId: string): boolean {
      const l = state.logs[sessionId]
      if (!l) return false
      if ((state.awaiting[sessionId] ?? []).length) return true
      return l.messages.some((m) => m.msg_type === 'output' && m.status === 'progress')
    },
  }
}

export type Recovery = ReturnType<typeof useRecovery>

/** A `chat` snapshot as the list shows it: a seed's error response (never stored: no actions,
 * agents or seq, maybe no ids) becomes a message of the session it arrived for. */
function shown(msg: Message | ErrorResponse, sessionId: string): ShownMessage {
  if (!('message' in msg)) return msg
  return { ...msg, session_id: sessionId, conv_id: msg.conv_id ?? '', actions: [], agents: [], metadata: { ...msg.metadata } }
}
