// The console's other screens, driven once each: an administrator's org
// units, staff accounts (one-time password shown once), audit log, monthly
// statistics with an activity entry and the instrument catalogue; then a
// school psychologist follows a screening's level-1 entry to the student's
// person record and its charts.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { startServer, launchBrowser, shot } from './harness.mjs'
import { signIn, axe, field, Client, NEW_PASSWORD, uploadRoster, finish } from './console-helpers.mjs'

let server, browser
before(async () => {
  server = await startServer()
  browser = await launchBrowser()
})
after(async () => {
  await browser?.close()
  await server?.stop()
})

async function choose(page, select, option) {
  await page.click(`[data-test=${select}]`)
  await page.click(`.el-select-dropdown__item:visible:has-text("${option}")`)
}

test('administrator: units, staff, audit, statistics, instruments', async () => {
  const ctx = await browser.newContext({ viewport: { width: 1440, height: 900 }, locale: 'zh-CN' })
  const page = await ctx.newPage()
  await signIn(page, server.base, 'demo-admin', server.accounts['demo-admin'])

  await page.goto(`${server.base}/console/admin/units`)
  await page.click('[data-test=unit-add-demo-street]')
  await page.fill(field('unit-id'), 'demo-community2')
  await page.fill(field('unit-name'), '示范二社区')
  await page.click('[data-test=unit-save]')
  await page.waitForSelector('[data-test=unit-demo-community2]')
  await shot(page, 'console-admin-units')
  await axe(page, 'units')

  await page.goto(`${server.base}/console/admin/staff`)
  await page.click('[data-test=staff-new]')
  await page.fill(field('st-login'), 'e2e-worker')
  await page.fill(field('st-name'), '社区工作者')
  await choose(page, 'st-unit', '示范二社区')
  await page.click('[data-test=st-create]')
  await page.waitForSelector('[data-test=otp]')
  const otp = (await page.textContent('[data-test=otp]')).trim()
  assert.ok(otp.length >= 8, `one-time password shown: ${otp}`)
  await shot(page, 'console-admin-staff-otp')
  await page.keyboard.press('Escape')
  await page.waitForSelector('[data-test=staff-table] :text("e2e-worker")')
  await axe(page, 'staff')
  // Disabling shows in the list, and only the action that applies is offered.
  await page.click('[data-test=staff-disable-e2e-worker]')
  await page.click('.el-message-box__btns .el-button--primary')
  await page.waitForSelector('[data-test=staff-state-e2e-worker]:has-text("已停用")')
  await page.waitForSelector('[data-test=staff-enable-e2e-worker]')
  assert.equal(await page.locator('[data-test=staff-disable-e2e-worker]').count(), 0)
  await page.reload()
  await page.waitForSelector('[data-test=staff-state-e2e-worker]:has-text("已停用")')

  await page.goto(`${server.base}/console/admin/audit`)
  await page.waitForSelector('[data-test=audit-table] .el-table__row')
  await shot(page, 'console-admin-audit')
  await axe(page, 'audit')

  await page.goto(`${server.base}/console/stats`)
  await page.waitForSelector('[data-test=stats-table] .el-table__row')
  await page.click('[data-test=activity-new]')
  await page.click('[data-test=act-type] label:has-text("讲座")')
  await page.fill('[data-test=act-reached] input', '30')
  await page.click('[data-test=act-save]')
  await page.waitForSelector('[data-test=activity-dialog]', { state: 'hidden' })
  // The total row counts the lecture and its 30 attendees.
  await page.waitForSelector('[data-test=stats-table] .total-row :text("30")')
  await shot(page, 'console-stats-activity')

  await page.goto(`${server.base}/console/instruments`)
  await page.waitForSelector('[data-test=instrument-table] .el-table__row')
  const catalogue = await (await fetch(`${server.base}/api/v1/instruments`)).json()
  assert.equal(await page.locator('[data-test=instrument-table] .el-table__row').count(), catalogue.instruments.length)
  await page.click('[data-test=preview-phq9]')
  await page.waitForSelector('iframe[src^="/m/preview/phq9"]')
  await shot(page, 'console-instruments-preview')
  await page.keyboard.press('Escape')
  await axe(page, 'instruments')

  // English, second: the switch relabels the console and the API texts.
  await page.click('[data-test=locale]')
  await page.waitForSelector('nav :text("Warning queue")')
  await page.goto(`${server.base}/console/stats`)
  await page.waitForSelector('h1:text("Monthly statistics")')
  await shot(page, 'console-en-stats')
  await page.click('[data-test=locale]')
  await page.waitForSelector('h1:text("月度统计")')
  await ctx.close()
})

