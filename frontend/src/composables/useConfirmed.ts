// An action that waits for the user's confirmation (ConfirmDialog): what it is about, whether it
// runs, and the server's refusal, which keeps the dialog open with the reason.
import { ref, shallowRef, type Ref } from 'vue'
import { WireError } from '../lib/http'

export function useConfirmed<T>(run: (target: T) => Promise<void>) {
  const target = shallowRef<T | null>(null)
  const busy = ref(false)
  const error = ref('')

  function ask(what: T): void {
    target.value = what
    error.value = ''
  }
  function cancel(): void {
    target.value = null
  }
  async function confirm(): Promise<void> {
    const what = target.value
    if (what === null || busy.value) return
    busy.value = true
    try {
      await run(what)
      target.value = null
    } catch (e) {
      error.value = WireError.from(e).message
    } finally {
      busy.value = false
    }
  }

  return { target, busy, error, ask, cancel, confirm }
}

/** What ConfirmDialog reads of an action, whatever its target. */
export interface Confirmed {
  readonly target: Readonly<Ref<unknown>>
  readonly busy: Readonly<Ref<boolean>>
  readonly error: Readonly<Ref<string>>
  cancel(): void
  confirm(): Promise<void>
}
