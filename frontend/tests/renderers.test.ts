import { mount } from '@vue/test-utils'
import { beforeAll, describe, expect, it } from 'vitest'
import corpus from '../../tests/e2e/xss_corpus.json'
import ContentItem from '../src/components/ContentItem.vue'
import MessageItem from '../src/components/MessageItem.vue'
import { OPEN_SESSION } from '../src/lib/keys'
import { renderMarkdown } from '../src/lib/markdown'
import type { Message } from '../src/types'
import { loadRenderer } from '../src/lib/renderer'

// Text items render markdown once the renderer's chunk is in (lib/renderer.ts): in first.
beforeAll(async () => {
  await loadRenderer()
})

/** What would make rendered HTML active: script elements, handlers, script URLs, remote loads. */
function activeParts(root: Element): string[] {
  const found: string[] = []
  for (const el of root.querySelectorAll('*')) {
    const tag = el.tagName.toLowerCase()
    const appIcon = el.closest('svg.app-icon') !== null // the app's own icons, not rendered content
    if (!appIcon && ['script', 'iframe', 'object', 'embed', 'base', 'meta', 'link', 'style', 'form', 'svg', 'math'].includes(tag)) found.push(`<${tag}>`)
    for (const attr of el.attributes) {
      const name = attr.name.toLowerCase()
      if (name.startsWith('on')) found.push(`${tag}[${name}]`)
      if (name === 'style') found.push(`${tag}[style]`)
      if (['href', 'src', 'xlink:href', 'action', 'formaction', 'data'].includes(name)) {
        const value = attr.value.replace(/[\s\u0000-\u001f]/g, '').toLowerCase()
        if (/^(javascript|vbscript|data):/.test(value)) found.push(`${tag}[${name}=${attr.value}]`)
        if (tag !== 'a' && /^(https?:)?\/\//.test(value) && !value.startsWith('http://localhost')) found.push(`${tag}[${name}] remote`)
      }
    }
  }
  return found
}

function assistant(text: string): Message {
  return {
    session_id: 's',
    conv_id: 'c',
    msg_id: 'm',
    msg_type: 'output',
    status: 'success',
    actions: [],
    agents: [],
    content: [{ type: 'text', text, status: 'success', agent_name: 'assistant' }],
    metadata: { seq: 1, first_seq: 1 },
  }
}

describe('markdown renderer', () => {
  it('has a corpus of at least 30 payloads', () => {
    expect(corpus.length).toBeGreaterThanOrEqual(30)
  })

  it.each(corpus.map((p, i) => [i, p]))('renders payload %i inert: %s', (_i, payload) => {
    const host = document.createElement('div')
    host.innerHTML = renderMarkdown(payload as string)
    expect(activeParts(host)).toEqual([])
  })

  it('shows <script> in model text as text, not as an element', () => {
    const wrapper = mount(MessageItem, { props: { message: assistant("<script>alert('xss')</script> and <img src=x onerror=alert(1)>") } })
    expect(wrapper.find('script').exists()).toBe(false)
    expect(wrapper.find('img').exists()).toBe(false)
    expect(wrapper.text()).toContain("<script>alert('xss')</script>")
    expect(activeParts(wrapper.element)).toEqual([])
  })

  it('renders markdown, highlights code and adds a copy button', () => {
    const host = document.createElement('div')
    host.innerHTML = renderMarkdown('# Title\n\n**bold** and `code`\n\n```python\ndef f():\n    return 1\n```')
    expect(host.querySelector('h1')?.textContent).toBe('Title')
    expect(host.querySelector('strong')?.textContent).toBe('bold')
    expect(host.querySelector('.code-block .hljs-keyword')?.textContent).toBe('def')
    expect(host.querySelector('button.copy-code')?.getAttribute('aria-label')).toBe('Copy code')
  })

  it('opens links in a new context without an opener and drops remote images', () => {
    const host = document.createElement('div')
    host.innerHTML = renderMarkdown('[site](https://example.com) ![t](http://203.0.113.9/t.png) ![ok](/media/a1)')
    const a = host.querySelector('a')!
    expect(a.getAttribute('rel')).toBe('noopener noreferrer')
    const imgs = [...host.querySelectorAll('img')]
    expect(imgs.map((i) => i.getAttribute('src'))).toEqual([null, '/media/a1'])
  })
})

describe('content items', () => {
  it('offers a download item as a link that saves the signed file, and refuses other origins', () => {
    const download = { id: 'a1', collection_id: 'default', kind: 'video' as const, name: 'clip', filename: 'clip.mp4', url: '/media/a1?sig=1.ab', mime: 'video/mp4', size: 2_500_000 }
    const wrapper = mount(ContentItem, { props: { item: { type: 'download', status: 'success', download } } })
    const link = wrapper.get('a.button')
    expect(link.attributes('href')).toBe('/media/a1?sig=1.ab')
    expect(link.attributes('download')).toBe('clip.mp4')
    expect(wrapper.text()).toContain('2.5 MB')
    const foreign = mount(ContentItem, { props: { item: { type: 'download', status: 'success', download: { ...download, url: 'https://evil.example/x.mp4' } } } })
    expect(foreign.find('a').exists()).toBe(false)
  })

  it('skips unknown types', () => {
    const wrapper = mount(ContentItem, { props: { item: { type: 'hologram', status: 'success' } } })
    expect(wrapper.html()).toBe('<!--v-if-->')
  })

  it('shows a skeleton while in progress and the message on error', () => {
    const busy = mount(ContentItem, { props: { item: { type: 'video', status: 'progress' } } })
    expect(busy.find('.skeleton').exists()).toBe(true)
    const failed = mount(ContentItem, { props: { item: { type: 'text', text: '', status: 'error', status_message: 'Interrupted' } } })
    expect(failed.find('[role=alert]').text()).toBe('Interrupted')
  })

  it('plays same-origin videos and refuses other origins', () => {
    const local = mount(ContentItem, {
      props: { item: { type: 'video', status: 'success', video: { name: 'Clip', stream_url: '/media/v1?sig=1.ab' } } },
    })
    expect(local.find('video').attributes('src')).toBe('/media/v1?sig=1.ab')
    const remote = mount(ContentItem, {
      props: { item: { type: 'video', status: 'success', video: { name: 'Clip', stream_url: 'https://cdn.example/v.mp4' } } },
    })
    expect(remote.find('video').exists()).toBe(false)
  })

  it('renders search results with a seek link per shot', async () => {
    const wrapper = mount(ContentItem, {
      props: {
        item: {
          type: 'search_results',
          status: 'success',
          search_results: [
            { video_id: 'v', video_title: 'Talk', stream_url: '/media/v', shots: [{ start: 65, end: 70, text: 'hello' }, { start: 5, end: 9, text: 'intro' }] },
          ],
        },
      },
    })
    const links = wrapper.findAll('.shots button')
    expect(links.map((l) => l.text())).toEqual(['1:05–1:10', '0:05–0:09'])
    const video = wrapper.find('video').element as HTMLVideoElement
    video.play = () => Promise.resolve()
    await links[0].trigger('click')
    expect(video.currentTime).toBe(65)
  })

  it('opens each search result at its first shot once the metadata is in, then seeks per shot', async () => {
    const wrapper = mount(ContentItem, {
      props: {
        item: {
          type: 'search_results',
          status: 'success',
          search_results: [{ video_id: 'v', video_title: 'Talk', stream_url: '/media/v?sig=1.a', shots: [{ start: 12.5, end: 20, text: 'a' }, { start: 40, end: 44, text: 'b' }] }],
        },
      },
    })
    const video = wrapper.find('video').element as HTMLVideoElement
    video.play = () => Promise.resolve()
    expect(video.currentTime).toBe(0)
    video.dispatchEvent(new Event('loadedmetadata'))
    expect(video.currentTime).toBe(12.5)
    await wrapper.findAll('.shots button')[1].trigger('click')
    expect(video.currentTime).toBe(40)
    expect(wrapper.findAll('.shots li')[1].classes()).toContain('playing')
  })

  it('lays out `videos` in ui_config.columns columns with a class, not a style attribute', () => {
    const videos = [{ id: 'a', stream_url: '/media/a' }, { id: 'b', stream_url: '/media/b' }, { id: 'c', stream_url: 'https://cdn.example/c.mp4' }]
    const wrapper = mount(ContentItem, { props: { item: { type: 'videos', status: 'success', videos, ui_config: { columns: 2 } } } })
    const grid = wrapper.get('.videos-grid')
    expect(grid.classes()).toContain('cols-2')
    expect(grid.attributes('style')).toBeUndefined()
    expect(wrapper.findAll('video').map((v) => v.attributes('src'))).toEqual(['/media/a', '/media/b'])
    expect(wrapper.findAll('[role=alert]')).toHaveLength(1) // the foreign one is refused
    const odd = mount(ContentItem, { props: { item: { type: 'videos', status: 'success', videos, ui_config: { columns: 40 } } } })
    expect(odd.get('.videos-grid').classes()).toContain('cols-6')
  })

  it('shows a same-origin image and refuses another origin’s', () => {
    const local = mount(ContentItem, { props: { item: { type: 'image', status: 'success', image: { url: '/media/i1?sig=1.a', name: 'Still' } } } })
    expect(local.get('img').attributes()).toMatchObject({ src: '/media/i1?sig=1.a', alt: 'Still' })
    const remote = mount(ContentItem, { props: { item: { type: 'image', status: 'success', image: { url: 'http://203.0.113.9/x.png' } } } })
    expect(remote.find('img').exists()).toBe(false)
  })

  it('shows the seed error response as an error in the thread', () => {
    const wrapper = mount(MessageItem, {
      props: {
        message: {
          session_id: 's', conv_id: 'c', msg_id: 'e', msg_type: 'output', status: 'error', actions: [], agents: [], content: [],
          message: 'Error in chat handler: content must not be empty', metadata: { error_type: 'invalid_payload' },
        },
      },
    })
    expect(wrapper.find('[role=alert]').text()).toContain('content must not be empty')
  })
})

describe('in-app links', () => {
  it('opens #session= links in the app instead of a new window', async () => {
    const opened: [string, string | undefined][] = []
    const wrapper = mount(ContentItem, {
      props: { item: { type: 'text', status: 'success', text: '- [Holiday](#session=s%201&msg=m1)' } },
      global: { provide: { [OPEN_SESSION as symbol]: (sid: string, msg?: string) => opened.push([sid, msg]) } },
    })
    const a = wrapper.find('a')
    expect(a.attributes('target')).toBeUndefined()
    await a.trigger('click')
    expect(opened).toEqual([['s 1', 'm1']])
  })
})
