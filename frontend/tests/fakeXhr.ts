// A stand-in for XMLHttpRequest: the test plays the browser's upload events and the server's
// answer. `all` keeps every request made since the last reset (several uploads run at once).
export class FakeXhr {
  static last: FakeXhr | undefined
  static all: FakeXhr[] = []
  method = ''
  url = ''
  headers: Record<string, string> = {}
  body: unknown
  status = 0
  statusText = ''
  responseText = ''
  responseType = ''
  aborted = false
  upload: { onprogress?: (e: { loaded: number; total: number; lengthComputable: boolean }) => void } = {}
  onload?: () => void
  onerror?: () => void
  onabort?: () => void
  constructor() {
    FakeXhr.last = this
    FakeXhr.all.push(this)
  }
  static reset(): void {
    FakeXhr.last = undefined
    FakeXhr.all = []
  }
  open(method: string, url: string): void {
    this.method = method
    this.url = url
  }
  setRequestHeader(k: string, v: string): void {
    this.headers[k] = v
  }
  send(body: unknown): void {
    this.body = body
  }
  abort(): void {
    this.aborted = true
    this.onabort?.()
  }
  progress(loaded: number, total: number): void {
    this.upload.onprogress?.({ loaded, total, lengthComputable: true })
  }
  answer(status: number, data: unknown): void {
    this.status = status
    this.responseText = JSON.stringify(data)
    this.onload?.()
  }
}
