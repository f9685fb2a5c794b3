// The versions of a message in the page (PROTOCOL 8): the ‹ 2/3 › switcher, the message tools
// that use it, and the socket events they send.
import { mount } from '@vue/test-utils'
import { beforeAll, beforeEach, describe, expect, it } from 'vitest'
import MessageItem from '../src/components/MessageItem.vue'
import VersionSwitcher from '../src/components/VersionSwitcher.vue'
import { useChatSocket } from '../src/composables/useChatSocket'
import type { Message } from '../src/types'
import { FakeSocket } from './fakeSocket'
import { loadRenderer } from '../src/lib/renderer'

// Text items render markdown once the renderer's chunk is in (lib/renderer.ts): in first.
beforeAll(async () => {
  await loadRenderer()
})

function reply(metadata: Message['metadata'], status = 'success'): Message {
  return {
    session_id: 's',
    conv_id: 'c1',
    msg_id: 'o1',
    msg_type: 'output',
    status,
    actions: [],
    agents: [],
    content: [{ type: 'text', text: 'An **answer**', status, agent_name: 'assistant' }],
    metadata: { seq: 4, first_seq: 2, timestamp: '2026-12-03T10:00:00+00:00', ...metadata },
  }
}

describe('VersionSwitcher', () => {
  it('shows which version of how many, and steps to the neighbours', async () => {
    const wrapper = mount(VersionSwitcher, { props: { version: 2, versions: 3 } })
    expect(wrapper.find('.version-count').text()).toBe('2/3')
    expect(wrapper.attributes('aria-label')).toBe('Version 2 of 3')
    const [prev, next] = wrapper.findAll('button')
    await prev.trigger('click')
    await next.trigger('click')
    expect(wrapper.emitted('select')).toEqual([[1], [3]])
  })

  it('cannot step past the first or the last version', async () => {
    const first = mount(VersionSwitcher, { props: { version: 1, versions: 2 } })
    const [prev, next] = first.findAll('button')
    expect(prev.attributes('disabled')).toBeDefined()
    expect(next.attributes('disabled')).toBeUndefined()
    await prev.trigger('click')
    expect(first.emitted('select')).toBeUndefined()
    const last = mount(VersionSwitcher, { props: { version: 2, versions: 2 } })
    expect(last.findAll('button')[1].attributes('disabled')).toBeDefined()
  })

  it('is disabled whole while a reply is being written', () => {
    const wrapper = mount(VersionSwitcher, { props: { version: 2, versions: 3, disabled: true } })
    expect(wrapper.findAll('button').every((b) => b.attributes('disabled') !== undefined)).toBe(true)
  })
})

describe('MessageItem tools', () => {
  it('shows the switcher only once a message has more than one version', async () => {
    const one = mount(MessageItem, { props: { message: reply({}) } })
    expect(one.findComponent(VersionSwitcher).exists()).toBe(false)
    const three = mount(MessageItem, { props: { message: reply({ version: 2, versions: 3 }) } })
    expect(three.find('.version-count').text()).toBe('2/3')
    await three.find('[aria-label="Next version"]').trigger('click')
    expect(three.emitted('select')).toEqual([[3]])
  })

  it('regenerates a reply and deletes its turn, but not while busy or unsent', async () => {
    const wrapper = mount(MessageItem, { props: { message: reply({}) } })
    await wrapper.find('button.regenerate').trigger('click')
    await wrapper.find('button.delete-turn').trigger('click')
    expect(wrapper.emitted('regenerate')).toEqual([[]])
    expect(wrapper.emitted('delete')).toEqual([[]])
    await wrapper.setProps({ busy: true })
    expect(wrapper.find('button.regenerate').attributes('disabled')).toBeDefined()
    const unsent = mount(MessageItem, { props: { message: { ...reply({}), metadata: {}, pending: 'sending' } } })
    expect(unsent.find('.msg-tools').exists()).toBe(false)
  })

  it('edits an input in place and sends the new text', async () => {
    const input: Message = { ...reply({}), msg_id: 'i1', msg_type: 'input', content: [{ type: 'text', text: 'old words' }] }
    const wrapper = mount(MessageItem, { props: { message: input } })
    await wrapper.find('button.edit-message').trigger('click')
    const area = wrapper.find('textarea')
    expect((area.element as HTMLTextAreaElement).value).toBe('old words')
    await area.setValue('new words')
    await wrapper.find('form').trigger('submit')
    expect(wrapper.emitted('edit')).toEqual([['new words']])
    expect(wrapper.find('textarea').exists()).toBe(false)
  })
})

describe('useChatSocket versions', () => {
  let fake: FakeSocket
  let chat: ReturnType<typeof useChatSocket>

  beforeEach(() => {
    fake = new FakeSocket()
    chat = useChatSocket({ url: 'http://127.0.0.1:1/chat', getToken: () => 't', io: () => fake })
    fake.serverConnect()
    chat.watch('s')
    fake.take('reconnect')
  })

  it('sends regenerate and edit, and the chat is running until the new version ends', async () => {
    fake.push('chat', reply({}))
    const regenerated = chat.revise('s', 'c1')
    const [sent] = fake.take('regenerate')
    expect(sent.payload).toEqual({ session_id: 's', conv_id: 'c1' })
    sent.ack!({ ok: true, data: { session_id: 's', conv_id: 'c1', msg_id: 'i1', output_msg_id: 'o1', version: 2 } })
    expect((await regenerated).ok).toBe(true)
    fake.push('chat', reply({ seq: 5, version: 2, versions: 2 }, 'progress'))
    expect(chat.isRunning('s')).toBe(true)
    fake.push('chat', reply({ seq: 6, version: 2, versions: 2 }))
    expect(chat.isRunning('s')).toBe(false)
    expect(chat.log('s').find('o1')?.metadata.version).toBe(2)

    const content = [{ type: 'text', text: 'new words' }]
    void chat.revise('s', 'c1', content)
    expect(fake.take('edit').map((e) => e.payload)).toEqual([{ session_id: 's', conv_id: 'c1', content }])
  })

  it('sends select_version and passes a refusal on', async () => {
    const asked = chat.selectVersion('s', 'o1', 1)
    const [sent] = fake.take('select_version')
    expect(sent.payload).toEqual({ session_id: 's', msg_id: 'o1', version: 1 })
    sent.ack!({ ok: false, error: { code: 'conflict', message: 'a reply is being written' } })
    expect(await asked).toEqual({ ok: false, error: { code: 'conflict', message: 'a reply is being written' } })
  })

  it('sends nothing while disconnected', async () => {
    fake.serverDrop()
    const answer = await chat.revise('s', 'c1')
    expect(answer.ok).toBe(false)
    expect(fake.take('regenerate')).toEqual([])
  })
})

describe('code blocks', () => {
  it('are one block with a copy button, not wrapped in another <pre>', async () => {
    const { renderMarkdown } = await import('../src/lib/markdown')
    const host = document.createElement('div')
    host.innerHTML = renderMarkdown("Run:\n\n```python\nprint('hi')\n```\n\nand `inline`.")
    expect(host.querySelectorAll('pre')).toHaveLength(1)
    const block = host.querySelector('.code-block')!
    expect(block.parentElement).toBe(host)
    expect(block.querySelector('button.copy-code')?.textContent).toBe('Copy')
    expect(block.querySelector('pre code')?.textContent).toBe("print('hi')\n")
  })
})
