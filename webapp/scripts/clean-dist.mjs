// Empties dist/ before a build, keeping placeholder.html: it is committed so
// that the Go binary can embed dist (and explain how to build it) on a clone
// where the web app has not been built yet.
import { readdirSync, rmSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'

const dist = new URL('../dist/', import.meta.url).pathname
mkdirSync(dist, { recursive: true })
for (const name of readdirSync(dist)) {
  if (name !== 'placeholder.html') rmSync(join(dist, name), { recursive: true, force: true })
}
