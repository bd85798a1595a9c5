// The H5's side of a school screening: a class code from a QR link starts
// the campaign's battery, the items run on across instruments, the done
// screen follows the campaign's visibility, and a closed campaign turns the
// code away with a gentle message.
import { test, after, before } from 'node:test'
import assert from 'node:assert/strict'
import { startServer, launchBrowser, shot } from './harness.mjs'
import { phone, assertAccessible, tapOption, item, staffClient } from './h5.mjs'

let server, browser, staff, campaign, code
before(async () => {
  server = await startServer()
  browser = await launchBrowser()
  staff = await staffClient(server.base, 'demo-psych', server.accounts['demo-psych'])
  const now = Date.now()
  let r = await staff('POST', '/campaigns', {
    name: 'H5 e2e', unit_id: 'demo-school', unit_ids: ['demo-class7-1'], battery: ['who5', 'gad7'], mode: 'open', visibility: 'thanks',
    starts_at: new Date(now - 3600_000).toISOString(), ends_at: new Date(now + 86400_000).toISOString(),
  })
  assert.equal(r.status, 201, JSON.stringify(r.body))
  campaign = r.body.campaign.id
  r = await staff('POST', `/campaigns/${campaign}/activate`)
  assert.equal(r.status, 200, JSON.stringify(r.body))
  r = await staff('POST', `/campaigns/${campaign}/class-codes`)
  assert.equal(r.status, 200, JSON.stringify(r.body))
  code = r.body.codes[0].code
})
after(async () => {
  await browser?.close()
  await server?.stop()
})

test('a class code from a QR link runs the battery and ends with the thanks screen', async () => {
  const { context, page } = await phone(browser)
  await page.goto(`${server.base}/m/?code=${code}`)
  await page.waitForSelector('[data-test=code-input]')
  assert.equal(await page.inputValue('[data-test=code-input]'), code)
  await page.tap('[data-test=code-start]')
  await page.tap('[data-test=consent-accept]')
  await page.waitForSelector(item('who5.q1'))
  for (let n = 1; n <= 5; n++) await tapOption(page, 3, n < 5 ? item(`who5.q${n + 1}`) : item('gad7.q1'))
  // the battery runs on: GAD-7 follows WHO-5 with its own instructions
  assert.match(await page.textContent('[data-test=progress-text]'), /6.*12/)
  await shot(page, 'h5-campaign-01-battery-second-instrument')
  for (let n = 1; n <= 7; n++) await tapOption(page, 0, n < 7 ? item(`gad7.q${n + 1}`) : '[data-test=submit]')
  await page.tap('[data-test=submit]')
  await page.waitForSelector('[data-test=done]')
  assert.equal(await page.getAttribute('[data-test=done]', 'data-visibility'), 'thanks')
  assert.equal(await page.locator('[data-test^=result-]').count(), 0, 'no bands under a thanks-only campaign')
  await shot(page, 'h5-campaign-02-thanks')
  await assertAccessible(page, 'thanks screen')
  await context.close()
})

test('a closed campaign turns the code away gently', async () => {
  const r = await staff('POST', `/campaigns/${campaign}/close`)
  assert.equal(r.status, 200, JSON.stringify(r.body))
  const { context, page } = await phone(browser)
  await page.goto(`${server.base}/m/?code=${code}`)
  await page.tap('[data-test=code-start]')
  await page.tap('[data-test=consent-accept]')
  await page.waitForSelector('[data-test=code-error]')
  assert.match(await page.textContent('[data-test=code-error]'), /测评已经结束/)
  await shot(page, 'h5-campaign-03-closed')
  await context.close()
})