test('school psychologist: a screening warning leads to the person record charts', async () => {
  const psych = new Client(server.base)
  await psych.login('demo-psych', server.accounts['demo-psych'])
  const now = Date.now()
  const { campaign } = await psych.call('POST', '/campaigns', {
    name: '图表', unit_id: 'demo-school', unit_ids: ['demo-class7-1'], battery: ['phq9', 'dass21'], mode: 'roster',
    starts_at: new Date(now - 60_000).toISOString(), ends_at: new Date(now + 86_400_000).toISOString(),
  })
  await uploadRoster(psych, 'demo-school', '学号,姓名,性别,出生年月,班级\n2026101,周小雨,女,2013-02,七年级一班\n')
  const { codes } = await psych.call('POST', `/campaigns/${campaign.id}/personal-codes`)
  await psych.call('POST', `/campaigns/${campaign.id}/activate`)

  // The student answers 1 everywhere: PHQ-9 item 9 = 1 raises level 1.
  await finish(server.base, codes[0].code, () => 1)

  const ctx = await browser.newContext({ viewport: { width: 1440, height: 900 }, locale: 'zh-CN' })
  const page = await ctx.newPage()
  // The password was already changed through the API.
  await page.goto(`${server.base}/console/login`)
  await page.fill(field('login-name'), 'demo-psych')
  await page.fill(field('login-password'), NEW_PASSWORD)
  await page.click('[data-test=login-submit]')
  await page.waitForURL(/\/console\/queue$/)
  await page.locator('[data-test=queue-table] .level-row-1').first().click()
  await page.click('[data-test=person-link]')
  await page.waitForSelector('[data-test=chart-phq9] svg')
  await page.waitForSelector('[data-test=chart-dass21] svg')
  await page.waitForTimeout(1200) // let the charts finish their entry animation
  await shot(page, 'console-person-record')
  await axe(page, 'person record')
  await ctx.close()
})

test('sign-in keeps the target route, and a teacher sees only campaigns', async () => {
  const ctx = await browser.newContext({ viewport: { width: 1440, height: 900 }, locale: 'zh-CN' })
  const page = await ctx.newPage()
  // Not signed in: the campaigns page sends to sign-in and back afterwards.
  await page.goto(`${server.base}/console/campaigns`)
  await page.waitForURL(/\/console\/login\?next=(%2F|\/)campaigns$/)
  await page.fill(field('login-name'), 'demo-teacher')
  await page.fill(field('login-password'), server.accounts['demo-teacher'])
  await page.click('[data-test=login-submit]')
  await page.waitForSelector('[data-test=change-password]')
  await page.fill(field('new-password'), NEW_PASSWORD)
  await page.fill(field('new-password-again'), NEW_PASSWORD)
  await page.click('[data-test=change-submit]')
  await page.waitForURL(/\/console\/campaigns$/)
  const nav = await page.$$eval('nav [role=menuitem]', (els) => els.map((e) => e.textContent.trim()))
  assert.deepEqual(nav, ['筛查活动', '量表目录'])
  // The queue is not theirs: the route sends them home.
  await page.goto(`${server.base}/console/queue`)
  await page.waitForURL(/\/console\/campaigns$/)
  await shot(page, 'console-teacher')

  // Signed out behind the page's back (the cookie is gone): the next API
  // call's 401 returns to sign-in, keeping the screen it was going to.
  await page.click('[data-test=nav-instruments-instruments]')
  await page.waitForURL(/\/console\/instruments$/)
  // The page's own calls must be answered first: the 401 under test is
  // the next screen's.
  await page.waitForSelector('[data-test=library-table] .el-table__row')
  await ctx.clearCookies()
  await page.click('[data-test=nav-campaigns-campaigns]')
  await page.waitForURL(/\/console\/login\?next=(%2F|\/)campaigns$/)
  await ctx.close()
})
