// Notification settings and history, kept free of Vue so they can be
// tested on their own. The API never returns an address or a secret once
// saved (only whether one is set), so a form starts those fields empty and
// leaves them out of the request unless the admin typed a new value.

export const CHANNELS = ['wecom', 'dingtalk', 'webhook', 'sms', 'email']
export const ENDPOINT_CHANNELS = ['wecom', 'dingtalk', 'webhook']
// Which endpoint channels take a secret as well as an address.
export const SECRET_CHANNELS = ['dingtalk', 'webhook']
export const DAYS = [1, 2, 3, 4, 5, 6, 7]

// formFromSettings turns GET /units/{id}/notify-settings into an editable
// form. Inherited settings start a unit's own from a copy of the
// ancestor's schedule, without its endpoints (their secrets stay there).
export function formFromSettings(s) {
  const own = !!s.own
  const endpoints = {}
  for (const ch of ENDPOINT_CHANNELS) {
    const e = (own && s.endpoints.find((x) => x.channel === ch)) || null
    endpoints[ch] = {
      enabled: !!e,
      address: '',
      secret: '',
      addressSet: !!e?.address?.set,
      secretSet: !!e?.secret?.set,
      hint: e?.address?.hint || '',
    }
  }
  const contacts = (s.contacts || [])
    .filter((c) => own || !ENDPOINT_CHANNELS.includes(c.channel))
    .map((c) => ({
      id: c.id,
      name: c.name,
      channel: c.channel,
      locale: c.locale || 'zh-CN',
      always: !!c.always,
      duty: (c.duty || []).map((w) => ({ days: [...w.days], from: w.from, to: w.to })),
      address: '',
      addressSet: own && !!c.address?.set,
      hint: own ? c.address?.hint || '' : '',
    }))
  return {
    version: own ? s.version : 0,
    endpoints,
    contacts,
    levels23: s.policy?.levels23 || 'immediate',
    workHours: (s.policy?.work_hours || []).map((w) => ({ days: [...w.days], from: w.from, to: w.to })),
    digestAt: [...(s.policy?.digest_at || ['08:30'])],
    unclaimedAfter: s.unclaimed_after_minutes || 15,
  }
}

// bodyFromForm is the PUT body: a typed address or secret is sent, an
// empty one is left out so that the server keeps what it has.
export function bodyFromForm(f) {
  const endpoints = []
  for (const ch of ENDPOINT_CHANNELS) {
    const e = f.endpoints[ch]
    if (!e.enabled) continue
    const out = { channel: ch }
    if (e.address.trim()) out.address = e.address.trim()
    if (SECRET_CHANNELS.includes(ch) && e.secret.trim()) out.secret = e.secret.trim()
    endpoints.push(out)
  }
  const contacts = f.contacts.map((c) => {
    const out = { id: c.id.trim(), name: c.name.trim(), channel: c.channel, locale: c.locale, always: c.always, duty: c.always ? [] : c.duty }
    if (!ENDPOINT_CHANNELS.includes(c.channel) && c.address.trim()) out.address = c.address.trim()
    return out
  })
  return {
    version: f.version,
    endpoints,
    contacts,
    policy: { levels23: f.levels23, work_hours: f.workHours, digest_at: [...f.digestAt].sort() },
    unclaimed_after_minutes: Number(f.unclaimedAfter) || 0,
  }
}

// newContactID is an unused id for a new row of the schedule.
export function newContactID(contacts) {
  let i = contacts.length + 1
  while (contacts.some((c) => c.id === `c${i}`)) i++
  return `c${i}`
}

// dutyText words a contact's hours ("周一至周五 08:00–18:00").
export function dutyText(t, c) {
  if (c.always) return t('notify.always')
  if (!c.duty?.length) return t('notify.never')
  return c.duty.map((w) => `${daysText(t, w.days)} ${w.from}–${w.to}`).join(t('notify.windowSep'))
}

function daysText(t, days) {
  if (!days?.length || days.length === 7) return t('notify.everyDay')
  const sorted = [...days].sort()
  const run = sorted.every((d, i) => i === 0 || d === sorted[i - 1] + 1)
  if (run && sorted.length > 2) return t('notify.dayRange', { from: t(`notify.days.${sorted[0]}`), to: t(`notify.days.${sorted[sorted.length - 1]}`) })
  return sorted.map((d) => t(`notify.days.${d}`)).join(t('notify.daySep'))
}

// historyText words one of the dispatcher's history events (the notify_*
// kinds), in the reader's language, from its fields; the console never
// shows their raw codes.
export function historyText(t, e, fmt) {
  const n = e.notify
  if (!n) return t(`event.${e.kind}`)
  const channel = n.channel ? t(`notify.channels.${n.channel}`) : ''
  const who = n.contact_name || n.contact || ''
  switch (e.kind) {
    case 'notify_planned':
      if (n.reason === 'deferred') return t('notify.history.deferred', { time: fmt(n.deferred_until) })
      if (n.reason) return t(`notify.history.none.${n.reason}`)
      return t(`notify.history.planned.${n.notification === 'unclaimed' ? 'unclaimed' : 'event'}`, { n: n.deliveries })
    case 'notify_sent':
      return t('notify.history.sent', { channel, who })
    case 'notify_failed':
      return t('notify.history.failed', { channel, who, attempt: n.attempt, time: fmt(n.retry_at) })
    case 'notify_dead':
      return t('notify.history.dead', { channel, who, reason: t(`notify.reasons.${n.reason}`) })
    case 'notify_requeued':
      return t('notify.history.requeued', { channel, who: who || n.contact })
  }
  return t(`event.${e.kind}`)
}

// isNotifyEvent tells the dispatcher's events from staff's.
export function isNotifyEvent(e) {
  return String(e.kind).startsWith('notify_')
}
