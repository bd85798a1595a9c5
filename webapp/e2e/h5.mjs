// Helpers of the H5 journeys: a phone-sized page, accessibility checks
// with axe-core, and reading the H5's own localStorage.
import assert from 'node:assert/strict'
import { fileURLToPath } from 'node:url'

export const AXE = fileURLToPath(new URL('../node_modules/axe-core/axe.min.js', import.meta.url))

export async function phone(browser, { width = 390, height = 844 } = {}) {
  const context = await browser.newContext({ viewport: { width, height }, isMobile: true, hasTouch: true, deviceScaleFactor: 2, locale: 'zh-CN' })
  const page = await context.newPage()
  return { context, page }
}

// assertAccessible runs axe-core on the page as it is and fails on any
// serious or critical violation, naming the rule and the elements.
export async function assertAccessible(page, label) {
  await page.addScriptTag({ path: AXE })
  const bad = await page.evaluate(async () => {
    const r = await globalThis.axe.run(document, { resultTypes: ['violations'] })
    return r.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)
  })
  assert.deepEqual(bad, [], `${label}: axe found serious/critical violations`)
}

export async function assertNoOverflow(page, width, label) {
  const sw = await page.evaluate(() => document.documentElement.scrollWidth)
  assert.ok(sw <= width, `${label}: page is ${sw}px wide at a ${width}px viewport`)
}

export const saved = (page) => page.evaluate(() => JSON.parse(localStorage.getItem('xl.session') || 'null'))
export const queued = (page) => page.evaluate(() => JSON.parse(localStorage.getItem('xl.queue') || '[]'))

// tapOption answers the current item and waits for the next screen.
export async function tapOption(page, value, nextSelector) {
  await page.tap(`[data-test=option-${value}]`)
  if (nextSelector) await page.waitForSelector(nextSelector)
}

export const item = (id) => `[data-test="item-${id}"]`
