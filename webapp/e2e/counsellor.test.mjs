// Journey 2: a counsellor at the street's station, signed in before the
// resident starts, sees a level-1 self-test warning arrive live, claims it,
// records the case and refers it to the county centre, whose counsellor
// then sees the referral.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { startServer, launchBrowser, shot } from './harness.mjs'
import { signIn, axe, selfTest, field, NEW_PASSWORD } from './console-helpers.mjs'

let server, browser
before(async () => {
  server = await startServer({ XINLING_SELF_TEST_UNIT: 'demo-station' })
  browser = await launchBrowser()
})
after(async () => {
  await browser?.close()
  await server?.stop()
})

test('counsellor works a live level-1 warning through to a referral', async () => {
  const ctx = await browser.newContext({ viewport: { width: 1440, height: 900 }, locale: 'zh-CN' })
  // Record desktop notifications and beeps instead of showing them: a
  // stand-in Notification that the user "allows", and a count of the
  // oscillators the WebAudio beep starts.
  await ctx.addInitScript(() => {
    window.__notes = []
    window.__beeps = 0
    window.Notification = class {
      static permission = 'default'
      static async requestPermission() {
        window.Notification.permission = 'granted'
        return 'granted'
      }
      constructor(title, opts) {
        window.__notes.push({ title, body: opts?.body })
      }
      close() {}
    }
    const AC = window.AudioContext
    if (AC) {
      const create = AC.prototype.createOscillator
      AC.prototype.createOscillator = function () {
        window.__beeps++
        return create.call(this)
      }
    }
  })
  const page = await ctx.newPage()
  await page.goto(`${server.base}/console/login`)
  await page.waitForSelector('[data-test=login-submit]')
  await shot(page, 'console-login')
  await axe(page, 'login')

  // 1. Signed in, queue open, stream live, before the resident submits.
  await signIn(page, server.base, 'demo-station', server.accounts['demo-station'])
  await page.waitForURL(/\/console\/queue$/)
  await page.waitForSelector('[data-test=live].live')
  await page.click('[data-test=bell]') // a user gesture: permission + audio
  await page.waitForSelector('[data-test=bell][aria-pressed=true]')
  const beepsBefore = await page.evaluate(() => window.__beeps)
  await shot(page, 'console-queue-empty')

  // 2. The resident's PHQ-9 with item 9 = 1 raises a level-1 warning.
  const before = Date.now()
  const res = await selfTest(server.base, [1, 1, 1, 1, 1, 1, 1, 1, 1])
  assert.ok(res.crisis, 'item 9 > 0 shows the crisis block')
  const row = page.locator('[data-test=queue-table] .level-row-1')
  await row.first().waitFor({ timeout: 2000 })
  const waited = Date.now() - before
  console.log(`level-1 row appeared ${waited} ms after the submit returned`)
  assert.ok(waited <= 2000)
  await page.waitForSelector('[data-test=sla]')
  const notes = await page.evaluate(() => window.__notes)
  assert.equal(notes.length, 1, 'one desktop notification for the new level-1 entry')
  assert.equal(notes[0].title, '新的一级预警')
  assert.match(notes[0].body, /第 9 题/)
  assert.ok((await page.evaluate(() => window.__beeps)) > beepsBefore, 'a beep for the new level-1 entry')
  // The SLA countdown ticks every second.
  const t1 = await page.textContent('[data-test=sla]')
  await page.waitForFunction((t) => document.querySelector('[data-test=sla]').textContent !== t, t1, { timeout: 3000 })
  await shot(page, 'console-queue-live')
  await axe(page, 'queue')

  // 3. Open, claim.
  await row.first().click()
  await page.waitForSelector('[data-test=entry-summary]')
  await page.click('[data-test=claim]')
  await page.waitForSelector('[data-test=entry-state]:has-text("已认领")')
  // The answer behind the flag reads in words: item 9's question and "好几天".
  const answers = await page.textContent('[data-test=answers]')
  assert.match(answers, /有不如死掉或用某种方式伤害自己的念头/)
  assert.match(answers, /好几天 \(1\)/)
  await shot(page, 'console-entry-claimed')
  await axe(page, 'entry detail')

  // 4. The case record: every field of the station's form.
  await page.click('[data-test=case-new]')
  await page.fill(field('case-self_evaluation'), '最近睡不好，觉得自己没用。')
  await page.fill(field('case-life_events'), '上月失业。')
  await page.fill(field('case-other_problems'), '无')
  await page.fill(field('case-advice'), '建议到区心理健康中心进一步评估，已告知 12356 热线。')
  await page.click('[data-test=case-group-yes]')
  await page.click('[data-test=case-save]')
  await page.waitForSelector('[data-test=case-item]')
  const caseText = await page.textContent('[data-test=case-item]')
  assert.match(caseText, /上月失业/)
  await shot(page, 'console-entry-case')

  // 5. Refer to the county centre.
  await page.click('[data-test=refer]')
  await page.click('[data-test=refer-target]')
  await page.click('[data-test=refer-option-demo-county]')
  await page.fill(field('refer-note'), '一级预警，请区中心接手评估。')
  await page.click('[data-test=refer-submit]')
  await page.waitForSelector('[data-test=entry-state]:has-text("已转介")')
  await page.waitForSelector('[data-test=referral-state]:has-text("已发出")')
  assert.match(await page.textContent('[data-test=referral-item]'), /示范区心理健康中心/) // named, though outside the station's subtree
  await shot(page, 'console-entry-referred')

  // 6. The other side: the county centre's counsellor sees it incoming.
  const centre = await browser.newContext({ viewport: { width: 1440, height: 900 }, locale: 'zh-CN' })
  const cpage = await centre.newPage()
  await signIn(cpage, server.base, 'demo-centre', server.accounts['demo-centre'])
  await cpage.goto(`${server.base}/console/referrals`)
  await cpage.waitForSelector('[data-test=referral-row-state]:has-text("已发出")')
  await shot(cpage, 'console-centre-referrals')
  await cpage.click('[data-test=referral-accept]')
  await cpage.waitForSelector('[data-test=referral-row-state]:has-text("已接收")')

  // ...and the station sees the centre's acceptance.
  await page.reload()
  await page.waitForSelector('[data-test=referral-state]:has-text("已接收")')
  await shot(page, 'console-entry-accepted')
  assert.ok(NEW_PASSWORD)
  await centre.close()
  await ctx.close()
})
