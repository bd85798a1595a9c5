// The binary serves both pages of the built web app from its embedded copy.
import { test, after, before } from 'node:test'
import assert from 'node:assert/strict'
import { startServer, launchBrowser } from './harness.mjs'

let server, browser
before(async () => {
  server = await startServer()
  browser = await launchBrowser()
})
after(async () => {
  await browser?.close()
  await server?.stop()
})

test('both pages load from the binary', async () => {
  const page = await browser.newPage()
  for (const path of ['/m/', '/console/']) {
    const resp = await page.goto(server.base + path)
    assert.equal(resp.status(), 200, path)
    await page.waitForSelector('#app *')
  }
  await page.close()
})
