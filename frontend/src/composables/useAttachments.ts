// The composer's attachments: each file checked (images only), uploaded into the session's
// collection at once, shown as a chip while it goes, and sent with the next input.
import { computed, ref } from 'vue'
import { WireError } from '../lib/http'
import { MAX_ATTACHMENTS, fromAnswer, refusal, type Attachment } from '../lib/attachments'
import type { UploadAnswer } from '../types'

type Uploader = (collectionId: string, file: File) => { done: Promise<UploadAnswer>; abort: () => void }

export function useAttachments(upload: Uploader, collectionId: () => string) {
  const list = ref<Attachment[]>([])
  /** Why the last files were refused (shown under the composer until the next attach or send). */
  const notice = ref('')
  const aborts = new Map<string, () => void>()
  let keys = 0

  const uploading = computed(() => list.value.some((a) => a.state === 'uploading'))
  const ready = computed(() => list.value.filter((a) => a.state === 'ready'))

  function update(key: string, change: (a: Attachment) => Attachment): void {
    const at = list.value.findIndex((a) => a.key === key)
    if (at >= 0) list.value[at] = change(list.value[at])
  }

  function add(files: File[]): void {
    const refused: string[] = []
    for (const file of files) {
      const why = refusal(file)
      if (why) {
        refused.push(why)
        continue
      }
      if (list.value.length >= MAX_ATTACHMENTS) {
        refused.push(`A message takes at most ${MAX_ATTACHMENTS} images.`)
        break
      }
      const key = `a${++keys}`
      list.value.push({ key, name: file.name || 'pasted image', state: 'uploading' })
      const named = file.name ? file : new File([file], `pasted-${Date.now()}.${file.type.split('/')[1] || 'png'}`, { type: file.type })
      const up = upload(collectionId(), named)
      aborts.set(key, up.abort)
      up.done
        .then((answer) => update(key, (a) => fromAnswer(a, answer)))
        .catch((e: unknown) => update(key, (a) => ({ ...a, state: 'error', error: WireError.from(e).message })))
        .finally(() => aborts.delete(key))
    }
    notice.value = refused.join(' ')
  }

  function remove(key: string): void {
    aborts.get(key)?.()
    list.value = list.value.filter((a) => a.key !== key)
  }

  /** After a send: the chips go (the images are in the collection and the input). */
  function clear(): void {
    for (const abort of aborts.values()) abort()
    aborts.clear()
    list.value = []
    notice.value = ''
  }

  return { list, notice, uploading, ready, add, remove, clear }
}
