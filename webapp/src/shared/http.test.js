import { describe, it, expect } from 'vitest'
import { request, ApiError } from './http.js'

const reply = (status, body) => async () => new Response(body === undefined ? '' : JSON.stringify(body), { status })

describe('request', () => {
  it('returns the decoded body', async () => {
    expect(await request('GET', '/ping', undefined, { fetchImpl: reply(200, { ok: true }) })).toEqual({ ok: true })
  })
  it('turns an API error into an ApiError with its code', async () => {
    const fetchImpl = reply(422, { error: { code: 'out_of_range', message: '超出范围', field: 'value' } })
    const err = await request('PUT', '/x', { value: 9 }, { fetchImpl }).catch((e) => e)
    expect(err).toBeInstanceOf(ApiError)
    expect([err.status, err.code, err.field, err.offline]).toEqual([422, 'out_of_range', 'value', false])
  })
  it('marks a request that never reached the server as offline', async () => {
    const err = await request('GET', '/x', undefined, { fetchImpl: async () => { throw new TypeError('Failed to fetch') } }).catch((e) => e)
    expect(err.offline).toBe(true)
  })
  it('sends the bearer token and JSON body', async () => {
    let seen
    await request('POST', '/sessions', { a: 1 }, { token: 't0k', fetchImpl: async (url, init) => { seen = { url, init }; return new Response('{}') } })
    expect(seen.url).toBe('/api/v1/sessions')
    expect(seen.init.headers.Authorization).toBe('Bearer t0k')
    expect(JSON.parse(seen.init.body)).toEqual({ a: 1 })
  })
})
