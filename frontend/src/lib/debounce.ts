// Trailing-edge debounce per key, with flush() so pending writes go out before the page unloads.
export function keyedDebounce<T>(wait: number, run: (key: string, value: T) => void) {
  const timers = new Map<string, { id: ReturnType<typeof setTimeout>; value: T }>()
  return {
    call(key: string, value: T) {
      const old = timers.get(key)
      if (old) clearTimeout(old.id)
      timers.set(key, { id: setTimeout(() => this.fire(key), wait), value })
    },
    fire(key: string) {
      const t = timers.get(key)
      if (!t) return
      clearTimeout(t.id)
      timers.delete(key)
      run(key, t.value)
    },
    flush() {
      for (const key of [...timers.keys()]) this.fire(key)
    },
  }
}
