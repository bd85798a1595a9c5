// Journey: the group report of a small screening (issue 17). Through the
// API a school psychologist runs a screening of class 七年级一班 (PHQ-9 and
// ASQ) with six pupils: four finish, one of them with a severe PHQ-9 and an
// acute ASQ; two never start. In the console the psychologist opens the
// report (participation, levels, bands, class × level, comparisons, norms,
// suicide items), the focus list and the non-participants, and writes why
// one pupil took no part; the class teacher sees the same report with
// small counts withheld and no appendices. Screenshots at 1440×900.
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

// The raw ids and codes of the battery that no label may show.
const RAW = /\b(phq9|asq|minimal|mild|moderately_severe|severe|negative|positive|acute|item9|total|l1|l2|l3)\b/

const FULL_NAMES = /陈一鸣|林小雨|周子涵|吴浩然|郑晓彤|黄俊杰/

async function setUpScreening() {
  const c = new Client(server.base)
  await c.login('demo-psych', server.accounts['demo-psych'])
  const now = new Date()
  const cp = (await c.call('POST', '/campaigns', {
    // Run for the class itself, so that its teacher can open the campaign
    // in the console (a teacher's campaign list is their own subtree).
    name: '七年级一班心理普测（报告演示）', unit_id: 'demo-class7-1', unit_ids: ['demo-class7-1'], battery: ['phq9', 'asq'], mode: 'roster', visibility: 'thanks',
    starts_at: now.toISOString(), ends_at: new Date(now.getTime() + 7 * 864e5).toISOString(),
  })).campaign
  await uploadRoster(c, 'demo-school', '学号,姓名,性别,出生年月,班级\n' +
    'R7001,陈一鸣,男,2013-02,七年级一班\nR7002,林小雨,女,2013-05,七年级一班\nR7003,周子涵,女,2013-08,七年级一班\n' +
    'R7004,吴浩然,男,2013-03,七年级一班\nR7005,郑晓彤,女,2013-11,七年级一班\nR7006,黄俊杰,男,2013-06,七年级一班\n')
  const codes = (await c.call('POST', `/campaigns/${cp.id}/personal-codes`)).codes
  await c.call('POST', `/campaigns/${cp.id}/activate`)
  assert.ok(codes.length >= 6, `${codes.length} codes`)
  // Four finish: three with few symptoms, one with a severe PHQ-9 and a
  // yes to ASQ items 1 and 5 (acute); the rest never start.
  const low = (item) => (item === 'phq9.q2' ? 1 : 0)
  const severe = (item) => (item.startsWith('phq9.') ? (item === 'phq9.q9' ? 0 : 3) : item === 'asq.q1' || item === 'asq.q5' ? 1 : 0)
  await finish(server.base, codes[0].code, severe)
  for (const code of codes.slice(1, 4)) await finish(server.base, code.code, low)
  return { cp, absent: codes.slice(4).map((x) => x.person_id) }
}

test('the group report of a screening, for the psychologist and for the class teacher', async () => {
  const { cp, absent } = await setUpScreening()
  const ctx = await browser.newContext({ viewport: { width: 1440, height: 900 }, locale: 'zh-CN' })
  const page = await ctx.newPage()
  // The API client above already replaced the one-time password.
  await signIn(page, server.base, 'demo-psych', NEW_PASSWORD)
  await page.goto(`${server.base}/console/campaigns/${cp.id}?tab=report`)
  await page.waitForSelector('[data-test=gr-participation]')

  // Participation and levels.
  assert.equal((await page.textContent('[data-test=gr-finished]')).trim(), '4')
  assert.equal((await page.textContent('[data-test=gr-started]')).trim(), '4')
  assert.equal((await page.textContent('[data-test=gr-valid]')).trim(), '4')
  assert.ok(Number((await page.textContent('[data-test=gr-roster]')).trim()) >= 6)
  await page.waitForSelector('[data-test=gr-level-chart] svg')
  await page.waitForSelector('[data-test=gr-inst-phq9]')
  assert.match(await page.textContent('[data-test=gr-inst-phq9] h2'), /PHQ-9/)
  assert.match(await page.textContent('[data-test=gr-suicide-asq]'), /^1（25\.0%）$/)
  assert.match(await page.textContent('[data-test=gr-suicide-phq9]'), /^0/)
  const summary = await page.textContent('[data-test=group-report]')
  assert.doesNotMatch(summary, RAW, 'a raw id or code shows on the report')
  await shot(page, 'group-report-summary')
  await axe(page, 'group report')

  // The class × level table, grade and sex comparisons.
  await page.click('#tab-groups')
  await page.waitForSelector('[data-test=gr-classes] .el-table__row')
  assert.equal((await page.textContent('[data-test=gr-class-demo-class7-1-l1]')).trim(), '1')
  await page.waitForSelector('[data-test=gr-sex-chart] svg')
  assert.doesNotMatch(await page.textContent('[data-test=group-report]'), RAW)
  await shot(page, 'group-report-groups')

  // Norms: none of PHQ-9 and ASQ has norms, and the page says so.
  await page.click('#tab-norms')
  await page.waitForSelector('[data-test=gr-norms]')
  assert.match(await page.textContent('[data-test=gr-norms]'), /没有常模/)

  // The focus list: masked name, level, state, a link to the entry.
  await page.click('#tab-focus')
  await page.waitForSelector('[data-test=gr-focus] .el-table__row')
  const focus = await page.textContent('[data-test=gr-focus] .el-table__row')
  assert.match(focus, /\p{Script=Han}\*\*/u, 'a masked name')
  assert.match(focus, /一级预警/)
  assert.doesNotMatch(focus, FULL_NAMES)
  await shot(page, 'group-report-focus')

  // Non-participants, with the reason written in place.
  await page.click('#tab-absent')
  await page.waitForSelector('[data-test=gr-absent] .el-table__row')
  await page.fill(field(`gr-reason-${absent[0]}`), '病假')
  await page.click(`[data-test=gr-reason-save-${absent[0]}]`)
  await page.waitForSelector('.el-message--success')
  await shot(page, 'group-report-absent')
  await page.reload()
  await page.waitForSelector('[data-test=gr-participation]')
  await page.click('#tab-absent')
  await page.waitForSelector(`[data-test=gr-reason-${absent[0]}]`)
  assert.equal(await page.inputValue(field(`gr-reason-${absent[0]}`)), '病假')

  await ctx.close()

  // The class teacher: counts under 5 withheld, no appendix tabs.
  const tctx = await browser.newContext({ viewport: { width: 1440, height: 900 }, locale: 'zh-CN' })
  const tpage = await tctx.newPage()
  await signIn(tpage, server.base, 'demo-teacher', server.accounts['demo-teacher'])
  await tpage.goto(`${server.base}/console/campaigns/${cp.id}?tab=report`)
  await tpage.waitForSelector('[data-test=gr-participation]')
  await tpage.waitForSelector('[data-test=gr-suppressed]')
  assert.equal(await tpage.$('#tab-focus'), null, 'a teacher sees the focus list tab')
  assert.equal(await tpage.$('#tab-absent'), null, 'a teacher sees the non-participants tab')
  assert.match(await tpage.textContent('[data-test=gr-suicide-asq]'), /^—/)
  const text = await tpage.textContent('[data-test=group-report]')
  assert.doesNotMatch(text, FULL_NAMES)
  assert.doesNotMatch(text, /\p{Script=Han}\*\*/u)
  await shot(tpage, 'group-report-teacher')
  await tctx.close()
})
