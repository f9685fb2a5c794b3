// Math in messages: `$…$` and `\(…\)` inline, `$$…$$` and `\[…\]` as a block, typeset by KaTeX
// (bundled: no font, stylesheet or request) as MathML, which the browser lays out itself — no
// inline style, so the page's CSP stands, and no KaTeX stylesheet to ship.
//
// Safety: KaTeX runs with `trust: false` (no \href, \url, \includegraphics, \html…), its output
// is sanitized on its own by DOMPurify's MathML profile, and joined into the message only after
// the message's own HTML was sanitized (where <math> stays forbidden): markdown-it leaves a slot,
// `<span class="math-slot">NONCE:n</span>`, with a nonce new for every render, so no text a
// model or user writes can name a slot.
import DOMPurify from 'dompurify'
import katex from 'katex'
import type MarkdownIt from 'markdown-it'
import type { StateBlock, StateInline } from 'markdown-it'

/** markdown-it's render env (an open object), carrying this render's formulas. */
export interface MathEnv {
  math?: { nonce: string; parts: string[] }
  [key: string]: unknown
  [key: symbol]: unknown
}

const MAX_TEX = 4000 // a formula longer than this is shown as the text it is

/** KaTeX's MathML for `tex`, without the TeX annotation (DOMPurify's MathML profile drops
 * <semantics>/<annotation>, which would leave the source as stray text), sanitized. */
export function mathml(tex: string, display: boolean, purifier = defaultPurifier()): string {
  if (tex.length > MAX_TEX) return `<code>${escapeHtml(tex)}</code>`
  const raw = katex.renderToString(tex, {
    output: 'mathml',
    displayMode: display,
    throwOnError: false,
    trust: false,
    strict: 'ignore',
    maxSize: 50,
    maxExpand: 500,
  })
  // KaTeX's own markup (it escapes every value it writes): drop the TeX annotation, and the
  // inline style of its error spans, which the page's CSP would refuse (and report) as the
  // sanitizer parses it.
  const bare = raw
    .replace(/<annotation\b[^>]*>[\s\S]*?<\/annotation>/g, '')
    .replace(/<\/?semantics>/g, '')
    .replace(/ style="[^"]*"/g, '')
  return purifier.sanitize(bare, {
    USE_PROFILES: { mathMl: true, html: true },
    FORBID_TAGS: ['style', 'a', 'img', 'svg', 'form', 'input', 'iframe', 'object', 'embed', 'script'],
    FORBID_ATTR: ['style', 'href', 'xlink:href', 'src', 'action', 'formaction'],
    ALLOW_DATA_ATTR: false,
  })
}

let shared: ReturnType<typeof DOMPurify> | null = null
function defaultPurifier(): ReturnType<typeof DOMPurify> {
  shared ??= DOMPurify(window)
  return shared
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
}

function slot(env: MathEnv, tex: string, display: boolean): string {
  const math = (env.math ??= { nonce: crypto.randomUUID(), parts: [] })
  math.parts.push(mathml(tex, display))
  return `<span class="math-slot">${math.nonce}:${math.parts.length - 1}</span>`
}

/** The sanitized message HTML with each slot replaced by its typeset formula. */
export function fillMath(html: string, env: MathEnv): string {
  const math = env.math
  if (!math) return html
  const pattern = new RegExp(`<span class="math-slot">${math.nonce}:(\\d+)</span>`, 'g')
  return html.replace(pattern, (_m, n: string) => math.parts[Number(n)] ?? '')
}

const INLINE: [string, string, boolean][] = [
  ['$$', '$$', true],
  ['\\(', '\\)', false],
  ['\\[', '\\]', true],
  ['$', '$', false],
]

function inlineMath(state: StateInline, silent: boolean): boolean {
  const src = state.src
  const pos = state.pos
  const found = INLINE.find(([open]) => src.startsWith(open, pos))
  if (!found) return false
  const [open, close, display] = found
  const start = pos + open.length
  // `$` opens only before a non-space and closes only after one, and not before a digit:
  // "costs $5 and $10" stays text.
  if (open === '$' && /\s/.test(src[start] ?? ' ')) return false
  let end = src.indexOf(close, start)
  while (end !== -1 && open === '$' && src[end - 1] === '\\') end = src.indexOf(close, end + 1)
  if (end === -1 || end === start) return false
  if (open === '$' && (/\s/.test(src[end - 1]) || /\d/.test(src[end + 1] ?? ''))) return false
  if (!silent) {
    const token = state.push('math_inline', 'math', 0)
    token.content = src.slice(start, end)
    token.meta = { display }
  }
  state.pos = end + close.length
  return true
}

function blockMath(state: StateBlock, startLine: number, endLine: number, silent: boolean): boolean {
  const lineText = (n: number) => state.src.slice(state.bMarks[n] + state.tShift[n], state.eMarks[n])
  const first = lineText(startLine).trim()
  const open = first.startsWith('$$') ? '$$' : first.startsWith('\\[') ? '\\[' : ''
  if (!open || state.sCount[startLine] - state.blkIndent >= 4) return false
  const close = open === '$$' ? '$$' : '\\]'
  let body = first.slice(2)
  let line = startLine
  let closed = body.trimEnd().endsWith(close)
  if (closed) body = body.trimEnd().slice(0, -close.length)
  while (!closed && ++line < endLine) {
    const text = lineText(line).trimEnd()
    closed = text.endsWith(close)
    body += '\n' + (closed ? text.slice(0, -close.length) : text)
  }
  if (!closed || !body.trim()) return false
  if (silent) return true
  state.line = line + 1
  const token = state.push('math_block', 'math', 0)
  token.block = true
  token.content = body.trim()
  token.map = [startLine, state.line]
  return true
}

/** The markdown-it plugin: math tokens, each rendered as a slot `fillMath` fills. */
export function mathPlugin(md: InstanceType<typeof MarkdownIt>): void {
  md.inline.ruler.before('escape', 'math_inline', inlineMath)
  md.block.ruler.before('paragraph', 'math_block', blockMath, { alt: ['paragraph', 'reference', 'blockquote', 'list'] })
  // A render without an env (a caller that never fills slots) gets a fresh one: no slot is
  // ever left unfilled by `renderMarkdown`, which always passes its own.
  md.renderer.rules.math_inline = (tokens, idx, _options, env) =>
    slot((env ?? {}) as MathEnv, tokens[idx].content, Boolean(tokens[idx].meta?.display))
  md.renderer.rules.math_block = (tokens, idx, _options, env) =>
    `<p class="math-display">${slot((env ?? {}) as MathEnv, tokens[idx].content, true)}</p>\n`
}
