// Injection keys shared by App and deep components.
import type { InjectionKey } from 'vue'

/** Open a chat (and scroll to one of its messages): links in answers use it. */
export const OPEN_SESSION: InjectionKey<(sessionId: string, msgId?: string) => void> = Symbol('open-session')

/** The keyboard shortcuts, as the sheet (`?`) lists them; `menu` names where the desktop
 * window's native menu has the same action. */
export interface Shortcut {
  keys: string[]
  does: string
  menu?: string
}

const isMac = typeof navigator !== 'undefined' && /Mac|iPhone|iPad/.test(navigator.platform)
export const MOD = isMac ? '⌘' : 'Ctrl'

export const SHORTCUTS: Shortcut[] = [
  { keys: [MOD, 'K'], does: 'Start a new chat', menu: 'File → New Session' },
  { keys: ['Enter'], does: 'Send the message' },
  { keys: ['Shift', 'Enter'], does: 'New line in the message' },
  { keys: ['@'], does: 'Pick an agent to run' },
  { keys: ['↑'], does: 'Edit the last message again (in an empty composer)', menu: 'Edit → Edit Last Message' },
  { keys: ['Esc'], does: 'Stop the reply being written', menu: 'Edit → Stop Reply' },
  { keys: [MOD, 'Shift', 'C'], does: 'Copy the last reply (as markdown)', menu: 'Edit → Copy Last Reply' },
  { keys: ['?'], does: 'Show these shortcuts', menu: 'Help → Keyboard Shortcuts' },
]

/** The user is typing somewhere (a text field, an editable element): plain keys are theirs. */
export function typing(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false
  if (target.isContentEditable) return true
  const tag = target.tagName
  if (tag === 'TEXTAREA' || tag === 'SELECT') return true
  if (tag !== 'INPUT') return false
  const type = (target as HTMLInputElement).type
  return !['checkbox', 'radio', 'button', 'submit', 'reset', 'range', 'color', 'file'].includes(type)
}

/** Ctrl+Shift+C (⌘⇧C on a Mac): copy the last reply. */
export function isCopyLastReply(e: KeyboardEvent): boolean {
  return (e.ctrlKey || e.metaKey) && e.shiftKey && !e.altKey && e.key.toLowerCase() === 'c'
}

/** The markdown source of a reply: its text items as the model wrote them. */
export function replySource(content: { type?: string; text?: string }[]): string {
  return content
    .filter((item) => item.type === 'text' && item.text)
    .map((item) => item.text as string)
    .join('\n\n')
}
