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
