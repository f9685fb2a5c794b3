// Hands a file the page holds (an export it fetched with the token) to the browser's download,
// as the `download` item renderer does with a signed link: an <a download> clicked. In the
// desktop window, the web view's own download handling saves it (with its save dialog where the
// window enables one).
export function saveFile(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob)
  const link = document.createElement('a')
  link.href = url
  link.download = filename
  link.rel = 'noopener'
  document.body.append(link)
  link.click()
  link.remove()
  // The download has read the URL by the time the click returns in Chromium and WebKit; a
  // minute's grace covers a slow one before the blob is freed.
  setTimeout(() => URL.revokeObjectURL(url), 60_000)
}
