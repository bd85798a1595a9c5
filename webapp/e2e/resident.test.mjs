// Journey 1: a resident on a phone takes PHQ-9, reloads halfway, answers
// item 9 with "several days" and meets the crisis screen with the hotline,
// then the follow-up ASQ. Plus: answers tapped offline reach the server,
// elder mode, a QR code link, the preview, and a 320 px wide phone.
import { test, after, before } from 'node:test'
import assert from 'node:assert/strict'
import { startServer, launchBrowser, shot } from './harness.mjs'
import { phone, assertAccessible, assertNoOverflow, saved, queued, tapOption, item } from './h5.mjs'

let server, browser
before(async () => {
  server = await startServer()
  browser = await launchBrowser()
})
after(async () => {
  await browser?.close()
  await server?.stop()
})

async function sessionOnServer(s) {
  const r = await fetch(`${server.base}/api/v1/sessions/${s.id}`, { headers: { Authorization: `Bearer ${s.token}` } })
  assert.equal(r.status, 200)
  return r.json()
}

test('resident: PHQ-9 with a reload halfway, crisis screen, follow-up ASQ', async () => {
  const { context, page } = await phone(browser)
  await page.goto(`${server.base}/m/`)
  await page.waitForSelector('[data-test=instrument-phq9]')
  await shot(page, 'resident-01-catalogue')
  await assertAccessible(page, 'catalogue')

  await page.tap('[data-test=start-phq9]')
  await page.waitForSelector('[data-test=consent-accept]')
  await page.waitForSelector('h2') // the instrument's title
  await shot(page, 'resident-02-consent')
  await assertAccessible(page, 'consent')
  await page.tap('[data-test=consent-accept]')

  await page.waitForSelector(item('phq9.q1'))
  await shot(page, 'resident-03-item1')
  await assertAccessible(page, 'item screen')
  for (const [n, v] of [[1, 1], [2, 2], [3, 0], [4, 1]]) await tapOption(page, v, item(`phq9.q${n + 1}`))

  // Reload at item 5: the phone must open item 5 again with the progress kept.
  await page.reload()
  await page.waitForSelector(item('phq9.q5'))
  assert.match(await page.textContent('[data-test=progress-text]'), /5.*9/)
  assert.equal(await page.getAttribute('[role=progressbar]', 'aria-valuenow'), '4')
  await shot(page, 'resident-04-resumed-item5')
  // back and next move between answered items without changing them
  await page.tap('[data-test=back]')
  await page.waitForSelector(item('phq9.q4'))
  assert.equal(await page.getAttribute('[data-test=option-1]', 'aria-pressed'), 'true')
  await page.tap('[data-test=next]')
  await page.waitForSelector(item('phq9.q5'))

  for (const n of [5, 6, 7, 8]) await tapOption(page, 0, item(`phq9.q${n + 1}`))
  await tapOption(page, 1, '[data-test=submit]') // item 9: "several days"
  await shot(page, 'resident-05-review')
  const s = await saved(page)
  await page.tap('[data-test=submit]')

  await page.waitForSelector('[data-test=crisis]')
  const hotline = page.locator('[data-test=hotline]')
  assert.ok(await hotline.isVisible())
  assert.equal(await hotline.getAttribute('href'), 'tel:12356')
  await shot(page, 'resident-06-crisis')
  await assertAccessible(page, 'crisis screen')

  // The server has every answer as tapped, item 9 = 1.
  const stored = await sessionOnServer(s)
  assert.equal(stored.state, 'submitted')
  assert.deepEqual(stored.answers, { 'phq9.q1': 1, 'phq9.q2': 2, 'phq9.q3': 0, 'phq9.q4': 1, 'phq9.q5': 0, 'phq9.q6': 0, 'phq9.q7': 0, 'phq9.q8': 0, 'phq9.q9': 1 })
  assert.equal(await saved(page), null, 'a submitted session leaves no token behind')

  await page.tap('[data-test=follow-up]')
  await page.waitForSelector(item('asq.q1'))
  await shot(page, 'resident-07-followup-asq')
  const f = await saved(page)
  assert.notEqual(f.id, s.id)
  await context.close()
})

