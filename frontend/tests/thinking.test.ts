import { mount } from '@vue/test-utils'
import { beforeAll, describe, expect, it } from 'vitest'
import ContentItem from '../src/components/ContentItem.vue'
import type { ContentItem as Item } from '../src/types'
import { loadRenderer } from '../src/lib/renderer'

// Text items render markdown once the renderer's chunk is in (lib/renderer.ts): in first.
beforeAll(async () => {
  await loadRenderer()
})

function answer(fields: Partial<Item>): Item {
  return { type: 'text', agent_name: 'assistant', status: 'success', text: '', ...fields }
}

describe('a thinking model reply', () => {
  it('shows the thinking closed by default once the answer is done, the answer beside it', () => {
    const w = mount(ContentItem, { props: { item: answer({ text: 'Hello **there**', thinking: '\nThe user greets me.\n' }) } })
    const details = w.get('details.thinking')
    expect(details.attributes('open')).toBeUndefined()
    expect(details.get('summary').text()).toContain('Thinking')
    expect(details.get('.thinking-text').text()).toBe('The user greets me.')
    expect(w.get('.markdown').html()).toContain('<strong>there</strong>')
    expect(w.text()).not.toContain('<think>')
  })

  it('is open while the thinking streams, and closes when the answer starts', async () => {
    const w = mount(ContentItem, { props: { item: answer({ status: 'progress', thinking: 'weighing' }) } })
    expect(w.get('details.thinking').attributes('open')).toBeDefined()
    expect(w.get('summary').text()).toContain('Thinking…')
    await w.setProps({ item: answer({ status: 'progress', thinking: 'weighing it', text: 'Hi' }) })
    expect(w.get('details.thinking').attributes('open')).toBeUndefined()
  })

  it('renders thinking as plain text, never as markup', () => {
    const w = mount(ContentItem, { props: { item: answer({ text: 'ok', thinking: '<img src=x onerror=alert(1)> **bold**' }) } })
    const box = w.get('.thinking-text')
    expect(box.element.querySelector('img')).toBeNull()
    expect(box.text()).toContain('**bold**')
  })

  it('shows no thinking part for a reply without it', () => {
    const w = mount(ContentItem, { props: { item: answer({ text: 'plain' }) } })
    expect(w.find('details.thinking').exists()).toBe(false)
  })
})
