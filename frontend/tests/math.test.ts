import { describe, expect, it } from 'vitest'
import { renderMarkdown } from '../src/lib/markdown'

const CORPUS: string[] = (await import('../../tests/e2e/xss_corpus.json')).default

function dom(html: string): HTMLElement {
  const div = document.createElement('div')
  div.innerHTML = html
  return div
}

/** Anything in the rendered HTML that could run or load: the XSS detector of the e2e tier. */
function active(root: HTMLElement): string[] {
  const found: string[] = []
  for (const el of root.querySelectorAll('*')) {
    const tag = el.tagName.toLowerCase()
    if (['script', 'iframe', 'object', 'embed', 'img', 'a', 'style', 'svg', 'form', 'input'].includes(tag)) found.push(tag)
    for (const attr of el.attributes) {
      const name = attr.name.toLowerCase()
      if (name.startsWith('on') || name === 'style' || name === 'href' || name === 'src' || name.includes('href')) found.push(`${tag}[${name}]`)
    }
  }
  return found
}

describe('KaTeX math in messages', () => {
  it('typesets inline and display math as MathML, without the TeX source or any style', () => {
    const root = dom(renderMarkdown('Energy: $E = mc^2$ and\n\n$$\\frac{a}{b}$$'))
    const maths = root.querySelectorAll('math')
    expect(maths.length).toBe(2)
    expect(maths[0].getAttribute('display')).not.toBe('block')
    expect(maths[1].getAttribute('display')).toBe('block')
    expect(root.querySelector('msup')).not.toBeNull()
    expect(root.querySelector('mfrac')).not.toBeNull()
    expect(root.querySelector('annotation')).toBeNull()
    expect(root.querySelector('.math-slot')).toBeNull()
    expect(root.innerHTML).not.toContain('style=')
    expect(root.textContent).toContain('Energy:')
  })

  it('reads \\( \\) and \\[ \\] too, and leaves money, code and fences alone', () => {
    expect(dom(renderMarkdown('a \\(x_1\\) b')).querySelectorAll('math').length).toBe(1)
    expect(dom(renderMarkdown('\\[x\\]')).querySelector('math')?.getAttribute('display')).toBe('block')
    const money = dom(renderMarkdown('It costs $5 and $10 today.'))
    expect(money.querySelector('math')).toBeNull()
    expect(money.textContent?.trim()).toBe('It costs $5 and $10 today.')
    const code = dom(renderMarkdown('`$x$` and\n\n```\n$$y$$\n```'))
    expect(code.querySelector('math')).toBeNull()
    expect(code.textContent).toContain('$x$')
    expect(code.textContent).toContain('$$y$$')
  })

  it('shows a formula KaTeX cannot read as text, not as an error that breaks the message', () => {
    const root = dom(renderMarkdown('bad $\\frac{$ end'))
    expect(root.textContent).toContain('end')
    expect(active(root)).toEqual([])
  })

  it('runs no command that links, loads or injects (trust is off)', () => {
    const tex = [
      '$\\href{javascript:alert(1)}{x}$',
      '$\\url{javascript:alert(1)}$',
      '$\\includegraphics{http://example.com/x.png}$',
      '$\\htmlClass{x}{y}$',
      '$\\htmlStyle{color:red}{y}$',
      '$\\htmlData{onclick=alert(1)}{y}$',
      '$$\\def\\a{\\a}\\a$$',
    ]
    for (const t of tex) expect(active(dom(renderMarkdown(t))), t).toEqual([])
  })

  it('leaves the XSS corpus inert inside inline and display math', () => {
    expect(CORPUS.length).toBeGreaterThan(30)
    for (const payload of CORPUS) {
      for (const wrapped of [`$${payload}$`, `$$${payload}$$`, `\\(${payload}\\)`, `$$\n${payload}\n$$`]) {
        expect(active(dom(renderMarkdown(wrapped))), wrapped).toEqual([])
      }
    }
  }, 60_000)

  it('cannot be made to fill a slot from the text itself', () => {
    const root = dom(renderMarkdown('<span class="math-slot">x:0</span> $y$'))
    expect(root.querySelectorAll('math').length).toBe(1)
    expect(root.textContent).toContain('<span class="math-slot">x:0</span>')
  })
})
