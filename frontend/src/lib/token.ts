// The launch token: read once from the `#token=` fragment the window opens with, kept in
// sessionStorage (so a reload keeps it) and removed from the address bar so it is not shown,
// bookmarked or copied along with the URL.

const KEY = 'director.token'

export function takeToken(loc: Location = window.location, store: Storage = window.sessionStorage): string {
  const match = /(?:^#|&)token=([^&]+)/.exec(loc.hash)
  if (match) {
    const token = decodeURIComponent(match[1])
    store.setItem(KEY, token)
    const rest = loc.hash.replace(/(^#|&)token=[^&]+/, '$1').replace(/^#&/, '#')
    const clean = loc.pathname + loc.search + (rest === '#' ? '' : rest)
    window.history.replaceState(window.history.state, '', clean)
    return token
  }
  return store.getItem(KEY) ?? ''
}
