// Journey: every public self-test gives its respondent something to read.
// A resident answers each instrument in the catalogue on a phone and the
// result page must carry words about the result, in Chinese, without a raw
// id (a score id, band code or level code). The Big Five's page is a chart
// with a standing and plain-language text per dimension, checked with axe
// in normal and elder mode and kept as screenshots.
import { test, after, before } from 'node:test'
import assert from 'node:assert/strict'
import { startServer, launchBrowser, shot } from './harness.mjs'
import { phone, assertAccessible, assertNoOverflow } from './h5.mjs'

let server, browser
before(async () => {
  server = await startServer()
  browser = await launchBrowser()
})
after(async () => {
  await browser?.close()
  await server?.stop()
})

// answerAll taps the lowest option of every item shown, following display
// conditions, submits, and passes the crisis screen if a rule sends it there.
async function answerAll(page, id) {
  await page.goto(`${server.base}/m/consent?instrument=${id}`)
  await page.tap('[data-test=consent-accept]')
  for (let n = 0; ; n++) {
    assert.ok(n < 200, `${id}: too many screens`)
    await page.waitForSelector('[data-test^="item-"], [data-test=review]')
    if (await page.$('[data-test=review]')) break
    const screen = await page.getAttribute('[data-test^="item-"]', 'data-test')
    await page.locator(`[data-test="${screen}"] .xl-option`).first().tap()
    await page.waitForFunction((s) => !document.querySelector(`[data-test="${s}"]`), screen)
  }
  await page.tap('[data-test=submit]')
  await page.waitForSelector('[data-test=done], [data-test=crisis]')
  if (await page.$('[data-test=crisis]')) {
    await page.tap('[data-test=crisis-leave]')
    await page.waitForSelector('[data-test=done]')
  }
}

// rawIds are the ids the last response carried, which no page may show.
async function rawIds(page) {
  const last = await page.evaluate(() => JSON.parse(sessionStorage.getItem('xl.last') || 'null'))
  const ids = new Set()
  for (const ins of last?.response?.result?.instruments || []) {
    ids.add(ins.id)
    Object.keys(ins.scores || {}).forEach((k) => ids.add(k))
    Object.values(ins.bands || {}).forEach((b) => ids.add(b.code))
    ;(ins.dimensions || []).forEach((d) => d.level && ids.add(d.level))
  }
  return [...ids].filter((id) => id.length > 1)
}

async function catalogue() {
  const r = await fetch(`${server.base}/api/v1/instruments`)
  assert.equal(r.status, 200)
  return (await r.json()).instruments.map((e) => e.id)
}

test('every public instrument gives readable feedback on the H5 result page', async () => {
  const ids = await catalogue()
  assert.ok(ids.includes('mini_ipip') && ids.length >= 10, `catalogue: ${ids}`)
  for (const id of ids) {
    const { context, page } = await phone(browser)
    await answerAll(page, id)
    const card = page.locator(`[data-test=result-${id}]`)
    await card.waitFor()
    const text = (await card.innerText()).trim()
    // Beyond the title: at least one sentence of feedback in Chinese.
    const sentences = text.split('\n').filter((l) => /[\u4e00-\u9fff]/.test(l) && /[。！]/.test(l))
    assert.ok(sentences.length > 0, `${id}: no readable feedback on the result page:\n${text}`)
    for (const raw of await rawIds(page)) {
      assert.ok(!new RegExp(`(^|[^A-Za-z0-9_])${raw}([^A-Za-z0-9_]|$)`).test(text), `${id}: raw id "${raw}" on the result page:\n${text}`)
    }
    await context.close()
  }
})

test('the Big Five result is a chart with words per dimension, in normal and elder mode', async () => {
  const { context, page } = await phone(browser)
  await answerAll(page, 'mini_ipip')
  await page.waitForSelector('[data-test=result-mini_ipip]')
  const dims = page.locator('[data-test^=dimension-]')
  assert.equal(await dims.count(), 5)
  for (const [score, label] of [['extraversion', '外向性'], ['agreeableness', '宜人性'], ['conscientiousness', '尽责性'], ['neuroticism', '神经质'], ['intellect', '智慧/想象力']]) {
    const d = page.locator(`[data-test=dimension-${score}]`)
    const text = await d.innerText()
    assert.ok(text.includes(label), `${score}: ${text}`)
    assert.match(text, /得分 \d+（范围 4–20）/)
    assert.ok((await d.locator('.xl-dim-meaning').innerText()).length > 20, `${score} has no words`)
    const fill = await d.locator('.xl-bar-fill').evaluate((el) => el.getBoundingClientRect().width)
    assert.ok(fill > 0, `${score}: empty bar`)
  }
  await assertAccessible(page, 'Big Five result')
  await assertNoOverflow(page, 390, 'Big Five result')
  await shot(page, 'profile-01-mini-ipip-result')

  await page.evaluate(() => localStorage.setItem('xl.elder', '1'))
  await page.reload()
  await page.waitForSelector('[data-test=result-mini_ipip]')
  await assertAccessible(page, 'Big Five result, elder mode')
  await shot(page, 'profile-02-mini-ipip-result-elder')

  const narrow = await phone(browser, { width: 320, height: 640 })
  await answerAll(narrow.page, 'mini_ipip')
  await narrow.page.waitForSelector('[data-test=result-mini_ipip]')
  await assertNoOverflow(narrow.page, 320, 'Big Five result at 320 px')
  await narrow.context.close()
  await context.close()
})
