import { describe, it, expect } from 'vitest'
import { wechatTarget } from './wechat.js'

function store() {
  const m = new Map()
  return { getItem: (k) => m.get(k) ?? null, setItem: (k, v) => m.set(k, v) }
}

describe('wechat sign-in', () => {
  const loc = { pathname: '/m/code', search: '?code=AB23CD45' }
  it('goes through sign-in once per visit, keeping where the visitor was', () => {
    const s = store()
    expect(wechatTarget({ wechat: true, identified: false }, loc, s)).toBe('/api/v1/wechat/login?next=%2Fm%2Fcode%3Fcode%3DAB23CD45')
    expect(wechatTarget({ wechat: true, identified: false }, loc, s)).toBe(null)
  })
  it('stays anonymous after a sign-in error, when identified, or without WeChat', () => {
    expect(wechatTarget({ wechat: true, identified: false }, { pathname: '/m/', search: '?wechat_error=denied' }, store())).toBe(null)
    expect(wechatTarget({ wechat: true, identified: true }, loc, store())).toBe(null)
    expect(wechatTarget({ wechat: false }, loc, store())).toBe(null)
  })
})

describe('server config', () => {
  it('treats a server without /config as one without WeChat', async () => {
    const { api } = await import('./api.js')
    const real = globalThis.fetch
    globalThis.fetch = async () => new Response(JSON.stringify({ error: { code: 'not_found', message: 'no route' } }), { status: 404 })
    try {
      expect(await api.config()).toEqual({ wechat: false, identified: false, crisis_hotline: '' })
    } finally {
      globalThis.fetch = real
    }
  })
  it('reads the WeChat switch and the hotline when there is one', async () => {
    const { api } = await import('./api.js')
    const real = globalThis.fetch
    globalThis.fetch = async (url) => {
      expect(url).toBe('/api/v1/config')
      return new Response(JSON.stringify({ wechat: true, identified: false, crisis_hotline: '400-000' }), { status: 200 })
    }
    try {
      expect(await api.config()).toEqual({ wechat: true, identified: false, crisis_hotline: '400-000' })
    } finally {
      globalThis.fetch = real
    }
  })
})
