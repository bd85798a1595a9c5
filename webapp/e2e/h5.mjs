// Helpers of the H5 journeys: a phone-sized page, accessibility checks
// with axe-core, and reading the H5's own localStorage.
import assert from 'node:assert/strict'
import { Client } from './console-helpers.mjs'

export async function phone(browser, { width = 390, height = 844 } = {}) {
  const context = await browser.newContext({ viewport: { width, height }, isMobile: true, hasTouch: true, deviceScaleFactor: 2, locale: 'zh-CN' })
  const page = await context.newPage()
  return { context, page }
}

export { assertAccessible } from './harness.mjs'

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

// staffClient signs a demo account in through the API (changing its
// one-time password first) and returns call(method, path, body) -> {status, body}.
export async function staffClient(base, login, oneTime) {
  const c = new Client(base)
  await c.login(login, oneTime)
  return (method, path, body) => c.request(method, path, body)
}
