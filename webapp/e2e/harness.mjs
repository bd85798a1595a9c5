// Shared scaffolding of the end-to-end journeys: a real `xinling serve` on a
// loopback port with a fresh data directory and the demo accounts, and
// Debian's Chromium driven by playwright-core. Nothing here downloads a
// browser: the executable is /usr/bin/chromium or the test fails.
import { spawn, execFileSync } from 'node:child_process'
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import assert from 'node:assert/strict'
import { chromium } from 'playwright-core'
import { assertNoRawCodes } from './rawcodes.mjs'

const here = new URL('.', import.meta.url).pathname
export const BIN = process.env.XINLING_BIN || join(here, '../../bin/xinling')
export const CHROMIUM = process.env.XINLING_CHROMIUM || '/usr/bin/chromium'
export const SCREENSHOTS = join(here, 'screenshots')

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.unref()
    srv.on('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address()
      srv.close(() => resolve(port))
    })
  })
}

// startServer seeds the demo org tree into a fresh data directory and
// starts `xinling serve` on it. accounts maps each demo login to its
// one-time password. extraEnv adds XINLING_* settings; demoArgs adds flags
// to `xinling demo` (['--school'] seeds last week's school screening that
// `make run` shows).
export async function startServer(extraEnv = {}, { demoArgs = [] } = {}) {
  const data = mkdtempSync(join(tmpdir(), 'xinling-e2e-'))
  const port = await freePort()
  const base = `http://127.0.0.1:${port}`
  const env = { ...process.env, XINLING_DATA: data, XINLING_PUBLIC_URL: base, ...extraEnv }
  const out = execFileSync(BIN, ['demo', '--dev-key', '--data', data, ...demoArgs], { env, encoding: 'utf8' })
  const accounts = {}
  for (const line of out.split('\n')) {
    const m = line.match(/^\s+(demo-\S+)\s+\S+\s+@\s+\S+\s+(\S+)\s*$/)
    if (m) accounts[m[1]] = m[2]
  }
  const proc = spawn(BIN, ['serve', '--dev-key', '--addr', `127.0.0.1:${port}`, '--data', data], { env, stdio: ['ignore', 'pipe', 'pipe'] })
  let log = ''
  proc.stdout.on('data', (b) => (log += b))
  proc.stderr.on('data', (b) => (log += b))
  const deadline = Date.now() + 30_000
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`xinling serve exited ${proc.exitCode}:\n${log}`)
    try {
      const r = await fetch(`${base}/readyz`)
      if (r.ok) break
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`xinling serve not ready in 30 s:\n${log}`)
    await new Promise((r) => setTimeout(r, 100))
  }
  return {
    base,
    data,
    accounts,
    log: () => log,
    async stop() {
      proc.kill('SIGTERM')
      await new Promise((r) => (proc.exitCode !== null ? r() : proc.once('exit', r)))
      rmSync(data, { recursive: true, force: true })
    },
  }
}

// Every page the journeys open is watched for Content-Security-Policy
// violations: the server's CSP allows no inline script, and a screen that
// needs one is broken for real users. shot() fails on any seen so far.
const cspViolations = []
const watched = new WeakSet()
function watchCSP(page) {
  if (watched.has(page)) return
  watched.add(page)
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy/i.test(m.text())) cspViolations.push(`${page.url()}: ${m.text()}`)
  })
}

export function assertNoCSPViolations() {
  assert.deepEqual(cspViolations, [], 'the web app broke its Content-Security-Policy')
}

// assertAccessible runs axe-core on the page as it is and fails on any
// serious or critical violation, naming the rule and the elements. axe is
// loaded as a same-origin script, which the CSP allows, by answering a
// reserved URL from node_modules.
const AXE = join(here, '../node_modules/axe-core/axe.min.js')
export async function assertAccessible(page, label) {
  // A dialog still fading in has partial opacity, which axe reads as low
  // contrast: let running transitions finish first.
  await page.evaluate(() => Promise.all(document.getAnimations().map((a) => a.finished.catch(() => {}))))
  await page.route('**/__e2e__/axe.min.js', (route) => route.fulfill({ path: AXE, contentType: 'application/javascript' }))
  await page.addScriptTag({ url: '/__e2e__/axe.min.js' })
  const bad = await page.evaluate(async () => {
    const r = await globalThis.axe.run(document, { resultTypes: ['violations'] })
    return r.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map((n) => n.html.slice(0, 160)) }))
  })
  assert.deepEqual(bad, [], `${label}: axe found serious/critical violations ${JSON.stringify(bad, null, 1)}`)
  await assertNoRawCodes(page, label)
}

// launchBrowser starts headless Chromium with the flags this machine's
// closed network needs (no background connections to Google's hosts).
export async function launchBrowser() {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  })
  const newContext = browser.newContext.bind(browser)
  browser.newContext = async (opts) => {
    const ctx = await newContext(opts)
    ctx.on('page', watchCSP)
    return ctx
  }
  const newPage = browser.newPage.bind(browser)
  browser.newPage = async (opts) => {
    const page = await newPage(opts)
    watchCSP(page)
    return page
  }
  return browser
}

// shot saves a screenshot of a key screen and prints where it went.
export async function shot(page, name) {
  assertNoCSPViolations()
  mkdirSync(SCREENSHOTS, { recursive: true })
  const path = join(SCREENSHOTS, `${name}.png`)
  await page.screenshot({ path, fullPage: true })
  console.log(`screenshot: ${path}`)
  return path
}
