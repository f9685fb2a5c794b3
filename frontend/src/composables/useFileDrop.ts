// Files dragged from the desktop onto any part of the window: `dragging` while they hover (the
// full-window overlay), `onFiles` with what was dropped. Drags of anything else (text, links,
// the page's own elements) are left to the browser.
import { onBeforeUnmount, onMounted, ref } from 'vue'

const carriesFiles = (e: DragEvent) => Array.from(e.dataTransfer?.types ?? []).includes('Files')

export function useFileDrop(onFiles: (files: File[]) => void) {
  const dragging = ref(false)
  // dragenter/dragleave fire for every child crossed; the depth says when the window is left.
  let depth = 0

  function enter(e: DragEvent): void {
    if (!carriesFiles(e)) return
    e.preventDefault()
    depth++
    dragging.value = true
  }
  function over(e: DragEvent): void {
    if (!carriesFiles(e)) return
    e.preventDefault() // without it the drop opens the file in the window
    if (e.dataTransfer) e.dataTransfer.dropEffect = 'copy'
    dragging.value = true
  }
  function leave(e: DragEvent): void {
    if (!carriesFiles(e)) return
    depth = Math.max(0, depth - 1)
    if (depth === 0) dragging.value = false
  }
  function drop(e: DragEvent): void {
    if (!carriesFiles(e)) return
    e.preventDefault()
    depth = 0
    dragging.value = false
    const files = Array.from(e.dataTransfer?.files ?? [])
    if (files.length) onFiles(files)
  }
  function cancel(): void {
    depth = 0
    dragging.value = false
  }

  const listeners: [string, (e: DragEvent) => void][] = [
    ['dragenter', enter],
    ['dragover', over],
    ['dragleave', leave],
    ['drop', drop],
  ]
  onMounted(() => {
    for (const [name, fn] of listeners) window.addEventListener(name, fn as EventListener)
  })
  onBeforeUnmount(() => {
    for (const [name, fn] of listeners) window.removeEventListener(name, fn as EventListener)
  })

  return { dragging, cancel }
}
