// WeChat identity in the browser: the H5 sends a resident through the
// official account's web authorization (snsapi_base) to a stand-in that
// answers as WeChat's documented API does, comes back identified, takes a
// test and finds it under "my tests". A code WeChat refuses leaves the H5
// working anonymously, without a redirect loop.
import { test, after, before } from 'node:test'
import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import { randomBytes } from 'node:crypto'
import { startServer, launchBrowser, shot } from './harness.mjs'
import { phone, tapOption, item } from './h5.mjs'

const APPID = 'wx-e2e-appid'
const SECRET = 'e2e-secret-not-real'

// standIn plays open.weixin.qq.com (the authorize page redirects straight
// back, as snsapi_base does) and api.weixin.qq.com (code → openid, each
// code once). refuseNext makes the next code one WeChat will not accept.
function standIn() {
  const codes = new Map()
  const state = { refuseNext: false, exchanges: 0 }
  const srv = createServer((req, res) => {
    const url = new URL(req.url, 'http://stand-in')
    if (url.pathname === '/connect/oauth2/authorize') {
      assert.equal(url.searchParams.get('appid'), APPID)
      assert.equal(url.searchParams.get('scope'), 'snsapi_base')
      const code = randomBytes(8).toString('hex')
      if (!state.refuseNext) codes.set(code, 'o-e2e-resident-openid')
      state.refuseNext = false
      const back = new URL(url.searchParams.get('redirect_uri'))
      back.searchParams.set('code', code)
      back.searchParams.set('state', url.searchParams.get('state'))
      res.writeHead(302, { Location: back.toString() })
      return res.end()
    }
    if (url.pathname === '/sns/oauth2/access_token') {
      state.exchanges++
      res.setHeader('Content-Type', 'application/json')
      const ok = url.searchParams.get('appid') === APPID && url.searchParams.get('secret') === SECRET
      const openid = ok && codes.get(url.searchParams.get('code'))
      codes.delete(url.searchParams.get('code'))
      if (!openid) return res.end(JSON.stringify({ errcode: 40029, errmsg: 'invalid code' }))
      return res.end(JSON.stringify({ access_token: 'AT', expires_in: 7200, refresh_token: 'RT', openid, scope: 'snsapi_base' }))
    }
    res.writeHead(404)
    res.end()
  })
  return new Promise((resolve) => srv.listen(0, '127.0.0.1', () => resolve({ srv, state, base: `http://127.0.0.1:${srv.address().port}` })))
}

let server, browser, wx
before(async () => {
  wx = await standIn()
  server = await startServer({
    XINLING_WECHAT_APPID: APPID,
    XINLING_WECHAT_SECRET: SECRET,
    XINLING_IDENTITY_KEY: randomBytes(32).toString('base64'),
    XINLING_WECHAT_AUTHORIZE_URL: `${wx.base}/connect/oauth2/authorize`,
    XINLING_WECHAT_API_URL: wx.base,
  })
  browser = await launchBrowser()
})
after(async () => {
  await browser?.close()
  await server?.stop()
  wx?.srv.close()
})

test('a resident signed in through WeChat finds their test under "my tests"', async () => {
  const { context, page } = await phone(browser)
  await page.goto(`${server.base}/m/`)
  // Through the stand-in and back: identified, so "my tests" is offered.
  await page.waitForSelector('[data-test=mine-link]')
  assert.equal(new URL(page.url()).pathname, '/m/')
  const cookie = (await context.cookies()).find((c) => c.name === 'xinling_respondent')
  assert.ok(cookie?.httpOnly, 'the respondent cookie must be HttpOnly')
  assert.ok(!cookie.value.includes('o-e2e-resident-openid'), 'the cookie must not carry the openid')

  await page.tap('[data-test=start-phq9]')
  await page.tap('[data-test=consent-accept]')
  for (let n = 1; n <= 8; n++) await tapOption(page, 0, item(`phq9.q${n + 1}`))
  await tapOption(page, 0, '[data-test=submit]')
  await page.tap('[data-test=submit]')
  await page.waitForSelector('[data-test=done]')

  await page.goto(`${server.base}/m/mine`)
  await page.waitForSelector('li.xl-card')
  const card = await page.textContent('li.xl-card')
  assert.match(card, /PHQ-9/)
  await shot(page, 'wechat-01-my-tests')
  await context.close()
})

test('a code WeChat refuses leaves the H5 working anonymously', async () => {
  const { context, page } = await phone(browser)
  wx.state.refuseNext = true
  const before = wx.state.exchanges
  await page.goto(`${server.base}/m/`)
  // The callback answers with a page that explains and offers to go on.
  await page.waitForURL(/\/api\/v1\/wechat\/callback/)
  await page.waitForLoadState('load')
  assert.equal(wx.state.exchanges, before + 1)
  const link = page.locator('a', { hasText: /继续|Continue/ })
  await shot(page, 'wechat-02-code-refused')
  await link.first().click()
  await page.waitForSelector('[data-test=start-phq9]')
  // Anonymous now, and no second trip to WeChat in this visit.
  assert.equal(await page.locator('[data-test=mine-link]').count(), 0)
  assert.equal(wx.state.exchanges, before + 1)
  assert.equal((await context.cookies()).some((c) => c.name === 'xinling_respondent'), false)
  await context.close()
})
