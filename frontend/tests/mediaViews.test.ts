import { mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { defineComponent, h } from 'vue'
import AssetCard from '../src/components/media/AssetCard.vue'
import CollectionList from '../src/components/media/CollectionList.vue'
import CollectionView from '../src/components/media/CollectionView.vue'
import JobsTray from '../src/components/media/JobsTray.vue'
import { useFileDrop } from '../src/composables/useFileDrop'
import { toItem } from '../src/lib/library'
import { useJobsStore } from '../src/stores/jobs'
import { useMediaStore } from '../src/stores/media'
import type { JobInfo } from '../src/types'
import { asset, FakeLibrary, json } from './fakeLibrary'
import { FakeXhr } from './fakeXhr'

const flush = () => new Promise((r) => setTimeout(r, 0))

describe('the media views', () => {
  let calls: FakeLibrary['calls']
  let answers: FakeLibrary['answers']

  beforeEach(() => {
    setActivePinia(createPinia())
    FakeXhr.reset()
    vi.stubGlobal('XMLHttpRequest', FakeXhr)
    const server = new FakeLibrary().install()
    ;({ calls, answers } = server)
    server.library.video.push(asset('video', 1, 9, { name: 'v1.mp4', length: 65 }), asset('video', 2, 8, { id: 'gone', name: 'gone.mp4', missing: true }))
  })
  afterEach(() => vi.unstubAllGlobals())

  it('the sidebar lists collections, the default one first and never deletable', async () => {
    const media = useMediaStore()
    await media.refreshCollections()
    const wrapper = mount(CollectionList)
    const rows = wrapper.findAll('[data-collection-id]')
    expect(rows.map((r) => r.attributes('data-collection-id'))).toEqual(['default', 'trips'])
    expect(rows[0].find('[aria-label^="Delete collection"]').exists()).toBe(false)
    await rows[1].find('.collection-open').trigger('click')
    expect(media.view).toBe('collection')
    expect(media.collectionId).toBe('trips')
    expect(rows[1].classes()).toContain('current')
  })

  it('deleting a collection asks first, and shows why a non-empty one is refused', async () => {
    answers.push((url, method) =>
      url === '/videodb/collection/trips' && method === 'DELETE'
        ? json({ ok: false, error: { code: 'conflict', message: 'Collection has non-zero videos/audios/images' }, message: 'x' }, 409)
        : undefined,
    )
    const media = useMediaStore()
    await media.refreshCollections()
    const wrapper = mount(CollectionList, { attachTo: document.body })
    await wrapper.get('[aria-label="Delete collection Trips"]').trigger('click')
    const dialog = wrapper.get('[data-testid=confirm-dialog]')
    expect(dialog.attributes('open')).toBeDefined()
    expect(dialog.text()).toContain('Delete the collection “Trips”?')
    expect(calls.filter((c) => c.method === 'DELETE')).toEqual([]) // nothing before the answer
    await dialog.get('[data-testid=confirm-ok]').trigger('click')
    await flush()
    expect(calls.filter((c) => c.method === 'DELETE').map((c) => c.url)).toEqual(['/videodb/collection/trips'])
    expect(wrapper.get('[data-testid=confirm-error]').text()).toContain('non-zero videos/audios/images')
    await dialog.get('[data-testid=confirm-cancel]').trigger('click')
    await flush()
    expect(wrapper.get('[data-testid=confirm-dialog]').attributes('open')).toBeUndefined()
    wrapper.unmount()
  })

  it('creates a collection from its name', async () => {
    answers.push((url, method) =>
      url === '/videodb/collection' && method === 'POST'
        ? json({ message: 'made', data: { success: true, message: 'made', collection: { id: 'c2', name: 'Reels', description: '' } } }, 201)
        : undefined,
    )
    const media = useMediaStore()
    const wrapper = mount(CollectionList)
    await wrapper.get('[data-testid=new-collection]').trigger('click')
    await wrapper.get('[data-testid=collection-name]').setValue('Reels')
    await wrapper.get('form').trigger('submit')
    await flush()
    expect(media.collectionId).toBe('c2')
    expect(wrapper.find('[data-testid=collection-name]').exists()).toBe(false)
  })

  it('the grid: thumbnails, lengths, a Missing badge, chat only for videos, delete after confirming', async () => {
    answers.push((url, method) => (method === 'DELETE' && url === '/videodb/collection/default/video/v1' ? json({ success: true, message: 'deleted' }) : undefined))
    const media = useMediaStore()
    media.openCollection('default')
    const wrapper = mount(CollectionView, { attachTo: document.body })
    await vi.waitFor(() => expect(wrapper.findAll('[data-testid=asset-card]')).toHaveLength(2))
    const [card, gone] = wrapper.findAll('[data-testid=asset-card]')
    expect(card.get('img').attributes('src')).toBe('/media/v1/thumbnail?sig=1.b')
    expect(card.text()).toContain('1:05')
    expect(card.find('[data-testid=missing-badge]').exists()).toBe(false)
    expect(gone.get('[data-testid=missing-badge]').text()).toBe('Missing')
    expect(gone.find('img').exists()).toBe(false)
    expect(card.find('[data-testid=chat-about]').exists()).toBe(true)
    const audioCard = mount(AssetCard, { props: { item: toItem('audio', { id: 'a', collection_id: 'default', name: 'tone.wav', length: 2, url: '/media/a' }) } })
    expect(audioCard.find('[data-testid=chat-about]').exists()).toBe(false)

    await card.get('[data-testid=delete-asset]').trigger('click')
    expect(wrapper.get('[data-testid=confirm-dialog]').text()).toContain('Delete “v1.mp4”?')
    await wrapper.get('[data-testid=confirm-ok]').trigger('click')
    await flush()
    expect(calls.filter((c) => c.method === 'DELETE').map((c) => c.url)).toEqual(['/videodb/collection/default/video/v1'])
    expect(wrapper.findAll('[data-testid=asset-card]').map((c) => c.attributes('data-asset-id'))).toEqual(['gone'])
    wrapper.unmount()
  })

  it('the filter buttons say which is pressed', async () => {
    const media = useMediaStore()
    media.openCollection('default')
    const wrapper = mount(CollectionView)
    await wrapper.get('[data-testid=filter-image]').trigger('click')
    expect(media.filter).toBe('image')
    expect(wrapper.get('[data-testid=filter-image]').attributes('aria-pressed')).toBe('true')
    expect(wrapper.get('[data-testid=filter-all]').attributes('aria-pressed')).toBe('false')
  })

  it('the tray shows each upload’s bar and a Cancel, and other windows’ jobs', async () => {
    const jobs = useJobsStore()
    void jobs.uploadFiles([new File([new Uint8Array(100)], 'clip.mp4')], 'default')
    const now = Math.floor(Date.now() / 1000)
    const job = (id: string, title: string, more: Partial<JobInfo> = {}): JobInfo => ({
      id, kind: 'import', title, status: 'running', progress: 0.4, detail: '', started_at: now, finished_at: null, error: null, result: null, ...more,
    })
    jobs.applyJob(job('j1', 'clip.mp4'))
    jobs.applyJob(job('j9', 'film.avi', { kind: 'transcode', progress: 0.2 }))
    const wrapper = mount(JobsTray)
    await flush()
    const upload = wrapper.get('[data-testid=upload-row]')
    expect(upload.attributes('data-name')).toBe('clip.mp4')
    expect((upload.get('progress').element as HTMLProgressElement).value).toBeCloseTo(0.4)
    expect(upload.get('[data-testid=cancel-upload]').attributes('aria-label')).toBe('Cancel clip.mp4')
    expect(wrapper.get('[data-testid=job-row]').text()).toContain('Converting film.avi')
    expect(wrapper.get('#tray-title').text()).toBe('Working on 2')
  })

  it('files dragged over the window raise the overlay; a drop hands them over', async () => {
    const dropped: File[][] = []
    const Host = defineComponent({
      setup() {
        const drop = useFileDrop((files) => dropped.push(files))
        return () => h('div', { 'data-dragging': String(drop.dragging.value) })
      },
    })
    const wrapper = mount(Host, { attachTo: document.body })
    const file = new File(['x'], 'clip.mp4')
    const fire = (type: string, types = ['Files']) => {
      const e = new Event(type, { bubbles: true, cancelable: true })
      Object.defineProperty(e, 'dataTransfer', { value: { types, files: [file], dropEffect: 'none' } })
      window.dispatchEvent(e)
      return e
    }
    fire('dragenter', ['text/plain'])
    await flush()
    expect(wrapper.attributes('data-dragging')).toBe('false') // a text drag is the browser's business
    fire('dragenter')
    fire('dragenter') // into a child
    fire('dragleave')
    await flush()
    expect(wrapper.attributes('data-dragging')).toBe('true')
    expect(fire('dragover').defaultPrevented).toBe(true)
    expect(fire('drop').defaultPrevented).toBe(true)
    await flush()
    expect(wrapper.attributes('data-dragging')).toBe('false')
    expect(dropped).toEqual([[file]])
    wrapper.unmount()
  })
})
