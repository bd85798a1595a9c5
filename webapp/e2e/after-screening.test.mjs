// Journey: after the screening (issue 17). A pupil of a roster screening
// answers PHQ-9 with item 9 positive (a level-1 warning) and the SDS with
// one option throughout (straight-lining: an invalid result). The school
// psychologist opens the pupil from the queue, sees the whole path on one
// timeline in Chinese words (no raw score or band id), records a case
// conference that appears on it, and issues the pupil a retake code for
// the invalid result once the cooling-off time (shortened here) has passed.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { startServer, launchBrowser, shot } from './harness.mjs'
import { axe, field, Client, NEW_PASSWORD, uploadRoster, finish } from './console-helpers.mjs'

let server, browser
before(async () => {
  server = await startServer({ XINLING_RETAKE_COOLING_OFF: '1s' })
  browser = await launchBrowser()
})
after(async () => {
  await browser?.close()
  await server?.stop()
})

test('a flagged pupil: timeline, a case conference, a retake', async () => {
  const psych = new Client(server.base)
  await psych.login('demo-psych', server.accounts['demo-psych'])
  const now = Date.now()
  const { campaign } = await psych.call('POST', '/campaigns', {
    name: '期中心理筛查', unit_id: 'demo-school', unit_ids: ['demo-class7-1'], battery: ['phq9', 'sds'], mode: 'roster',
    starts_at: new Date(now - 60_000).toISOString(), ends_at: new Date(now + 86_400_000).toISOString(),
  })
  await uploadRoster(psych, 'demo-school', '学号,姓名,性别,出生年月,班级\n2026201,林小舟,男,2013-05,七年级一班\n')
  const { codes } = await psych.call('POST', `/campaigns/${campaign.id}/personal-codes`)
  await psych.call('POST', `/campaigns/${campaign.id}/activate`)

  // The pupil answers 1 everywhere.
  await finish(server.base, codes[0].code, () => 1)
  await new Promise((r) => setTimeout(r, 1100)) // the cooling-off time

  const ctx = await browser.newContext({ viewport: { width: 1440, height: 900 }, locale: 'zh-CN' })
  const page = await ctx.newPage()
  await page.goto(`${server.base}/console/login`)
  await page.fill(field('login-name'), 'demo-psych')
  await page.fill(field('login-password'), NEW_PASSWORD)
  await page.click('[data-test=login-submit]')
  await page.waitForURL(/\/console\/queue$/)
  await page.locator('[data-test=queue-table] .level-row-1').first().click()
  await page.click('[data-test=person-link]')
  await page.waitForSelector('[data-test=person-timeline]')

  // The path so far: two results (the SDS marked invalid) and the entry.
  const kinds = () => page.$$eval('[data-test=timeline-item]', (els) => els.map((e) => e.dataset.kind))
  assert.deepEqual((await kinds()).sort(), ['result', 'result', 'warning'])
  await page.waitForSelector('[data-test=result-invalid]')
  const text = await page.locator('[data-test=person-timeline]').innerText()
  for (const raw of ['total', 'phq9', 'sds', 'minimal', 'mild', 'straight_line']) {
    assert.ok(!new RegExp(`\\b${raw}\\b`).test(text), `the timeline shows the raw code ${raw}: ${text}`)
  }

  // A case conference: it appears on the timeline.
  await page.click('[data-test=meeting-new-conference]')
  await page.fill(field('meeting-attendees'), '班主任、心理老师、分管校长')
  await page.fill(field('meeting-agreed'), '本周内约谈家长')
  await page.click('[data-test=meeting-save]')
  await page.waitForSelector('[data-test=timeline-item][data-kind=conference]')
  assert.match(await page.locator('[data-test=timeline-item][data-kind=conference]').innerText(), /个案研判.*持续关注/s)

  // A retake for the invalid result: a new code, on the timeline.
  await page.click('[data-test^=retake-]')
  await page.waitForSelector('[data-test=after-message]')
  const message = await page.locator('[data-test=after-message]').innerText()
  const code = message.match(/[2-9A-HJKMNP-Z]{8}/)?.[0]
  assert.ok(code, `no retake code in ${message}`)
  await page.waitForSelector('[data-test=timeline-item][data-kind=retake]')
  await shot(page, 'console-person-after-screening')
  await axe(page, 'person record after the screening')

  // The code opens the same screening for the pupil.
  const again = await new Client(server.base).call('POST', '/sessions', { code, consent: true })
  assert.ok(again.token)
  await ctx.close()
})
