// Build into a temporary directory and fail when it differs from the committed ../frontend_dist/:
// CI's guard that the committed bundle is exactly what these sources and package-lock.json build.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

const committed = fileURLToPath(new URL('../../frontend_dist', import.meta.url))
const fresh = mkdtempSync(join(tmpdir(), 'director-dist-'))

function files(dir) {
  const out = []
  for (const name of readdirSync(dir)) {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) out.push(...files(path))
    else out.push(path)
  }
  return out
}

try {
  execFileSync('npx', ['vite', 'build', '--logLevel', 'warn'], {
    stdio: 'inherit',
    env: { ...process.env, DIRECTOR_DIST_DIR: fresh },
  })
  const a = new Map(files(committed).map((p) => [relative(committed, p), p]))
  const b = new Map(files(fresh).map((p) => [relative(fresh, p), p]))
  const problems = []
  for (const name of new Set([...a.keys(), ...b.keys()])) {
    if (!a.has(name)) problems.push(`missing from frontend_dist/: ${name}`)
    else if (!b.has(name)) problems.push(`stale in frontend_dist/ (not built any more): ${name}`)
    else if (!readFileSync(a.get(name)).equals(readFileSync(b.get(name)))) problems.push(`differs: ${name}`)
  }
  if (problems.length) {
    console.error('frontend_dist/ is not the build of these sources; run `npm run build` and commit:')
    for (const p of problems) console.error('  ' + p)
    process.exit(1)
  }
  console.log(`frontend_dist/ matches a fresh build (${b.size} files)`)
} finally {
  rmSync(fresh, { recursive: true, force: true })
}