test('answers tapped offline reach the server once the phone is back online', async () => {
  const { context, page } = await phone(browser)
  await page.goto(`${server.base}/m/consent?instrument=gad7`)
  await page.tap('[data-test=consent-accept]')
  await page.waitForSelector(item('gad7.q1'))
  await tapOption(page, 2, item('gad7.q2'))

  await context.setOffline(true)
  await tapOption(page, 1, item('gad7.q3'))
  await tapOption(page, 3, item('gad7.q4'))
  await page.waitForSelector('[data-test=sync-status]:has-text("网络")')
  assert.deepEqual((await queued(page)).map((e) => e.item).sort(), ['gad7.q2', 'gad7.q3'])
  await shot(page, 'resident-08-offline')
  // a reload while offline still resumes where the respondent was
  await page.reload().catch(() => {})
  await context.setOffline(false)
  await page.reload()
  await page.waitForSelector(item('gad7.q4'))
  await page.waitForFunction(() => JSON.parse(localStorage.getItem('xl.queue') || '[]').length === 0)

  const stored = await sessionOnServer(await saved(page))
  assert.deepEqual(stored.answers, { 'gad7.q1': 2, 'gad7.q2': 1, 'gad7.q3': 3 })
  assert.equal(stored.next, 'gad7.q4')
  await context.close()
})

test('submit waits for the connection and says so while offline', async () => {
  const { context, page } = await phone(browser)
  await page.goto(`${server.base}/m/consent?instrument=asq`)
  await page.tap('[data-test=consent-accept]')
  await page.waitForSelector(item('asq.q1'))
  for (const n of [1, 2, 3]) await tapOption(page, 0, item(`asq.q${n + 1}`))
  await context.setOffline(true)
  await tapOption(page, 0, '[data-test=submit]')
  await page.tap('[data-test=submit]')
  await page.waitForSelector('[data-test=take-message]')
  assert.match(await page.textContent('[data-test=take-message]'), /网络/)
  await context.setOffline(false)
  await page.tap('[data-test=submit]')
  await page.waitForSelector('[data-test=done]')
  await shot(page, 'resident-09-done')
  await assertAccessible(page, 'done screen')
  await context.close()
})

test('ASQ item 5 appears after a yes, and only then', async () => {
  const { context, page } = await phone(browser)
  await page.goto(`${server.base}/m/consent?instrument=asq`)
  await page.tap('[data-test=consent-accept]')
  await page.waitForSelector(item('asq.q1'))
  await tapOption(page, 1, item('asq.q2')) // yes
  for (const n of [2, 3]) await tapOption(page, 0, item(`asq.q${n + 1}`))
  await tapOption(page, 0, item('asq.q5'))
  assert.match(await page.textContent('[data-test=progress-text]'), /5.*5/)
  await shot(page, 'resident-10-asq-item5')
  await tapOption(page, 1, '[data-test=submit]') // thoughts right now: the acute, level-1 rule
  await page.tap('[data-test=submit]')
  await page.waitForSelector('[data-test=crisis]')
  assert.equal(await page.getAttribute('[data-test=hotline]', 'href'), 'tel:12356')
  await page.tap('[data-test=crisis-leave]')
  await page.waitForSelector('[data-test=done]')
  await context.close()
})

test('a double tap answers one item, not the next one too', async () => {
  const { context, page } = await phone(browser)
  await page.goto(`${server.base}/m/consent?instrument=phq9`)
  await page.tap('[data-test=consent-accept]')
  await page.waitForSelector(item('phq9.q1'))
  await page.waitForTimeout(500) // let the first item's options arm
  const box = await page.locator('[data-test=option-2]').boundingBox()
  const x = box.x + box.width / 2
  const y = box.y + box.height / 2
  await page.touchscreen.tap(x, y)
  await page.touchscreen.tap(x, y) // lands on item 2's screen at once
  await page.waitForSelector(item('phq9.q2'))
  await page.waitForFunction(() => JSON.parse(localStorage.getItem('xl.queue') || '[]').length === 0)
  const s = await saved(page)
  const r = await fetch(`${server.base}/api/v1/sessions/${s.id}`, { headers: { Authorization: `Bearer ${s.token}` } })
  assert.deepEqual((await r.json()).answers, { 'phq9.q1': 2 })
  assert.equal(await page.locator('[aria-pressed=true][data-test^=option-]').count(), 0)
  await context.close()
})

