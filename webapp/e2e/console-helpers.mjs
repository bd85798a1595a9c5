// Helpers shared by the console journeys: signing in through the UI (with
// the one-time password change), axe-core checks, and resident/API calls
// made with fetch.

// field finds the text box of an Element Plus input by its data-test
// (Element Plus puts attributes on the inner input, not the wrapper).
export const field = (name) => `:is(input,textarea)[data-test=${name}], [data-test=${name}] :is(input,textarea)`

export const NEW_PASSWORD = 'Xinling-e2e-2026!'

// signIn signs in at /console/login and, on first use of a demo account,
// replaces its one-time password. It leaves the page on the role's home.
export async function signIn(page, base, login, password) {
  await page.goto(`${base}/console/login`)
  await page.fill(field('login-name'), login)
  await page.fill(field('login-password'), password)
  await page.click('[data-test=login-submit]')
  await page.waitForSelector('[data-test=change-password], [data-test=who]')
  if (await page.$('[data-test=change-password]')) {
    await page.fill(field('new-password'), NEW_PASSWORD)
    await page.fill(field('new-password-again'), NEW_PASSWORD)
    await page.click('[data-test=change-submit]')
    await page.waitForSelector('[data-test=who]')
  }
}

// axe is the journeys' accessibility check (see harness.mjs).
export { assertAccessible as axe } from './harness.mjs'

// api calls the API directly as staff (cookie jar by hand) or a resident.
export class Client {
  constructor(base) {
    this.base = base
    this.cookie = ''
    this.csrf = ''
  }
  // request answers with the status and the decoded body, for tests that
  // check the status themselves.
  async request(method, path, body, headers = {}) {
    const h = { Accept: 'application/json', ...headers }
    if (body !== undefined) h['Content-Type'] = 'application/json'
    if (this.cookie) h.Cookie = this.cookie
    if (this.csrf && method !== 'GET') h['X-CSRF-Token'] = this.csrf
    const r = await fetch(`${this.base}/api/v1${path}`, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body) })
    const set = r.headers.get('set-cookie')
    if (set) this.cookie = set.split(';')[0]
    const text = await r.text()
    return { status: r.status, ok: r.ok, text, body: text ? JSON.parse(text) : null }
  }
  // call answers with the body and throws on any error status.
  async call(method, path, body, headers = {}) {
    const r = await this.request(method, path, body, headers)
    if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${r.text}`)
    return r.body
  }
  async login(login, password) {
    let r = await this.call('POST', '/auth/login', { login, password })
    this.csrf = r.csrf
    if (r.staff.must_change_password) {
      await this.call('POST', '/auth/password', { old_password: password, new_password: NEW_PASSWORD })
      r = await this.call('POST', '/auth/login', { login, password: NEW_PASSWORD })
      this.csrf = r.csrf
    }
    return r.staff
  }
}

// selfTest submits a PHQ-9 as an anonymous resident with the given answers.
export async function selfTest(base, values) {
  const c = new Client(base)
  const s = await c.call('POST', '/sessions', { instrument: 'phq9', consent: true, locale: 'zh-CN' })
  const auth = { Authorization: `Bearer ${s.token}` }
  const answers = s.items.map((it, i) => ({ item: it.id, value: values[i], seq: i + 1 }))
  await c.call('POST', `/sessions/${s.id}/answers`, { answers }, auth)
  return c.call('POST', `/sessions/${s.id}/submit`, undefined, auth)
}

// uploadRoster imports a roster CSV into a unit as the signed-in client.
export async function uploadRoster(c, unit, csv) {
  const form = new FormData()
  form.append('file', new Blob([csv], { type: 'text/csv' }), 'roster.csv')
  const r = await fetch(`${c.base}/api/v1/units/${unit}/roster`, { method: 'POST', headers: { Cookie: c.cookie, 'X-CSRF-Token': c.csrf }, body: form })
  if (r.status !== 200) throw new Error(`roster upload: ${r.status} ${await r.text()}`)
}

// finish takes a pupil's code through the battery one item at a time, as
// the H5 does: answer(item) gives each answer (conditional items included
// when they are shown). It returns the session's id.
export async function finish(base, code, answer) {
  const c = new Client(base)
  const s = await c.call('POST', '/sessions', { code, consent: true, locale: 'zh-CN' })
  const auth = { Authorization: `Bearer ${s.token}` }
  let seq = 0
  let cur = s
  while (cur.next) {
    await c.call('PUT', `/sessions/${s.id}/answers/${cur.next}`, { value: answer(cur.next), seq: ++seq }, auth)
    cur = await c.call('GET', `/sessions/${s.id}`, undefined, auth)
  }
  await c.call('POST', `/sessions/${s.id}/submit`, undefined, auth)
  return s.id
}
