import { mount } from '@vue/test-utils'
import { describe, expect, it } from 'vitest'
import AppSidebar from '../src/components/AppSidebar.vue'
import type { Session } from '../src/types'

const PAGE = 100 // AppSidebar's SIDEBAR_PAGE

function sessions(count: number): Session[] {
  return Array.from({ length: count }, (_, i) => ({
    session_id: `s${i}`,
    name: `chat ${i}`,
    video_id: null,
    collection_id: null,
    created_at: 1_700_000_000 + count - i,
    updated_at: 1_700_000_000 + count - i,
    metadata: {},
  }))
}

function sidebar(list: Session[]) {
  return mount(AppSidebar, {
    props: { sessions: list, currentId: '', agents: [], hits: null, dark: false },
  })
}

function names(wrapper: ReturnType<typeof sidebar>): string[] {
  return wrapper.findAll('[data-testid="sessions"] .session-open').map((n) => n.text())
}

describe('the chats list', () => {
  it('renders a long history a page at a time, newest first', async () => {
    const wrapper = sidebar(sessions(250))
    expect(names(wrapper)).toEqual(sessions(PAGE).map((s) => s.name))
    const more = wrapper.get('[data-testid="more-sessions"]')
    expect(more.text()).toContain('(150)')
    await more.trigger('click')
    expect(names(wrapper)).toHaveLength(2 * PAGE)
    await wrapper.get('[data-testid="more-sessions"]').trigger('click')
    expect(names(wrapper)).toEqual(sessions(250).map((s) => s.name))
    expect(wrapper.find('[data-testid="more-sessions"]').exists()).toBe(false)
  })

  it('shows a short history whole, with no "Show more"', () => {
    const wrapper = sidebar(sessions(3))
    expect(names(wrapper)).toEqual(['chat 0', 'chat 1', 'chat 2'])
    expect(wrapper.find('[data-testid="more-sessions"]').exists()).toBe(false)
  })

  it('keeps the pages shown when the list changes (a chat moving to the top)', async () => {
    const list = sessions(150)
    const wrapper = sidebar(list)
    await wrapper.get('[data-testid="more-sessions"]').trigger('click')
    const moved = [list[140], ...list.filter((_, i) => i !== 140)]
    await wrapper.setProps({ sessions: moved })
    expect(names(wrapper)[0]).toBe('chat 140')
    expect(names(wrapper)).toHaveLength(150)
  })
})
