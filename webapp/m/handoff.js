// The warm hand-off on the respondent's side: the call-back request's time
// windows, the phone number check the server also makes, and how a window
// or a slot reads on the screen. Pure functions, so they are unit-tested.

// CONSENT_VERSION names the consent wording the forms show
// (locales: handoff.consent.v1); the server records it with the request.
export const CONSENT_VERSION = 'v1'

// The same rule as the server (assess.NormalizePhone): a mainland mobile,
// or a landline with its area code; spaces, dashes, brackets and +86 are
// dropped. Returns the number, or '' when it is not one.
export function normalizePhone(s) {
  let p = String(s || '').trim().replace(/[\s\-()]/g, '')
  if (p.startsWith('+86')) p = p.slice(3)
  else if (p.startsWith('0086')) p = p.slice(4)
  return /^(1[3-9]\d{9}|0[1-9]\d{1,2}\d{7,8})$/.test(p) ? p : ''
}

const PARTS = [
  ['Morning', 9, 12],
  ['Afternoon', 14, 18],
  ['Evening', 18, 21],
]

// callbackWindows offers the times a counsellor may call, in the phone's
// own time: within the next four hours, then the parts of today that have
// not passed (at least half an hour left) and those of tomorrow. Each is
// {key, from, to}; key names its label (handoff.window.<key>).
export function callbackWindows(now = new Date()) {
  const out = [{ key: 'soon', from: new Date(now), to: new Date(now.getTime() + 4 * 3600e3) }]
  for (const [day, offset] of [
    ['today', 0],
    ['tomorrow', 1],
  ]) {
    for (const [part, h1, h2] of PARTS) {
      const from = new Date(now.getFullYear(), now.getMonth(), now.getDate() + offset, h1)
      const to = new Date(now.getFullYear(), now.getMonth(), now.getDate() + offset, h2)
      if (to.getTime() - now.getTime() < 30 * 60e3) continue
      out.push({ key: day + part, from: from < now ? new Date(now) : from, to })
    }
  }
  return out
}

const pad = (n) => String(n).padStart(2, '0')
const hm = (d) => `${pad(d.getHours())}:${pad(d.getMinutes())}`

// fmtRange shows a window or a slot: "11月22日 14:00–18:00" (or "Nov 22").
export function fmtRange(from, to, locale = 'zh-CN') {
  const a = new Date(from)
  const b = new Date(to)
  const day = a.toLocaleDateString(locale, { month: 'short', day: 'numeric', weekday: 'short' })
  return `${day} ${hm(a)}–${hm(b)}`
}

// fmtWhen shows a moment: "11月22日周日 14:00".
export function fmtWhen(at, locale = 'zh-CN') {
  const a = new Date(at)
  return `${a.toLocaleDateString(locale, { month: 'short', day: 'numeric', weekday: 'short' })} ${hm(a)}`
}

// areasOf lists the areas of the bookable units in the order the server
// gave them, with how many units each has.
export function areasOf(areas, units) {
  return (areas || []).map((a) => ({ ...a, units: (units || []).filter((u) => u.area_id === a.id).length })).filter((a) => a.units > 0)
}
