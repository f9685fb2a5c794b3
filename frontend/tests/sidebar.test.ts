import { mount } from '@vue/test-utils'
import { afterEach, describe, expect, it, vi } from 'vitest'
import AppSidebar from '../src/components/AppSidebar.vue'
import type { Session } from '../src/types'

const NOW = Math.floor(Date.now() / 1000)
const DAY = 86_400

function chat(i: number, updated = NOW - i, pinned: number | null = null): Session {
  return { session_id: `s${i}`, name: `chat ${i}`, video_id: null, collection_id: null, created_at: updated, updated_at: updated, metadata: {}, pinned_at: pinned }
}

function sidebar(sessions: Session[], extra: Record<string, unknown> = {}) {
  return mount(AppSidebar, {
    props: { sessions, currentId: '', agents: [], hits: null, dark: false, ...extra },
    attachTo: document.body,
  })
}
type Sidebar = ReturnType<typeof sidebar>

function names(wrapper: Sidebar): string[] {
  return wrapper.findAll('[data-testid="sessions"] .session-open').map((n) => n.text())
}
function groups(wrapper: Sidebar): [string, string[]][] {
  return wrapper.findAll('.session-group').map((g) => [g.get('h2').text(), g.findAll('.session-open').map((n) => n.text())])
}

let mounted: Sidebar | undefined
afterEach(() => {
  mounted?.unmount()
  mounted = undefined
})

describe('the chats list', () => {
  it('shows Pinned first, then the rest by day, in the order it was given', () => {
    mounted = sidebar([chat(9, NOW - 40 * DAY, NOW), chat(1), chat(2), chat(3, NOW - 3 * DAY), chat(4, NOW - 30 * DAY)])
    const found = groups(mounted)
    expect(found[0]).toEqual(['Pinned', ['chat 9']])
    expect(found.map(([label]) => label)).toContain('Older')
    expect(found.at(-1)).toEqual(['Older', ['chat 4']])
    expect(found.flatMap(([, list]) => list)).toEqual(['chat 9', 'chat 1', 'chat 2', 'chat 3', 'chat 4'])
    expect(mounted.find('[data-session-id="s9"] .pin-mark').exists()).toBe(true)
    expect(mounted.find('[data-session-id="s1"] .pin-mark').exists()).toBe(false)
  })

  it('asks for the next page with "Show more" while the server has one', async () => {
    mounted = sidebar([chat(0), chat(1)], { hasMore: true })
    await mounted.get('[data-testid="more-sessions"]').trigger('click')
    expect(mounted.emitted('more')).toHaveLength(1)
    await mounted.setProps({ loadingMore: true })
    expect(mounted.get('[data-testid="more-sessions"]').attributes('disabled')).toBeDefined()
    await mounted.setProps({ hasMore: false, loadingMore: false })
    expect(mounted.find('[data-testid="more-sessions"]').exists()).toBe(false)
  })

  it('asks again while the list end stays in view, and not while a page is loading', async () => {
    const observed: ((entries: { isIntersecting: boolean }[]) => void)[] = []
    vi.stubGlobal(
      'IntersectionObserver',
      class {
        constructor(callback: (entries: { isIntersecting: boolean }[]) => void) {
          observed.push(callback)
        }
        observe(): void {}
        unobserve(): void {}
        disconnect(): void {}
      },
    )
    try {
      mounted = sidebar([chat(0)], { hasMore: true })
      observed[0]([{ isIntersecting: true }])
      expect(mounted.emitted('more')).toHaveLength(1)
      await mounted.setProps({ loadingMore: true })
      expect(mounted.emitted('more')).toHaveLength(1)
      await mounted.setProps({ sessions: [chat(0), chat(1)], loadingMore: false })
      expect(mounted.emitted('more')).toHaveLength(2) // a short page: the end is still in view
      observed[0]([{ isIntersecting: false }])
      await mounted.setProps({ sessions: [chat(0), chat(1), chat(2)] })
      expect(mounted.emitted('more')).toHaveLength(2)
    } finally {
      vi.unstubAllGlobals()
    }
  })

  it('shows "No chats yet." for an empty list', () => {
    mounted = sidebar([])
    expect(mounted.text()).toContain('No chats yet.')
    expect(names(mounted)).toEqual([])
  })
})

