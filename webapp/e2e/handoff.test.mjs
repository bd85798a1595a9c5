// Journey: the warm hand-off. A resident answers PHQ-9 with item 9
// positive and, on the crisis screen, asks a counsellor to call back; the
// station's counsellor claims the entry and sees the preferred time and the
// number, and records the call. The station publishes a consultation time,
// the resident books it from the result page, and the station sees the
// booking with the number. All along, the station's on-duty WeCom group (a
// stand-in for qyapi.weixin.qq.com) is told of the level-1 entry and of the
// call-back request, and nothing it receives names the resident, the
// number, the note, an answer or a score.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import { startServer, launchBrowser, shot } from './harness.mjs'
import { phone, assertAccessible, tapOption, item } from './h5.mjs'
import { signIn, axe, field, Client } from './console-helpers.mjs'

const ROBOT_KEY = 'e2e-station-duty-group-key'

// startWeCom stands in for WeCom's group-robot endpoint: it keeps every
// request and answers as WeCom does, errcode 0 for the station's key.
function startWeCom() {
  const received = []
  const srv = createServer((req, res) => {
    let body = ''
    req.on('data', (c) => (body += c))
    req.on('end', () => {
      const url = new URL(req.url, 'http://stand-in')
      received.push({ method: req.method, key: url.searchParams.get('key'), body })
      const ok = url.searchParams.get('key') === ROBOT_KEY
      res.writeHead(200, { 'Content-Type': 'application/json' })
      res.end(JSON.stringify(ok ? { errcode: 0, errmsg: 'ok' } : { errcode: 93000, errmsg: 'invalid webhook url' }))
    })
  })
  return new Promise((resolve) =>
    srv.listen(0, '127.0.0.1', () =>
      resolve({ url: `http://127.0.0.1:${srv.address().port}/cgi-bin/webhook/send`, received, close: () => srv.close() }),
    ),
  )
}

