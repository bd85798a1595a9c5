// Holds the respondent H5 to its budget: the JavaScript reachable from the
// m entry (static and lazy imports alike, since a respondent may need any
// screen) must stay within 150 KB gzipped, and must not contain Element Plus
// or ECharts, which belong to the console. Run after `npm run build`.
import { readFileSync } from 'node:fs'
import { gzipSync } from 'node:zlib'

export const BUDGET_BYTES = 150 * 1024
const FORBIDDEN = ['/node_modules/element-plus/', '/node_modules/echarts/', '/node_modules/zrender/', '/node_modules/vue-echarts/']

export function measure(distDir, entry = 'm') {
  const chunks = JSON.parse(readFileSync(`${distDir}/.vite/chunks.json`, 'utf8'))
  const start = Object.keys(chunks).filter((f) => chunks[f].entry === entry)
  if (start.length === 0) throw new Error(`no chunk for entry ${entry} in ${distDir}/.vite/chunks.json`)
  const seen = new Set()
  const queue = [...start]
  while (queue.length) {
    const f = queue.pop()
    if (seen.has(f)) continue
    seen.add(f)
    queue.push(...chunks[f].imports, ...chunks[f].dynamicImports)
  }
  let gzipped = 0
  const forbidden = []
  const files = []
  for (const f of seen) {
    const size = gzipSync(readFileSync(`${distDir}/${f}`), { level: 9 }).length
    gzipped += size
    files.push({ file: f, gzipped: size })
    for (const m of chunks[f].modules) {
      if (FORBIDDEN.some((p) => m.includes(p))) forbidden.push(`${f}: ${m}`)
    }
  }
  return { gzipped, files: files.sort((a, b) => b.gzipped - a.gzipped), forbidden }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const dist = new URL('../dist', import.meta.url).pathname
  const r = measure(dist)
  for (const f of r.files) console.log(`${(f.gzipped / 1024).toFixed(1).padStart(7)} KB  ${f.file}`)
  console.log(`H5 JavaScript: ${(r.gzipped / 1024).toFixed(1)} KB gzipped of a ${BUDGET_BYTES / 1024} KB budget`)
  let failed = false
  if (r.forbidden.length) {
    console.error('console-only modules in the H5 bundle:\n  ' + r.forbidden.join('\n  '))
    failed = true
  }
  if (r.gzipped > BUDGET_BYTES) {
    console.error(`over budget by ${((r.gzipped - BUDGET_BYTES) / 1024).toFixed(1)} KB`)
    failed = true
  }
  process.exit(failed ? 1 : 0)
}
