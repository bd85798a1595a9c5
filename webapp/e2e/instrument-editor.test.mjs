// A school psychologist authors an instrument in the console: copies a
// built-in, sees a broken expression marked at its line, fixes it, checks
// the worked examples and publishes; a student completes it from a class
// code; a corrected version is published, a dry-run rescore shows the new
// warning, applying it puts the warning in the queue.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { startServer, launchBrowser, shot } from './harness.mjs'
import { signIn, axe, Client, NEW_PASSWORD } from './console-helpers.mjs'
import { phone, tapOption, item } from './h5.mjs'

let server, browser
before(async () => {
  server = await startServer()
  browser = await launchBrowser()
  // An administrator grants the psychologist the editing permission.
  const admin = new Client(server.base)
  await admin.login('demo-admin', server.accounts['demo-admin'])
  const staff = (await admin.call('GET', '/staff?limit=100')).staff
  const psych = staff.find((s) => s.login === 'demo-psych')
  await admin.call('PUT', `/staff/${psych.id}/permissions`, { permissions: ['edit_instruments'] })
})
after(async () => {
  await browser?.close()
  await server?.stop()
})

// replaceText puts text into the CodeMirror editor as one paste would.
async function replaceText(page, text) {
  await page.click('.cm-content')
  await page.keyboard.press('Control+A')
  await page.keyboard.press('Delete')
  await page.keyboard.insertText(text)
}


test('author, check, publish, screen, correct and rescore an instrument', async () => {
  const ctx = await browser.newContext({ viewport: { width: 1440, height: 900 }, locale: 'zh-CN' })
  const page = await ctx.newPage()
  await signIn(page, server.base, 'demo-psych', server.accounts['demo-psych'])
  const psych = new Client(server.base)
  await psych.login('demo-psych', NEW_PASSWORD)
  // CodeMirror renders only the lines in view, so the test computes the
  // texts it types from the built-in's source.
  const builtin = (await psych.call('GET', '/custom-instruments/builtin/gad7')).instrument.source

  // 1. Start from a copy of the built-in GAD-7 and break an expression.
  await page.goto(`${server.base}/console/instruments`)
  await page.click('[data-test="library-copy-gad7-1.1.0"]')
  await page.waitForSelector('[data-test=editor-identity]:has-text("gad7_copy 1.0.0")', { timeout: 15_000 })
  await page.waitForSelector('[data-test=editor-ok]', { timeout: 15_000 })
  const mine = builtin.replace(/^id: .*$/m, 'id: school_gad7').replace(/^version: .*$/m, 'version: 1.0.0')
  const broken = mine.replace('expr: sum(items)', 'expr: sum(itemz)')
  const line = broken.split('\n').findIndex((l) => l.includes('sum(itemz)')) + 1
  const col = broken.split('\n')[line - 1].indexOf('itemz') + 1
  await replaceText(page, broken)
  const row = `[data-test=problem-row]:has-text("${line}:${col}")`
  await page.waitForSelector(row, { timeout: 15_000 })
  // Clicking the problem brings its line into view, where it is marked.
  await page.click(`${row} button`)
  await page.waitForSelector('.cm-lintRange-error')
  assert.equal(await page.textContent('.cm-activeLine'), broken.split('\n')[line - 1])
  assert.ok(await page.$('.cm-lint-marker-error'), 'the gutter marks the line')
  await shot(page, 'editor-01-marker-at-line')

  // 2. Fix it, see every example pass, publish.
  await replaceText(page, mine)
  await page.waitForSelector('[data-test=editor-ok]', { timeout: 15_000 })
  await page.click('.el-tabs__item:has-text("示例")')
  await page.waitForSelector('[data-test=vector-pass]')
  assert.equal(await page.locator('[data-test=vector-fail]').count(), 0)
  assert.ok((await page.locator('[data-test=vector-pass]').count()) >= 10)
  await shot(page, 'editor-02-vectors-pass')
  await axe(page, 'instrument editor')
  await page.click('[data-test=publish]')
  await page.waitForSelector('[data-test=editor-state]:has-text("已发布")')

  // 3. A campaign uses it; a student completes it from the class code.
  const now = Date.now()
  const cp = (await psych.call('POST', '/campaigns', {
    name: '自编焦虑筛查', unit_id: 'demo-school', unit_ids: ['demo-class7-1'], battery: ['school_gad7'], mode: 'open', visibility: 'thanks',
    starts_at: new Date(now - 3600_000).toISOString(), ends_at: new Date(now + 86400_000).toISOString(),
  })).campaign
  await psych.call('POST', `/campaigns/${cp.id}/activate`)
  const code = (await psych.call('POST', `/campaigns/${cp.id}/class-codes`)).codes[0].code
  const student = await phone(browser)
  await student.page.goto(`${server.base}/m/?code=${code}`)
  await student.page.tap('[data-test=code-start]')
  await student.page.tap('[data-test=consent-accept]')
  await student.page.waitForSelector(item('school_gad7.q1'))
  const answers = [2, 0, 0, 0, 0, 0, 0] // total 2: no warning under 1.0.0
  for (let n = 1; n <= 7; n++) await tapOption(student.page, answers[n - 1], n < 7 ? item(`school_gad7.q${n + 1}`) : '[data-test=submit]')
  await student.page.tap('[data-test=submit]')
  await student.page.waitForSelector('[data-test=done]')
  await student.context.close()

  // 4. A corrected version adds the rule the school's protocol asked for;
  // a dry run finds the one result it now flags, and applying it queues it.
  await page.click('[data-test=next-version]')
  await page.waitForSelector('[data-test=editor-state]:has-text("未保存")')
  await page.waitForSelector('[data-test=editor-identity]:has-text("1.0.1")', { timeout: 15_000 })
  const next = mine.replace(/^version: .*$/m, 'version: 1.0.1')
  const corrected = next.replace(
    '\n  statistics:\n',
    `\n  warnings:\n    - id: worry_alone\n      level: 3\n      when: q1 >= 2 && q2 == 0\n      reason: {zh-CN: 经常紧张但不担忧，按学校方案需复核, en: Often nervous but not worried; review per the school protocol}\n  statistics:\n`,
  )
  assert.notEqual(corrected, next)
  await replaceText(page, corrected)
  await page.waitForSelector('[data-test=editor-ok]', { timeout: 15_000 })
  await page.click('[data-test=publish]')
  await page.waitForSelector('[data-test=editor-state]:has-text("已发布")')
  await page.click('.el-tabs__item:has-text("版本比较")')
  await page.click('[data-test=diff-select]')
  await page.click('.el-select-dropdown__item:visible:has-text("1.0.0")')
  await page.waitForSelector('.cm-mergeView .cm-changedLine')
  await shot(page, 'editor-03-diff')
  await page.keyboard.press('Escape')
  await page.click('.el-tabs__item:has-text("重新计分")')
  await page.click('[data-test=rescore-dry]')
  await page.waitForSelector('[data-test=rescore-raised]:has-text("1")')
  await shot(page, 'editor-04-rescore-dry-run')
  await page.click('[data-test=rescore-apply]')
  await page.waitForSelector('.el-message--success')
  await page.goto(`${server.base}/console/queue`)
  await page.waitForSelector('text=经常紧张但不担忧', { timeout: 15_000 })
  await shot(page, 'editor-05-queue')
  await ctx.close()
})