test('elder mode: large type and high contrast, kept across pages and reloads', async () => {
  const { context, page } = await phone(browser)
  await page.goto(`${server.base}/m/`)
  await page.waitForSelector('[data-test=instrument-phq9]')
  await page.tap('[data-test=elder-toggle]')
  const size = () => page.evaluate(() => getComputedStyle(document.documentElement).fontSize)
  assert.equal(await size(), '21px')
  assert.equal(await page.getAttribute('[data-test=elder-toggle]', 'aria-pressed'), 'true')
  await shot(page, 'resident-11-elder-catalogue')
  await assertAccessible(page, 'catalogue in elder mode')
  await page.goto(`${server.base}/m/consent?instrument=who5`)
  await page.tap('[data-test=consent-accept]')
  await page.waitForSelector(item('who5.q1'))
  assert.equal(await size(), '21px')
  await shot(page, 'resident-12-elder-item')
  await assertAccessible(page, 'item screen in elder mode')
  await page.tap('[data-test=elder-toggle]')
  assert.equal(await size(), '16px')

  // English throughout, instrument texts included, no message key showing
  await page.tap('[data-test=lang-toggle]')
  await page.waitForSelector('[data-test="item-who5.q1"] h1:has-text("I have")')
  assert.equal(await page.getAttribute('html', 'lang'), 'en')
  await page.goto(`${server.base}/m/`)
  await page.waitForSelector('[data-test=instrument-phq9]:has-text("Depression")')
  assert.equal(await page.textContent('h1'), 'Self-check')
  assert.doesNotMatch(await page.textContent('body'), /\b(catalogue|header|take|errors)\.[a-z]/)
  await shot(page, 'resident-13-english-catalogue')
  await context.close()
})

test('a QR link fills in the code; an unknown code gets a gentle message', async () => {
  const { context, page } = await phone(browser)
  await page.goto(`${server.base}/m/?code=ab23-cd45`)
  await page.waitForSelector('[data-test=code-input]')
  assert.equal(await page.inputValue('[data-test=code-input]'), 'AB23CD45')
  await shot(page, 'resident-14-code')
  await assertAccessible(page, 'code screen')
  await page.tap('[data-test=code-start]')
  await page.tap('[data-test=consent-accept]')
  await page.waitForSelector('[data-test=code-error]')
  assert.match(await page.textContent('[data-test=code-error]'), /没有找到这个测评码/)
  assert.equal(await page.inputValue('[data-test=code-input]'), 'AB23CD45')
  await context.close()
})

test('preview shows every item read-only, the conditional one marked', async () => {
  const { context, page } = await phone(browser)
  await page.goto(`${server.base}/m/preview/asq`)
  await page.waitForSelector('[data-test="preview-asq.q5"]')
  assert.equal(await page.locator('[data-test^="preview-asq."]').count(), 5)
  assert.equal(await page.locator('[data-test^=option-]').count(), 0)
  await shot(page, 'resident-15-preview')
  await context.close()
})

test('at 320 px nothing overflows, in elder mode either', async () => {
  const { context, page } = await phone(browser, { width: 320, height: 640 })
  await page.goto(`${server.base}/m/`)
  await page.waitForSelector('[data-test=instrument-phq9]')
  await assertNoOverflow(page, 320, 'catalogue')
  await shot(page, 'resident-16-320-catalogue')
  await page.goto(`${server.base}/m/consent?instrument=phq9`)
  await page.tap('[data-test=consent-accept]')
  await page.waitForSelector(item('phq9.q1'))
  await assertNoOverflow(page, 320, 'item screen')
  await page.tap('[data-test=elder-toggle]')
  await assertNoOverflow(page, 320, 'item screen, elder mode')
  await shot(page, 'resident-17-320-elder-item')
  await context.close()
})
