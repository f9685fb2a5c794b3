import { flushPromises, mount } from '@vue/test-utils'
import { describe, expect, it } from 'vitest'
import TextItem from '../src/components/TextItem.vue'
import { loadRenderer } from '../src/lib/renderer'

// This file's module graph is its own: the renderer's chunk is not loaded until asked for.
describe('a text item before the markdown renderer is in', () => {
  it('shows its text as inert text, then renders it once the renderer loads', async () => {
    const text = "**bold** <img src=x onerror=alert(1)> <script>alert('x')</script>"
    const wrapper = mount(TextItem, { props: { text } })
    expect(wrapper.find('.markdown.plain').text()).toBe(text)
    expect(wrapper.find('strong').exists()).toBe(false)
    expect(wrapper.find('img').exists()).toBe(false)
    expect(wrapper.find('script').exists()).toBe(false)

    await loadRenderer() // the load the mount started
    await flushPromises()
    expect(wrapper.find('.markdown.plain').exists()).toBe(false)
    expect(wrapper.get('.markdown strong').text()).toBe('bold')
    expect(wrapper.find('img').exists()).toBe(false)
    expect(wrapper.find('script').exists()).toBe(false)
  })
})
