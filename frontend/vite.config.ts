// Build config: the bundle goes to the top-level frontend_dist/, which the server serves at `/`.
// File names carry content hashes only (no timestamps), so the same sources build the same bytes
// and `npm run build:check` can compare a fresh build with the committed one.
import { fileURLToPath } from 'node:url'
import vue from '@vitejs/plugin-vue'
import { defineConfig } from 'vitest/config'

const outDir = process.env.DIRECTOR_DIST_DIR ?? fileURLToPath(new URL('../frontend_dist', import.meta.url))

export default defineConfig({
  base: '/',
  plugins: [vue()],
  // The app uses the Composition API only: dropping the Options API and devtools hooks trims Vue.
  define: {
    __VUE_OPTIONS_API__: 'false',
    __VUE_PROD_DEVTOOLS__: 'false',
    __VUE_PROD_HYDRATION_MISMATCH_DETAILS__: 'false',
  },
  build: {
    outDir,
    emptyOutDir: true,
    target: 'es2020',
    // The engines the app runs in (WebKitGTK, WKWebView, WebView2) and the browsers of
    // `--headless`: without this, the CSS minifier expands `system-ui` into a list of eight
    // families for older browsers, which WebKitGTK then looks up one by one at first paint.
    cssTarget: ['chrome100', 'safari15', 'firefox100'],
    sourcemap: false,
    modulePreload: { polyfill: false }, // the polyfill is an inline-free script, but unneeded in Chromium/WebKit
    assetsInlineLimit: 0, // no data: URLs, so the CSP needs no `data:` source
    // The largest chunk is the markdown renderer (KaTeX, highlight.js, markdown-it: ~455 KB), loaded
    // after the first view (src/lib/renderer.ts); the first view itself parses ~212 KB.
    chunkSizeWarningLimit: 480,
  },
  test: {
    environment: 'jsdom',
    include: ['tests/**/*.test.ts'],
  },
})
