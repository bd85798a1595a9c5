import { describe, it, expect, vi, afterEach } from 'vitest'
import { api, upload, setCsrf, onUnauthorized, qs } from './api.js'

const realFetch = globalThis.fetch
afterEach(() => {
  globalThis.fetch = realFetch
  onUnauthorized(null)
})

function stub(status, body) {
  const calls = []
  globalThis.fetch = async (url, init) => {
    calls.push({ url, init })
    return new Response(JSON.stringify(body), { status })
  }
  return calls
}

describe('console api', () => {
  it('sends the CSRF token on changes only', async () => {
    setCsrf('tok')
    const calls = stub(200, {})
    await api('GET', '/warnings')
    await api('POST', '/warnings/1/claim')
    expect(calls[0].init.headers['X-CSRF-Token']).toBeUndefined()
    expect(calls[1].init.headers['X-CSRF-Token']).toBe('tok')
  })
  it('sends a 401 back to sign-in, unless asked not to', async () => {
    const seen = vi.fn()
    onUnauthorized(seen)
    stub(401, { error: { code: 'unauthenticated', message: 'sign in' } })
    await expect(api('GET', '/warnings')).rejects.toMatchObject({ status: 401 })
    expect(seen).toHaveBeenCalledTimes(1)
    await expect(api('GET', '/auth/me', undefined, { quiet401: true })).rejects.toMatchObject({ status: 401 })
    expect(seen).toHaveBeenCalledTimes(1)
  })
  it('keeps the roster problems of a refused upload', async () => {
    setCsrf('tok')
    const calls = stub(422, { error: { code: 'roster_invalid', message: '2 problems' }, problems: [{ row: 4, column: 'sex', kind: 'bad_sex', message: 'x' }] })
    const err = await upload('/units/s/roster', new FormData()).catch((e) => e)
    expect(err.code).toBe('roster_invalid')
    expect(err.body.problems[0].row).toBe(4)
    expect(calls[0].init.headers['X-CSRF-Token']).toBe('tok')
  })
  it('builds query strings from the filled values', () => {
    expect(qs({ level: [1, 2], state: [], unit: '', overdue: 'true' })).toBe('?level=1%2C2&overdue=true')
    expect(qs({})).toBe('')
  })
})
