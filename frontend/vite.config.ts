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
  build: {
    outDir,
    emptyOutDir: true,
    target: 'es2020',
    sourcemap: false,
    modulePreload: { polyfill: false }, // the polyfill is an inline-free script, but unneeded in Chromium/WebKit
    assetsInlineLimit: 0, // no data: URLs, so the CSP needs no `data:` source
    chunkSizeWarningLimit: 400,
  },
  test: {
    environment: 'jsdom',
    include: ['tests/**/*.test.ts'],
  },
})
