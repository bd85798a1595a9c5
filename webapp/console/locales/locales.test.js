import { describe, it, expect } from 'vitest'
import { readFileSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import zhCN from './zh-CN.js'
import en from './en.js'

function keys(o, prefix = '') {
  return Object.entries(o).flatMap(([k, v]) => (v && typeof v === 'object' ? keys(v, `${prefix}${k}.`) : [`${prefix}${k}`]))
}

function sources(dir) {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f)
    if (statSync(p).isDirectory()) return f === 'locales' ? [] : sources(p)
    return /\.(vue|js)$/.test(f) && !f.endsWith('.test.js') ? [p] : []
  })
}

describe('console messages', () => {
  it('has the same keys in zh-CN and en', () => {
    expect(keys(en).sort()).toEqual(keys(zhCN).sort())
  })
  it('defines every literal key the screens use', () => {
    const root = join(process.cwd(), 'console') // vitest runs from webapp/
    const known = new Set(keys(zhCN))
    const missing = []
    for (const file of sources(root)) {
      for (const m of readFileSync(file, 'utf8').matchAll(/\bt\('([a-zA-Z_.]+)'/g)) {
        if (!known.has(m[1])) missing.push(`${file}: ${m[1]}`)
      }
    }
    expect(missing).toEqual([])
  })
})
