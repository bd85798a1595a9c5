// Journey: an administrator sets up the street station's on-duty schedule
// (值班表) with a signed webhook in the console, a resident's PHQ-9 raises
// a level-1 warning, the webhook stand-in receives a message with no
// personal data, the entry's history shows the delivery in the reader's
// words, and a refused delivery lands on the failed list and is sent
// again from there.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import { createHmac } from 'node:crypto'
import { startServer, launchBrowser, shot } from './harness.mjs'
import { signIn, axe, selfTest, field, Client, NEW_PASSWORD } from './console-helpers.mjs'

const SECRET = 'e2e-webhook-secret-0123456789'

// hook is the city platform's receiver: it checks the signature as
// docs/notifications.md asks and keeps every body, refusing the first
// `refuse` requests with a 400 (a permanent failure).
function startHook() {
  const received = []
  let refuse = 0
  const srv = createServer((req, res) => {
    let body = ''
    req.on('data', (c) => (body += c))
    req.on('end', () => {
      const ts = req.headers['x-xinling-timestamp']
      const want = 'v1=' + createHmac('sha256', SECRET).update(`${ts}.${body}`).digest('hex')
      const signed = String(req.headers['x-xinling-signature'] || '').split(',').map((s) => s.trim()).includes(want)
      received.push({ body, signed, key: req.headers['idempotency-key'] })
      if (refuse > 0) {
        refuse--
        res.writeHead(400).end('refused')
        return
      }
      res.writeHead(signed ? 204 : 401).end()
    })
  })
  return new Promise((resolve) =>
    srv.listen(0, '127.0.0.1', () =>
      resolve({ url: `http://127.0.0.1:${srv.address().port}/hooks/xinling`, received, refuseNext: (n) => (refuse = n), close: () => srv.close() }),
    ),
  )
}

let server, browser, hook
before(async () => {
  hook = await startHook()
  server = await startServer({ XINLING_SELF_TEST_UNIT: 'demo-station' })
  browser = await launchBrowser()
})
after(async () => {
  await browser?.close()
  await server?.stop()
  hook?.close()
})

async function waitFor(fn, what, ms = 10_000) {
  const deadline = Date.now() + ms
  while (!fn()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

test('an admin sets up the on-duty schedule, a level-1 warning reaches it, and a failure is sent again', async () => {
  const ctx = await browser.newContext({ viewport: { width: 1440, height: 1000 }, locale: 'zh-CN' })
  const page = await ctx.newPage()
  await signIn(page, server.base, 'demo-admin', server.accounts['demo-admin'])

  // 1. The station's settings: a webhook endpoint and one contact on it.
  await page.goto(`${server.base}/console/admin/notify?unit=demo-station`)
  await page.waitForSelector('[data-test=notify-inherited], [data-test=notify-save]')
  await page.click('[data-test=endpoint-webhook-on]')
  await page.fill(field('endpoint-webhook-address'), hook.url)
  await page.fill(field('endpoint-webhook-secret'), SECRET)
  await page.click('[data-test=contact-add]')
  await page.fill(field('contact-0-name'), '市平台')
  await page.click('[data-test=contact-0-channel]')
  await page.click('.el-select-dropdown__item:visible >> text=对接接口（Webhook）')
  // On a loaded machine the choice can land after the next click: wait
  // until the select shows it.
  await page.waitForFunction(() => document.querySelector('[data-test=contact-0-channel]')?.textContent.includes('对接接口（Webhook）'))
  await page.click('[data-test=contact-0-always]')
  await page.click('[data-test=notify-save]')
  // Saved, or refused: a refusal fails with the page's own words.
  await page.locator('text=通知设置已保存').or(page.locator('.el-alert--error, .el-form-item__error')).first().waitFor({ timeout: 60_000 })
  const refused = await page.locator('.el-alert--error, .el-form-item__error').allInnerTexts()
  assert.deepEqual(refused, [], 'the settings were refused')
  // Saved, the secret is never shown again: the fields are empty, marked set.
  assert.equal(await page.inputValue(field('endpoint-webhook-secret')), '')
  assert.match(await page.getAttribute(field('endpoint-webhook-secret'), 'placeholder'), /已设置/)
  assert.ok(!(await page.content()).includes(SECRET), 'the page holds the secret')
  await shot(page, 'console-notify-settings')
  await axe(page, 'notify settings')

  // A test message reaches the platform now.
  await page.click('[data-test=contact-0-test]')
  await page.waitForSelector('text=测试消息已发出')
  await waitFor(() => hook.received.length === 1, 'the test message')
  assert.equal(JSON.parse(hook.received[0].body).kind, 'test')

  // 2. A resident's level-1 warning: the first delivery is refused.
  hook.refuseNext(1)
  const res = await selfTest(server.base, [1, 1, 1, 1, 1, 1, 1, 1, 2])
  assert.ok(res.crisis)
  await waitFor(() => hook.received.length === 2, 'the level-1 message')
  const sent = JSON.parse(hook.received[1].body)
  assert.equal(sent.kind, 'warning_new')
  assert.equal(sent.level, 1)
  assert.equal(sent.unit, '示范街道心灵驿站')
  assert.ok(hook.received[1].signed, 'the message is signed')
  assert.deepEqual(Object.keys(sent).sort(), ['at', 'due_at', 'idempotency_key', 'kind', 'level', 'link', 'locale', 'unit'])
  const entry = sent.link.split('/').pop()

  // 3. The failed list shows it; the admin sends it again.
  await page.goto(`${server.base}/console/admin/notifications`)
  const retry = page.locator('[data-test=dead-letters] button[data-test^=retry-]')
  await retry.first().waitFor()
  await page.waitForSelector('text=对方拒绝')
  await shot(page, 'console-dead-letters')
  await axe(page, 'dead letters')
  await retry.first().click()
  await page.waitForSelector('text=已重新排入发送队列')
  await waitFor(() => hook.received.length === 3, 'the message sent again')
  assert.equal(hook.received[2].key, hook.received[1].key, 'the same idempotency key')

  // 4. The entry's history, in words: planned, refused, sent again, delivered.
  await page.goto(`${server.base}/console/queue/${entry}`)
  await page.waitForSelector('[data-test=history-notify_sent]')
  const history = await page.textContent('.el-timeline')
  assert.match(history, /已通知 1 位当班人员/)
  assert.match(history, /通过对接接口（Webhook）通知 市平台 失败，已放弃/)
  assert.match(history, /管理员已重新发送给 市平台/)
  assert.match(history, /已通过对接接口（Webhook）通知 市平台/)
  assert.doesNotMatch(history, /notify_|nobody_on_duty|permanent/)
  await shot(page, 'console-entry-notifications')

  // And in English.
  await page.click('[data-test=locale]')
  await page.waitForFunction(() => /Told 市平台 by Webhook/.test(document.querySelector('.el-timeline')?.textContent || ''))

  // 5. Nothing the platform received names the resident or the answers.
  const admin = new Client(server.base)
  await admin.login('demo-admin', NEW_PASSWORD)
  const detail = await admin.call('GET', `/warnings/${entry}`)
  const all = hook.received.map((r) => r.body).join('\n')
  for (const a of detail.answers) assert.ok(!all.includes(a.text), `the platform received an item's text: ${a.text}`)
  assert.ok(!all.includes(detail.warning.session_id), 'the platform received the session id')
  await ctx.close()
})
