// The markdown renderer (lib/markdown.ts: markdown-it, highlight.js, KaTeX and DOMPurify, most of
// the page's script by weight) is a chunk of its own, loaded the first time a message needs it
// or once the page is ready, whichever comes first: the window's first view (a new chat) never
// waits for it to be parsed and run (bench/README.md, start-up). Until it is in, a text item
// shows its text as plain text (Vue's text interpolation: nothing in it is markup), then renders.
import { shallowRef, type ShallowRef } from 'vue'

type Render = (text: string) => string

const render = shallowRef<Render | null>(null)
let loading: Promise<Render> | null = null

/** Loads the renderer once; a failed load is tried again by the next caller. */
export function loadRenderer(): Promise<Render> {
  loading ??= import('./markdown').then(
    (m) => (render.value = m.renderMarkdown),
    (e: unknown) => {
      loading = null
      throw e
    },
  )
  return loading
}

/** The renderer once it is loaded (null until then); asking starts the load. */
export function useRenderer(): Readonly<ShallowRef<Render | null>> {
  loadRenderer().catch(() => {}) // a text item keeps showing its text as it is
  return render
}
