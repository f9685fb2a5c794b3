// Links in what the page shows: which URLs it may load (its own origin only), and the in-app
// chat links agents answer with. Tiny and dependency-free, so the first view needs no renderer.

/** Same-origin (or relative) URLs only: the page must not reach any other origin. */
export function isLocalUrl(url: string | null | undefined, origin = window.location.origin): boolean {
  if (!url) return false
  try {
    const u = new URL(url, origin + '/')
    return u.origin === origin && (u.protocol === 'http:' || u.protocol === 'https:')
  } catch {
    return false
  }
}

/** `#session=<id>[&msg=<id>]`, the in-app link agents answer with (e.g. @search_chats). */
export function parseSessionLink(href: string | null): { sessionId: string; msgId?: string } | null {
  const m = /^#session=([^&]+)(?:&msg=([^&]+))?$/.exec(href ?? '')
  if (!m) return null
  return { sessionId: decodeURIComponent(m[1]), msgId: m[2] ? decodeURIComponent(m[2]) : undefined }
}
