// WeChat identity: when the server runs WeChat sign-in and the visitor is
// not yet identified, send the window through the sign-in once per visit.
// Coming back with ?wechat_error=…, or a second time in the same visit,
// continues anonymously so a broken sign-in can never loop.
const TRIED = 'xl.wechat.tried'

export function wechatTarget(cfg, loc, store) {
  if (!cfg?.wechat || cfg.identified) return null
  if (new URLSearchParams(loc.search).has('wechat_error')) return null
  if (store.getItem(TRIED)) return null
  store.setItem(TRIED, '1')
  const next = loc.pathname + loc.search
  return `/api/v1/wechat/login?next=${encodeURIComponent(next)}`
}

export function wechatRedirect(cfg, loc, store) {
  const target = wechatTarget(cfg, loc, store)
  if (target) loc.assign(target)
  return target
}
