import { describe, expect, it } from 'vitest'
import { emptySources, exhausted, formatLength, itemDetails, starving, takeNewest, toItem, type LibraryItem } from '../src/lib/library'
import type { AssetKind } from '../src/types'

function item(kind: AssetKind, id: string, createdAt: number): LibraryItem {
  return { kind, id, collectionId: 'default', name: id, description: '', length: 0, missing: false, createdAt }
}

describe('asset objects as grid items', () => {
  it('reads each kind, keeping only same-origin URLs', () => {
    const video = toItem('video', {
      id: 'v1', collection_id: 'c', name: 'Clip', description: 'd', length: 3.2, stream_url: '/media/v1?sig=9.ab',
      player_url: '/media/v1?sig=9.ab', thumbnail_url: '/media/v1/thumbnail?sig=9.cd', type: 'video', created_at: 7, width: 320, height: 240, missing: false,
    })
    expect(video).toMatchObject({ kind: 'video', id: 'v1', src: '/media/v1?sig=9.ab', thumb: '/media/v1/thumbnail?sig=9.cd', createdAt: 7, missing: false })
    expect(itemDetails(video)).toBe('0:03 · 320×240')
    const audio = toItem('audio', { id: 'a1', collection_id: 'c', name: 'Tone', length: 2, url: '/media/a1?sig=1.2', type: 'audio' })
    expect(audio.src).toBe('/media/a1?sig=1.2')
    expect(audio.thumb).toBeUndefined()
    expect(itemDetails(audio)).toBe('0:02 · audio')
    const image = toItem('image', { id: 'i1', collection_id: 'c', name: 'Still', description: '', url: '/media/i1?sig=1.2' })
    expect(image).toMatchObject({ src: '/media/i1?sig=1.2', thumb: '/media/i1?sig=1.2', length: 0 })
    const foreign = toItem('video', { ...video, id: 'x', collection_id: 'c', description: '', player_url: '', stream_url: 'https://cdn.example/x.mp4', thumbnail_url: '//evil.example/t.jpg', length: 1 })
    expect(foreign.src).toBeUndefined()
    expect(foreign.thumb).toBeUndefined()
  })

  it('marks a file referenced in place that is gone', () => {
    expect(toItem('video', { id: 'm', collection_id: 'c', name: 'Gone', description: '', stream_url: '/media/m', player_url: '/media/m', thumbnail_url: '/media/m/thumbnail', length: 1, missing: true }).missing).toBe(true)
  })

  it('formats lengths', () => {
    expect(formatLength(0)).toBe('0:00')
    expect(formatLength(75)).toBe('1:15')
    expect(formatLength(3725)).toBe('1:02:05')
  })
})

describe('"All": three paged lists merged newest first', () => {
  it('takes the newest head while every kind with more on the server has something fetched', () => {
    const sources = emptySources(['video', 'audio', 'image'])
    expect(starving(sources)).toEqual(['video', 'audio', 'image'])
    expect(takeNewest(sources, 10)).toEqual([]) // nothing is certain before each kind is read
    sources.video!.buffer.push(item('video', 'v9', 9), item('video', 'v5', 5))
    sources.video!.cursor = 'c1'
    sources.audio!.buffer.push(item('audio', 'a7', 7))
    sources.audio!.done = true
    sources.image!.done = true // an empty list
    const taken = takeNewest(sources, 10)
    // v9, a7, v5; then video is empty with more on the server: stop there.
    expect(taken.map((i) => i.id)).toEqual(['v9', 'a7', 'v5'])
    expect(starving(sources)).toEqual(['video'])
    expect(exhausted(sources)).toBe(false)
    sources.video!.buffer.push(item('video', 'v1', 1))
    sources.video!.done = true
    expect(takeNewest(sources, 10).map((i) => i.id)).toEqual(['v1'])
    expect(exhausted(sources)).toBe(true)
  })

  it('stops at the page size and keeps the kinds’ order on equal times', () => {
    const sources = emptySources(['video', 'image'])
    sources.video!.buffer.push(item('video', 'v', 5), item('video', 'w', 4))
    sources.image!.buffer.push(item('image', 'i', 5))
    sources.video!.done = sources.image!.done = true
    expect(takeNewest(sources, 2).map((i) => i.id)).toEqual(['v', 'i'])
    expect(takeNewest(sources, 2).map((i) => i.id)).toEqual(['w'])
  })
})
