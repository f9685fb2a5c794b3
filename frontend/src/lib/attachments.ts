// Images attached to the composer. Each goes into the session's collection first (the media
// library's upload route), and the input then carries it as an `image` content item (PROTOCOL
// sections 2 and 6): the server reads the file through the library by its id for a model that
// can see. Anything that is not an image is refused here, with a message naming the file.
import type { ContentItem, UploadAnswer } from '../types'

export type AttachmentState = 'uploading' | 'ready' | 'error'

export interface Attachment {
  key: string
  name: string
  state: AttachmentState
  /** Once uploaded: the library's asset and its signed same-origin URL. */
  assetId?: string
  collectionId?: string
  url?: string
  error?: string
}

/** The image types a vision API takes, by MIME type. */
export const IMAGE_TYPES = ['image/png', 'image/jpeg', 'image/webp', 'image/gif']
export const MAX_ATTACHMENTS = 8

/** Why a file cannot be attached, or null when it can. */
export function refusal(file: File): string | null {
  if (IMAGE_TYPES.includes(file.type)) return null
  const what = file.type ? `a ${file.type} file` : 'not an image'
  return `Only images (PNG, JPEG, WebP, GIF) can be attached: ${file.name || 'the file'} is ${what}.`
}

/** The input's image items, one for each uploaded attachment (the text goes before them). */
export function imageItems(attachments: Attachment[]): ContentItem[] {
  return attachments
    .filter((a) => a.state === 'ready' && a.assetId)
    .map((a) => ({ type: 'image', image: { id: a.assetId, collection_id: a.collectionId, name: a.name, url: a.url } }))
}

/** An upload's answer: ready when the library took it as an image (its answer has a `url`
 * and no `stream_url`), an error otherwise. */
export function fromAnswer(a: Attachment, answer: UploadAnswer): Attachment {
  if (typeof answer.url !== 'string' || answer.stream_url) {
    return { ...a, state: 'error', error: `${a.name} was not taken as an image.` }
  }
  return { ...a, state: 'ready', name: answer.name || a.name, assetId: answer.id, collectionId: answer.collection_id, url: answer.url }
}
