// Helpers of the H5 journeys: a phone-sized page, accessibility checks
// with axe-core, and reading the H5's own localStorage.
import assert from 'node:assert/strict'
import { injectAxe } from './harness.mjs'

export async function phone(browser, { width = 390, height = 844 } = {}) {
  const context = await browser.newContext({ viewport: { width, height }, isMobile: true, hasTouch: true, deviceScaleFactor: 2, locale: 'zh-CN' })
  const page = await context.newPage()
  return { context, page }
}

// assertAccessible runs axe-core on the page as it is and fails on any
// serious or critical violation, naming the rule and the elements.
export async function assertAccessible(page, label) {
  // A dialog still fading in has partial opacity, which axe reads as low
  // contrast: let running transitions finish first.
  await page.evaluate(() => Promise.all(document.getAnimations().map((a) => a.finished.catch(() => {}))))
  await injectAxe(page)
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

// staffClient signs a demo account in through the API (changing its
// one-time password first) and returns call(method, path, body) -> {status, body}.
export async function staffClient(base, login, oneTime) {
  let cookie = ''
  let csrf = ''
  async function call(method, path, body) {
    const headers = { 'Content-Type': 'application/json' }
    if (cookie) headers.Cookie = cookie
    if (csrf) headers['X-CSRF-Token'] = csrf
    const r = await fetch(`${base}/api/v1${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) })
    const set = r.headers.get('set-cookie')
    if (set) cookie = set.split(';')[0]
    const text = await r.text()
    const data = text ? JSON.parse(text) : null
    if (data?.csrf) csrf = data.csrf
    return { status: r.status, body: data }
  }
  const password = `e2e-${login}-Passw0rd-long-enough`
  let r = await call('POST', '/auth/login', { login, password: oneTime })
  assert.equal(r.status, 200, JSON.stringify(r.body))
  r = await call('POST', '/auth/password', { old_password: oneTime, new_password: password })
  assert.equal(r.status, 200, JSON.stringify(r.body))
  r = await call('POST', '/auth/login', { login, password })
  assert.equal(r.status, 200, JSON.stringify(r.body))
  return call
}
