import { describe, expect, it } from 'vitest'
import { archiveName, restoredText } from '../src/lib/backup'
import { imageItems, refusal, fromAnswer, type Attachment } from '../src/lib/attachments'
import { clock, suggestions } from '../src/lib/suggestions'
import type { AgentInfo } from '../src/types'

const agent = (name: string, description = `does ${name}`): AgentInfo => ({ name, description, parameters: {} }) as AgentInfo

describe('suggestions (start screen)', () => {
  const all = ['search_chats', 'summarize_video', 'search', 'subtitle', 'frame', 'censor'].map((n) => agent(n))

  it('offers what the agents can do with the newest video, only for agents this server has', () => {
    const cards = suggestions(all, { id: 'v1', collection_id: 'default', name: 'launch.mp4' })
    expect(cards.map((c) => c.title)).toEqual(['Summarize launch.mp4', 'Find a moment', 'Add subtitles', 'Grab a frame'])
    expect(cards[0].text).toBe('@summarize_video ')
    const fewer = suggestions([agent('search')], { id: 'v1', collection_id: 'default', name: 'a.mp4' })
    expect(fewer.some((c) => c.text.startsWith('@summarize_video'))).toBe(false)
    expect(fewer[0].title).toBe('Find a moment')
  })

  it('falls back to general cards and a first agent without a video', () => {
    const cards = suggestions(all, null)
    expect(cards.map((c) => c.title)).toEqual(['Ask anything', 'Search your chats', 'Summarize', 'Run @censor'])
    expect(suggestions([], null).map((c) => c.title)).toEqual(['Ask anything', 'Summarize'])
  })

  it('writes a video length as m:ss', () => {
    expect(clock(3.2)).toBe('0:03')
    expect(clock(125)).toBe('2:05')
    expect(clock(undefined)).toBe('')
  })
})

describe('attachments', () => {
  const file = (name: string, type: string) => new File(['x'], name, { type })

  it('takes images and refuses other files by name', () => {
    expect(refusal(file('a.png', 'image/png'))).toBeNull()
    expect(refusal(file('a.webp', 'image/webp'))).toBeNull()
    expect(refusal(file('notes.pdf', 'application/pdf'))).toMatch(/Only images .* notes\.pdf is a application\/pdf file/)
    expect(refusal(file('x', ''))).toMatch(/not an image/)
  })

  it('sends uploaded images as image items, with the library ids', () => {
    const a: Attachment = { key: 'a1', name: 'p.png', state: 'uploading' }
    const ready = fromAnswer(a, { id: 'img1', collection_id: 'default', name: 'p.png', url: '/media/img1?sig=1' })
    expect(ready.state).toBe('ready')
    const taken = fromAnswer(a, { id: 'v', collection_id: 'default', name: 'p.png', stream_url: '/media/v' })
    expect(taken.state).toBe('error')
    expect(imageItems([ready, { key: 'a2', name: 'q.png', state: 'uploading' }])).toEqual([
      { type: 'image', image: { id: 'img1', collection_id: 'default', name: 'p.png', url: '/media/img1?sig=1' } },
    ])
  })
})

describe('backup', () => {
  it('makes a file name an archive name the server takes', () => {
    expect(archiveName('my backup (1).zip')).toBe('my-backup-1-.zip')
    expect(archiveName('...')).toBe('backup.zip')
  })

  it('says what a restore added and what it left', () => {
    expect(restoredText({ chats: 2, media_files: 1, settings: 0, chats_already_here: 1, media_already_here: 2 })).toBe(
      'Restored: 2 chats added, 1 media file added, 0 settings added, 3 already here, left as they were.',
    )
  })
})
