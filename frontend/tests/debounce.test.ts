import { afterEach, describe, expect, it, vi } from 'vitest'
import { keyedDebounce } from '../src/lib/debounce'

describe('keyedDebounce (draft saving)', () => {
  afterEach(() => vi.useRealTimers())

  it('sends the last value per key once typing pauses, and everything on flush', () => {
    vi.useFakeTimers()
    const sent: [string, string][] = []
    const d = keyedDebounce<string>(500, (k, v) => sent.push([k, v]))
    d.call('s1', 'h')
    d.call('s1', 'he')
    d.call('s2', 'other')
    vi.advanceTimersByTime(499)
    expect(sent).toEqual([])
    d.call('s1', 'hello')
    vi.advanceTimersByTime(1)
    expect(sent).toEqual([['s2', 'other']])
    d.flush() // leaving the page or switching chats
    expect(sent).toEqual([['s2', 'other'], ['s1', 'hello']])
    vi.advanceTimersByTime(1000)
    expect(sent).toHaveLength(2)
  })
})
