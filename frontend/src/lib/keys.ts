// Injection keys shared by App and deep components.
import type { InjectionKey } from 'vue'

/** Open a chat (and scroll to one of its messages): links in answers use it. */
export const OPEN_SESSION: InjectionKey<(sessionId: string, msgId?: string) => void> = Symbol('open-session')
