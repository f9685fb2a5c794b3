import { beforeEach, describe, expect, it } from 'vitest'
import { takeToken } from '../src/lib/token'

describe('takeToken', () => {
  beforeEach(() => window.sessionStorage.clear())

  it('reads #token=, keeps it in sessionStorage and removes it from the address bar', () => {
    window.history.replaceState(null, '', '/#token=abc-DEF_123')
    expect(takeToken()).toBe('abc-DEF_123')
    expect(window.location.hash).toBe('')
    expect(window.location.href).not.toContain('abc-DEF_123')
    expect(window.sessionStorage.getItem('director.token')).toBe('abc-DEF_123')
  })

  it('keeps other fragment parts', () => {
    window.history.replaceState(null, '', '/#token=t1&session=s1')
    expect(takeToken()).toBe('t1')
    expect(window.location.hash).toBe('#session=s1')
  })

  it('falls back to sessionStorage after a reload', () => {
    window.sessionStorage.setItem('director.token', 'kept')
    window.history.replaceState(null, '', '/')
    expect(takeToken()).toBe('kept')
  })
})
