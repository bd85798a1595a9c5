// Journey (issue 17): the first look a newcomer gets from `make run`. The
// school psychologist of the seeded 示范中学 opens its screening's group
// report (PHQ-9, GAD-7 and PSS-10, sat last week, still open for make-up
// sittings), downloads it as a PDF (read back with pdftotext), prints the
// class's individual reports, follows a focus-list pupil to their record,
// finds the seeded case conference on the whole path and records another
// one, opens a straight-lining pupil from the invalid appendix and issues
// them a retake code, then makes the focus list's follow-up screening.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startServer, launchBrowser, shot } from './harness.mjs'
import { signIn, axe, field } from './console-helpers.mjs'

let server, browser
before(async () => {
  server = await startServer({}, { demoArgs: ['--school'] })
  browser = await launchBrowser()
})
after(async () => {
  await browser?.close()
  await server?.stop()
})

// download clicks a link and returns the downloaded file's bytes.
async function download(page, selector) {
  const [file] = await Promise.all([page.waitForEvent('download'), page.click(selector)])
  const path = join(mkdtempSync(join(tmpdir(), 'xinling-pdf-')), file.suggestedFilename())
  await file.saveAs(path)
  return path
}

const pdfText = (path) => execFileSync('pdftotext', ['-enc', 'UTF-8', path, '-'], { encoding: 'utf8' }).replace(/\s+/g, '')

test('the seeded school: group report, PDFs, a focus-list pupil and a case conference', async () => {
  const ctx = await browser.newContext({ viewport: { width: 1440, height: 900 }, locale: 'zh-CN', acceptDownloads: true })
  const page = await ctx.newPage()
  await signIn(page, server.base, 'demo-psych', server.accounts['demo-psych'])
  await page.goto(`${server.base}/console/campaigns`)
  await page.click('[data-test=campaign-table] a:has-text("心理健康普测")')
  await page.click('.el-tabs__item:has-text("报告")')
  await page.waitForSelector('[data-test=gr-level-chart] svg')
  await page.waitForTimeout(800) // the charts' entry animation
  await shot(page, 'seeded-school-01-report')
  await axe(page, 'the seeded school report')

  // The group report as a PDF, in words, with its appendices.
  const group = pdfText(await download(page, '[data-test=gr-pdf]'))
  for (const want of ['心理健康测评团体报告', '参与情况', '预警等级', '各量表结果', '知觉压力量表', '自杀相关条目', '附录一重点关注名单', '附录二无效作答', '附录三未参加名单']) {
    assert.ok(group.includes(want), `the group PDF lacks ${want}`)
  }
  // The invalid appendix lists the straight-liners' PSS-10 sittings, with
  // the document's words for the check that failed.
  const appendix2 = group.slice(group.indexOf('附录二无效作答'), group.indexOf('附录三未参加名单'))
  assert.ok((appendix2.match(/所有题目选择了同一个选项/g) || []).length >= 3, `the invalid appendix lists no pupils: ${appendix2.slice(0, 300)}`)
  // The school's individual reports, one per pupil who took part.
  const individual = pdfText(await download(page, '[data-test=gr-individual-pdf]'))
  assert.ok((individual.match(/学校下一步/g) || []).length > 500, 'not one individual report per pupil')

  // A focus-list pupil's record: the whole path, with the seeded conference.
  await page.click('#tab-focus')
  await page.waitForSelector('[data-test=gr-focus] .el-table__row')
  await shot(page, 'seeded-school-02-focus-list')
  await page.locator('[data-test^=gr-focus-person-]').first().click()
  await page.waitForSelector('[data-test=person-timeline]')
  await page.click('[data-test=meeting-new-conference]')
  await page.fill(field('meeting-attendees'), '心理老师、班主任')
  await page.fill(field('meeting-agreed'), '两周后复查')
  await page.click('[data-test=meeting-save]')
  await page.waitForSelector('[data-test=timeline-item][data-kind=conference]')
  await shot(page, 'seeded-school-03-person')
  await axe(page, 'a focus-list pupil')

  // A pupil who gave one answer to every question: their PSS-10 is on the
  // report's invalid appendix, and a week on they get a retake code in the
  // same screening, which the record's timeline then shows.
  await page.goto(`${server.base}/console/campaigns`)
  await page.click('[data-test=campaign-table] a:has-text("心理健康普测")')
  await page.click('.el-tabs__item:has-text("报告")')
  await page.waitForSelector('[data-test=gr-level-chart] svg')
  assert.match(await page.innerText('div[data-test=gr-invalid]'), /^[1-9]\d*$/, 'the participation figures count no invalid result')
  await page.click('#tab-invalid')
  await page.waitForSelector('.el-table[data-test=gr-invalid] .el-table__row')
  assert.match(await page.innerText('.el-table[data-test=gr-invalid]'), /知觉压力量表.*所有题目选择了同一个选项/s)
  await axe(page, 'the invalid appendix')
  await page.locator('[data-test^=gr-invalid-person-]').first().click()
  await page.waitForSelector('[data-test=person-timeline]')
  await page.click('[data-test^=retake-]')
  await page.waitForSelector('[data-test=after-message]')
  const message = await page.locator('[data-test=after-message]').innerText()
  assert.ok(/重测邀请码：[2-9A-HJKMNP-Z]{8}/.test(message), `no retake code in ${message}`)
  await page.waitForSelector('[data-test=timeline-item][data-kind=retake]')
  await shot(page, 'seeded-school-06-retake')
  await axe(page, 'an invalid-result pupil with a retake')

  // A month later, the focus list is screened again: one click makes the
  // follow-up campaign, which then opens.
  await page.goto(`${server.base}/console/campaigns`)
  await page.click('[data-test=campaign-table] a:has-text("心理健康普测")')
  const first = page.url()
  await page.click('[data-test=cp-follow-up]')
  await page.click('.el-message-box__btns .el-button--primary')
  await page.waitForURL((u) => u.toString() !== first && /\/console\/campaigns\/[^/]+$/.test(u.toString()))
  await page.waitForSelector('text=已创建复测')
  assert.match(await page.innerText('.el-message'), /共 [1-9]\d* 名学生/)
  await page.waitForFunction(() => document.body.innerText.includes('心理健康普测（复测）'))
  await shot(page, 'seeded-school-05-follow-up')
  await ctx.close()
})

test('the seeded school: a class teacher finds the screening and reads their class, without names', async () => {
  const ctx = await browser.newContext({ viewport: { width: 1440, height: 900 }, locale: 'zh-CN' })
  const page = await ctx.newPage()
  await signIn(page, server.base, 'demo-teacher', server.accounts['demo-teacher'])
  await page.goto(`${server.base}/console/campaigns`)
  await page.click('[data-test=campaign-table] a:has-text("心理健康普测")')
  await page.click('.el-tabs__item:has-text("报告")')
  await page.waitForSelector('[data-test=gr-level-chart] svg, [data-test=gr-suppressed]')
  assert.equal(await page.locator('[data-test=gr-individual-pdf]').count(), 0, 'a teacher is offered individual reports')
  assert.equal(await page.locator('#tab-focus').count(), 0, 'a teacher sees the focus list')
  // Units are named, never by their ids, though the school is above the teacher.
  assert.doesNotMatch(await page.innerText('body'), /demo-(school|grade|class)/)
  assert.match(await page.innerText('body'), /示范中学/)
  await page.waitForTimeout(800) // the charts' entry animation
  await shot(page, 'seeded-school-04-teacher')
  await axe(page, 'the class teacher report')
  await ctx.close()
})
