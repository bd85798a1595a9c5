// The raw-code scan: no Chinese page may show an instrument's id, a score,
// warning or item id, or a band code ("phq9", "total", "minimal"): every
// label a person reads comes from the instrument document or the locale
// files. assertAccessible runs it on every page the journeys visit.
import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import assert from 'node:assert/strict'

const SCALES = new URL('../../scales/', import.meta.url).pathname

// Codes shorter than this are left out: one- to three-letter ids ("q1",
// "R") would match ordinary text.
const MIN_LENGTH = 4

// rawCodes reads the built-in documents' ids and codes. A regular
// expression is enough: the documents are ours, and a code the scan
// missed would only make it weaker, never wrong.
function rawCodes() {
  const codes = new Set()
  for (const f of readdirSync(SCALES)) {
    if (!f.endsWith('.yaml')) continue
    const src = readFileSync(join(SCALES, f), 'utf8')
    for (const m of src.matchAll(/^(?:id|\s*-?\s*id|\s*-?\s*code):\s*["']?([A-Za-z][\w.]*)["']?\s*$/gm)) {
      if (m[1].length >= MIN_LENGTH && /[a-z]/.test(m[1])) codes.add(m[1])
    }
  }
  return [...codes]
}

export const RAW_CODES = rawCodes()

// assertNoRawCodes fails when the page, in Chinese, shows a raw code in its
// text or in a label a screen reader reads. Code a person edits (the
// instrument editor, <pre>, <code>, form fields) and elements marked
// data-raw-ok (an administrator's identifier column) are not scanned.
export async function assertNoRawCodes(page, label) {
  const found = await page.evaluate((codes) => {
    if (!document.documentElement.lang.startsWith('zh')) return []
    const skip = 'script, style, pre, code, textarea, input, .cm-editor, [data-raw-ok]'
    const pattern = new RegExp(`(?<![A-Za-z0-9_])(${codes.map((c) => c.replace(/[.]/g, '\\.')).join('|')})(?![A-Za-z0-9_])`)
    const hits = []
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT)
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      if (n.parentElement?.closest(skip)) continue
      const m = n.textContent.match(pattern)
      if (m) hits.push(`"${m[1]}" in "${n.textContent.trim().slice(0, 80)}"`)
    }
    for (const el of document.body.querySelectorAll('[aria-label], [title], [placeholder]')) {
      if (el.closest(skip)) continue
      for (const a of ['aria-label', 'title', 'placeholder']) {
        const m = el.getAttribute(a)?.match(pattern)
        if (m) hits.push(`"${m[1]}" in ${a}="${el.getAttribute(a).slice(0, 80)}"`)
      }
    }
    return hits.slice(0, 10)
  }, RAW_CODES)
  assert.deepEqual(found, [], `${label}: raw codes on a Chinese page`)
}
