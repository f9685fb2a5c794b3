// The one owner of the Socket.IO connection to `/chat` (docs/protocol.md), put together from
// its three use cases in chatSocket/:
// - useConnection: the socket (the one io() call), the token re-read on every connect, backoff
//   with jitter, and the link state the banner shows;
// - useRecovery: each session's MessageLog, and `reconnect {session_id, since_seq}` for the
//   session on screen after every (re)connect (`not_found`: a new chat);
// - useChatActions: `chat` inputs queued until acked and re-sent after a reconnect, `stop`, and
//   the versions of a message (`regenerate`, `edit`, `select_version`).
// On every (re)connect the session on screen is resynced first, then the queued inputs are sent.
// The socket's broadcast `event`s go to the hooks: `update_data` to onUpdate, `job` to onJob.
// Components never call io() themselves; they get this object from the chat store.
import { reactive, toRef, toRefs } from 'vue'
import { useChatActions } from './chatSocket/useChatActions'
import { useConnection, type IoFactory } from './chatSocket/useConnection'
import { useRecovery } from './chatSocket/useRecovery'
import type { JobEvent, JobInfo, UpdateEvent } from '../types'

export interface ChatSocketOptions {
  url: string
  getToken: () => string
  io?: IoFactory
  onUpdate?: (event: UpdateEvent) => void
  /** A job changed (PROTOCOL section 7), whichever window started it. */
  onJob?: (job: JobInfo) => void
  onConnect?: () => void
  /** Failed attempts after which the banner says "Offline" instead of "Reconnecting…". */
  offlineAfter?: number
}

export function useChatSocket(options: ChatSocketOptions) {
  const connection = useConnection(options)
  const { socket } = connection
  const recovery = useRecovery(socket)
  const actions = useChatActions(socket, recovery)

  connection.onConnect(() => {
    recovery.resyncCurrent()
    actions.resend()
    options.onConnect?.()
  })
  connection.onDisconnect(() => actions.hold())
  socket.on('event', (event: UpdateEvent | JobEvent) => {
    if (event?.event_type === 'update_data') options.onUpdate?.(event)
    else if (event?.event_type === 'job' && event.job) options.onJob?.(event.job)
  })

  /** One view of the three parts' state: the link, the sessions known, the inputs queued. */
  const state = reactive({
    ...toRefs(connection.state),
    ...toRefs(recovery.state),
    queued: toRef(actions.state, 'queued'),
  })

  return {
    state,
    socket,
    log: recovery.log,
    watch: recovery.watch,
    isRunning: recovery.isRunning,
    send: actions.send,
    stop: actions.stop,
    revise: actions.revise,
    selectVersion: actions.selectVersion,
    queued: actions.queued,
    dispose: connection.dispose,
  }
}

export type ChatSocket = ReturnType<typeof useChatSocket>