async function waitFor(fn, what, ms = 15_000) {
  const deadline = Date.now() + ms
  while (!fn()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

let server, browser, wecom
before(async () => {
  wecom = await startWeCom()
  // Anonymous self-tests file their warnings at the station.
  server = await startServer({ XINLING_SELF_TEST_UNIT: 'demo-station', XINLING_NOTIFY_WECOM_URL: wecom.url })
  browser = await launchBrowser()
})
after(async () => {
  await browser?.close()
  await server?.stop()
  wecom?.close()
})

const pad = (n) => String(n).padStart(2, '0')

test('call-back from the crisis screen, then a booking the station sees', async () => {
  // 0. The station's on-duty schedule: its WeCom duty group, at any hour.
  const admin = new Client(server.base)
  await admin.login('demo-admin', server.accounts['demo-admin'])
  await admin.call('PUT', '/units/demo-station/notify-settings', {
    version: 0,
    endpoints: [{ channel: 'wecom', address: ROBOT_KEY }],
    contacts: [{ id: 'duty-group', name: '驿站值班群', channel: 'wecom', locale: 'zh-CN', always: true }],
  })

  // 1. The resident: PHQ-9, item 9 "several days", the crisis screen.
  const { context, page } = await phone(browser)
  await page.goto(`${server.base}/m/consent?instrument=phq9`)
  await page.tap('[data-test=consent-accept]')
  await page.waitForSelector(item('phq9.q1'))
  for (let n = 1; n <= 8; n++) await tapOption(page, 1, item(`phq9.q${n + 1}`))
  await tapOption(page, 1, '[data-test=submit]')
  await page.tap('[data-test=submit]')
  await page.waitForSelector('[data-test=crisis]')
  await page.waitForSelector('[data-test=callback]')
  assert.match(await page.textContent('[data-test=callback]'), /请心理咨询师联系我/)
  assert.match(await page.textContent('[data-test=callback]'), /我同意心理咨询师使用这个电话号码与我联系/)
  await assertAccessible(page, 'crisis screen with the call-back form')

  // A wrong number is refused on the phone, before anything is sent.
  await page.fill('[data-test=callback-phone]', '12345')
  await page.tap('[data-test=callback-submit]')
  await page.waitForSelector('.xl-error')
  await page.fill('[data-test=callback-phone]', '138 0013 8000')
  await page.tap('[data-test=callback-time-tomorrowAfternoon]')
  await page.fill('[data-test=callback-note]', '下午三点以后方便接电话')
  await page.tap('[data-test=callback-consent]')
  await shot(page, 'handoff-01-callback-form')
  await page.tap('[data-test=callback-submit]')
  await page.waitForSelector('[data-test=callback-done]')
  const done = await page.textContent('[data-test=callback-done]')
  assert.match(done, /138\*\*\*\*8000/)
  assert.match(done, /明天下午/)
  await shot(page, 'handoff-02-callback-sent')
  await assertAccessible(page, 'call-back sent')

  // The duty group heard of the level-1 entry and of the call-back request,
  // in words, with a link to the console entry and nothing personal.
  const texts = () => wecom.received.map((r) => JSON.parse(r.body).text?.content || '')
  await waitFor(() => texts().some((t) => /一级预警/.test(t)) && texts().some((t) => /回访请求/.test(t)), 'the duty group to be told twice')
  for (const r of wecom.received) {
    assert.equal(r.method, 'POST')
    assert.equal(r.key, ROBOT_KEY)
    assert.equal(JSON.parse(r.body).msgtype, 'text')
  }
  const told = texts().join('\n')
  assert.match(told, /示范街道心灵驿站/)
  const link = told.match(/https?:\/\/\S+\/console\/queue\/(\S+)/)
  assert.ok(link, `no console link in: ${told}`)
  for (const secret of ['13800138000', '138 0013 8000', '138****8000', '下午三点', 'phq9', 'PHQ-9', '得分']) {
    assert.ok(!told.includes(secret), `the duty group was told ${JSON.stringify(secret)}: ${told}`)
  }

  // 2. The counsellor follows the duty group's link, claims the entry and
  // sees 回电请求 with the time.
  const ctx = await browser.newContext({ viewport: { width: 1440, height: 900 }, locale: 'zh-CN' })
  const desk = await ctx.newPage()
  await signIn(desk, server.base, 'demo-station', server.accounts['demo-station'])
  await desk.waitForURL(/\/console\/queue$/)
  const tag = desk.locator('[data-test^=callback-tag-]')
  await tag.first().waitFor()
  assert.match(await tag.first().textContent(), /回电请求 · .*14:00–18:00/)
  await shot(desk, 'handoff-03-queue-callback')
  await desk.goto(link[0])
  await desk.waitForSelector('[data-test=entry-summary]')
  await desk.click('[data-test=claim]')
  await desk.waitForSelector('[data-test=entry-state]:has-text("已认领")')
  await desk.waitForSelector('[data-test=callbacks]')
  assert.match(await desk.textContent('[data-test=callback-preferred]'), /希望来电时间：.*14:00–18:00/)
  assert.equal(await desk.textContent('[data-test=callback-phone]'), '13800138000')
  assert.match(await desk.textContent('[data-test=callbacks]'), /下午三点以后方便接电话/)
  assert.match(await desk.textContent('[data-test=callback-state]'), /待回电/)
  await shot(desk, 'handoff-04-entry-callback')
  await axe(desk, 'entry with a call-back request')
  await desk.click('[data-test^=callback-called-]')
  await desk.waitForSelector('[data-test=callback-state]:has-text("已回电")')

  // 3. The station publishes a consultation time tomorrow at 10:00.
  await desk.goto(`${server.base}/console/bookings`)
  await desk.waitForSelector('[data-test=bookings-table]')
  await desk.click('.el-tabs__item:has-text("咨询时段")')
  const t = new Date(Date.now() + 24 * 3600e3)
  const start = `${t.getFullYear()}-${pad(t.getMonth() + 1)}-${pad(t.getDate())} 10:00`
  await desk.fill('#slot-start', start)
  await desk.press('#slot-start', 'Enter')
  await desk.fill(field('slot-location'), '驿站二楼咨询室')
  await desk.click('[data-test=slot-publish]')
  await desk.waitForSelector('[data-test^=slot-booked-]')
  assert.match(await desk.textContent('[data-test=slots-table]'), /已约 0 \/ 1/)
  assert.match(await desk.textContent('[data-test=slots-table]'), /10:00–10:50/)
  await shot(desk, 'handoff-05-slot-published')
  await axe(desk, 'consultation times')

  // 4. The resident books it from the result page.
  await page.tap('[data-test=crisis-leave]')
  await page.waitForSelector('[data-test=done]')
  assert.ok(await page.locator('[data-test=callback-done]').isVisible(), 'the result page shows the request already made')
  await page.tap('[data-test=book-from-result]')
  await page.waitForSelector('[data-test=book-unit-demo-station]')
  assert.match(await page.textContent('[data-test=book-unit-demo-station]'), /示范街道心灵驿站/)
  await shot(page, 'handoff-06-book-units')
  await assertAccessible(page, 'booking: units')
  await page.tap('[data-test=book-unit-demo-station]')
  const slotButton = page.locator('[data-test^=book-slot-]')
  await slotButton.first().waitFor()
  assert.match(await slotButton.first().textContent(), /10:00–10:50/)
  assert.match(await slotButton.first().textContent(), /驿站二楼咨询室/)
  await slotButton.first().tap()
  await page.fill('[data-test=book-phone]', '13900139000')
  await page.tap('[data-test=book-consent]')
  await shot(page, 'handoff-07-book-form')
  await assertAccessible(page, 'booking: form')
  await page.tap('[data-test=book-submit]')
  await page.waitForSelector('[data-test=book-done]')
  assert.match(await page.textContent('[data-test=book-done]'), /预约成功[\s\S]*示范街道心灵驿站/)
  await shot(page, 'handoff-08-booked')

  // 5. The station sees the booking, with the number and where it came from.
  await desk.click('.el-tabs__item:has-text("预约名单")')
  await desk.reload()
  await desk.waitForSelector('[data-test=booking-phone]')
  assert.equal(await desk.textContent('[data-test=booking-phone]'), '13900139000')
  assert.match(await desk.textContent('[data-test=bookings-table]'), /已预约[\s\S]*来自测评结果/)
  assert.match(await desk.textContent('[data-test=slots-table]'), /已约 1 \/ 1/)
  await shot(desk, 'handoff-09-station-bookings')
  await axe(desk, 'bookings')

  // The slot is full now: the public list no longer offers it.
  const units = await (await fetch(`${server.base}/api/v1/booking/units`)).json()
  assert.deepEqual(units.units, [])
  // Another station's counsellor would see none of it; the county centre,
  // above the station, sees it.
  const county = new Client(server.base)
  await county.login('demo-centre', server.accounts['demo-centre'])
  const seen = await county.call('GET', '/bookings')
  assert.equal(seen.bookings.length, 1)
  await ctx.close()
  await context.close()
})
