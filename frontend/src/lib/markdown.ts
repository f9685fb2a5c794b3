// Model text → safe HTML. markdown-it with raw HTML off (so tags in the text are shown as text),
// highlight.js core with a handful of languages (the full build is ~1 MB), then DOMPurify as the
// last word: whatever the first two let through, no script, handler, remote resource or
// javascript: URL reaches the DOM. Code blocks get a copy button, wired by delegation in TextItem.
// With KaTeX, this is most of the bundle's weight: the page loads it as a chunk of its own once
// it is ready or a message needs it (lib/renderer.ts), never before its first view.
import DOMPurify from 'dompurify'
import hljs from 'highlight.js/lib/core'
import bash from 'highlight.js/lib/languages/bash'
import css from 'highlight.js/lib/languages/css'
import javascript from 'highlight.js/lib/languages/javascript'
import json from 'highlight.js/lib/languages/json'
import python from 'highlight.js/lib/languages/python'
import sql from 'highlight.js/lib/languages/sql'
import typescript from 'highlight.js/lib/languages/typescript'
import xml from 'highlight.js/lib/languages/xml'
import yaml from 'highlight.js/lib/languages/yaml'
import MarkdownIt from 'markdown-it'
import { isLocalUrl } from './links'
import { fillMath, mathPlugin, type MathEnv } from './math'

const languages = { bash, css, javascript, json, python, sql, typescript, xml, yaml }
for (const [name, lang] of Object.entries(languages)) hljs.registerLanguage(name, lang)
hljs.registerAliases(['sh', 'shell', 'console'], { languageName: 'bash' })
hljs.registerAliases(['js'], { languageName: 'javascript' })
hljs.registerAliases(['ts'], { languageName: 'typescript' })
hljs.registerAliases(['html', 'svg'], { languageName: 'xml' })
hljs.registerAliases(['py'], { languageName: 'python' })
hljs.registerAliases(['yml'], { languageName: 'yaml' })

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
}

const md = new MarkdownIt({
  html: false,
  linkify: true,
  breaks: false,
  highlight(code, lang) {
    const name = lang && hljs.getLanguage(lang) ? lang : ''
    const body = name ? hljs.highlight(code, { language: name, ignoreIllegals: true }).value : escapeHtml(code)
    const label = escapeHtml(name || 'text')
    return (
      `<div class="code-block"><div class="code-head"><span>${label}</span>` +
      `<button type="button" class="copy-code" aria-label="Copy code">Copy</button></div>` +
      `<pre><code class="hljs">${body}</code></pre></div>`
    )
  },
})

// The highlighter answers a whole block (a header with the copy button, around a <pre>), and
// markdown-it wraps whatever does not start with <pre> in another <pre><code>, which showed as
// empty frames above and below the block: a fence is the highlighter's block alone.
const fence = md.renderer.rules.fence
md.renderer.rules.fence = (tokens, idx, options, env, self) => {
  const html = fence ? fence(tokens, idx, options, env, self) : ''
  const block = /^<pre><code[^>]*>(<div class="code-block">[\s\S]*<\/div>)<\/code><\/pre>\n?$/.exec(html)
  return block ? block[1] + '\n' : html
}

md.use(mathPlugin) // KaTeX math (math.ts): typeset, sanitized apart, filled in after `sanitize`

const purifier = DOMPurify(window)
purifier.addHook('afterSanitizeAttributes', (node) => {
  if (node.tagName === 'A') {
    const href = node.getAttribute('href') ?? ''
    if (!/^(https?:|mailto:|#)/i.test(href) && !href.startsWith('/')) node.removeAttribute('href')
    if (!href.startsWith('#')) {
      node.setAttribute('target', '_blank')
      node.setAttribute('rel', 'noopener noreferrer')
    }
  }
  if (node.tagName === 'IMG' && !isLocalUrl(node.getAttribute('src'))) {
    node.setAttribute('data-blocked-src', node.getAttribute('src') ?? '')
    node.removeAttribute('src')
    node.removeAttribute('srcset')
  }
})

export function sanitize(html: string): string {
  return purifier.sanitize(html, {
    FORBID_TAGS: ['style', 'form', 'input', 'textarea', 'select', 'iframe', 'object', 'embed', 'svg', 'math'],
    FORBID_ATTR: ['style', 'srcset', 'action', 'formaction'],
    ALLOW_DATA_ATTR: false,
  })
}

export function renderMarkdown(text: string): string {
  const env: MathEnv = {}
  return fillMath(sanitize(md.render(text ?? '', env)), env)
}