describe("a chat's menu", () => {
  async function openMenu(wrapper: Sidebar, sid: string) {
    await wrapper.get(`[data-session-id="${sid}"] [data-testid="session-menu"]`).trigger('click')
    return wrapper.get(`[data-session-id="${sid}"] [role="menu"]`)
  }
  const item = (menu: ReturnType<Sidebar['get']>, text: string) => menu.findAll('[role="menuitem"]').find((b) => b.text().includes(text))!

  it('pins, unpins and exports the chat it belongs to', async () => {
    mounted = sidebar([chat(7, NOW, NOW), chat(1)])
    let menu = await openMenu(mounted, 's1')
    expect(document.activeElement?.textContent).toContain('Pin to top') // focus moves into the menu
    await item(menu, 'Pin to top').trigger('click')
    expect(mounted.emitted('pin')).toEqual([['s1', true]])
    expect(mounted.find('[data-session-id="s1"] [role="menu"]').exists()).toBe(false)
    menu = await openMenu(mounted, 's7')
    await item(menu, 'Unpin').trigger('click')
    menu = await openMenu(mounted, 's7')
    await item(menu, 'Export as Markdown').trigger('click')
    menu = await openMenu(mounted, 's1')
    await item(menu, 'Export as JSON').trigger('click')
    expect(mounted.emitted('pin')).toEqual([['s1', true], ['s7', false]])
    expect(mounted.emitted('export')).toEqual([['s7', 'markdown'], ['s1', 'json']])
  })

  it('moves with the arrows, closes on Escape and gives focus back to its button', async () => {
    mounted = sidebar([chat(1)])
    const menu = await openMenu(mounted, 's1')
    await menu.trigger('keydown', { key: 'ArrowDown' })
    expect(document.activeElement?.textContent).toContain('Rename')
    await menu.trigger('keydown', { key: 'ArrowUp' })
    await menu.trigger('keydown', { key: 'ArrowUp' })
    expect(document.activeElement?.textContent).toContain('Delete')
    await menu.trigger('keydown', { key: 'Escape' })
    expect(mounted.find('[role="menu"]').exists()).toBe(false)
    expect(document.activeElement).toBe(mounted.get('[data-testid="session-menu"]').element)
  })

  it('closes on a click elsewhere', async () => {
    mounted = sidebar([chat(1)])
    await openMenu(mounted, 's1')
    document.body.dispatchEvent(new Event('pointerdown', { bubbles: true }))
    await mounted.vm.$nextTick()
    expect(mounted.find('[role="menu"]').exists()).toBe(false)
  })

  it('renames inline and deletes only once confirmed', async () => {
    mounted = sidebar([chat(1)])
    let menu = await openMenu(mounted, 's1')
    await item(menu, 'Rename').trigger('click')
    const field = mounted.get('input[aria-label="Chat name"]')
    await field.setValue('Holiday plans')
    await field.trigger('keydown', { key: 'Enter' })
    expect(mounted.emitted('rename')).toEqual([['s1', 'Holiday plans']])
    menu = await openMenu(mounted, 's1')
    await item(menu, 'Delete').trigger('click')
    expect(mounted.emitted('remove')).toBeUndefined()
    await mounted.get('[aria-label="Confirm delete"]').trigger('click')
    expect(mounted.emitted('remove')).toEqual([['s1']])
  })

  it('shows a failed pin or export until dismissed', async () => {
    mounted = sidebar([chat(1)], { notice: 'Export failed: the app did not answer' })
    expect(mounted.get('[data-testid="sidebar-notice"]').text()).toContain('Export failed')
    await mounted.get('[data-testid="sidebar-notice"] button').trigger('click')
    expect(mounted.emitted('dismiss')).toHaveLength(1)
  })
})
