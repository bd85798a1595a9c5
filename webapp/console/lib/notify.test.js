import { describe, it, expect } from 'vitest'
import { createI18n } from 'vue-i18n'
import zhCN from '../locales/zh-CN.js'
import en from '../locales/en.js'
import { formFromSettings, bodyFromForm, newContactID, dutyText, historyText } from './notify.js'

const i18n = (locale) => createI18n({ legacy: false, locale, messages: { 'zh-CN': zhCN, en } }).global.t

const saved = {
  unit_id: 'town', own: true, version: 3,
  endpoints: [
    { channel: 'wecom', address: { set: true }, secret: { set: false } },
    { channel: 'webhook', address: { set: true, hint: 'https://hooks.example.cn' }, secret: { set: true } },
  ],
  contacts: [
    { id: 'zhang', name: '张医生', channel: 'sms', address: { set: true, hint: '139****0001' }, locale: 'zh-CN', always: false,
      duty: [{ days: [1, 2, 3, 4, 5], from: '08:00', to: '18:00' }] },
    { id: 'group', name: '值班群', channel: 'wecom', address: { set: false }, always: true, duty: [] },
  ],
  policy: { levels23: 'digest', work_hours: [{ days: [1, 2, 3, 4, 5], from: '08:30', to: '17:30' }], digest_at: ['17:00', '08:30'] },
  unclaimed_after_minutes: 20,
}

describe('notification settings form', () => {
  it('starts every secret empty and sends none back unless typed', () => {
    const f = formFromSettings(saved)
    expect(f.endpoints.webhook).toMatchObject({ enabled: true, address: '', secret: '', addressSet: true, secretSet: true, hint: 'https://hooks.example.cn' })
    expect(f.endpoints.dingtalk.enabled).toBe(false)
    const body = bodyFromForm(f)
    expect(body.version).toBe(3)
    expect(body.endpoints).toEqual([{ channel: 'wecom' }, { channel: 'webhook' }])
    expect(body.contacts[0]).not.toHaveProperty('address')
    expect(body.policy.digest_at).toEqual(['08:30', '17:00'])
    expect(body.unclaimed_after_minutes).toBe(20)
  })
  it('sends what the admin typed, and no address for a robot contact', () => {
    const f = formFromSettings(saved)
    f.endpoints.webhook.secret = ' new-secret-0123456789 '
    f.contacts[0].address = '13900000002'
    f.contacts[1].address = 'ignored'
    const body = bodyFromForm(f)
    expect(body.endpoints[1]).toEqual({ channel: 'webhook', secret: 'new-secret-0123456789' })
    expect(body.contacts[0].address).toBe('13900000002')
    expect(body.contacts[1]).not.toHaveProperty('address')
    expect(body.contacts[1].duty).toEqual([])
  })
  it('copies an inherited schedule without the ancestor’s endpoints or addresses', () => {
    const f = formFromSettings({ ...saved, own: false, inherited_from: 'county' })
    expect(f.version).toBe(0)
    expect(Object.values(f.endpoints).some((e) => e.enabled)).toBe(false)
    expect(f.contacts.map((c) => c.id)).toEqual(['zhang'])
    expect(f.contacts[0].addressSet).toBe(false)
  })
  it('finds an unused contact id', () => {
    expect(newContactID([{ id: 'c1' }, { id: 'c2' }])).toBe('c3')
    expect(newContactID([{ id: 'c2' }])).toBe('c3')
  })
  it('words the duty hours', () => {
    const t = i18n('zh-CN')
    expect(dutyText(t, saved.contacts[0])).toBe('周一至周五 08:00–18:00')
    expect(dutyText(t, { always: true })).toBe('全天候')
    expect(dutyText(i18n('en'), { duty: [{ days: [6, 7], from: '22:00', to: '08:00' }] })).toBe('Sat, Sun 22:00–08:00')
  })
})

describe('notification history', () => {
  const fmt = () => '11/23 09:30'
  it('words each of the dispatcher’s events, in both languages, without raw codes', () => {
    const events = [
      { kind: 'notify_planned', notify: { notification: 'warning', level: 1, deliveries: 3 } },
      { kind: 'notify_planned', notify: { notification: 'unclaimed', level: 1, deliveries: 1 } },
      { kind: 'notify_planned', notify: { notification: 'warning', level: 2, reason: 'deferred', deferred_until: '2026-11-24T00:30:00Z' } },
      { kind: 'notify_planned', notify: { notification: 'warning', level: 1, reason: 'nobody_on_duty' } },
      { kind: 'notify_sent', notify: { channel: 'sms', contact: 'zhang', contact_name: '张医生', attempt: 1 } },
      { kind: 'notify_failed', notify: { channel: 'webhook', contact: 'hook', contact_name: '市平台', attempt: 2, retry_at: '2026-11-23T01:31:00Z' } },
      { kind: 'notify_dead', notify: { channel: 'dingtalk', contact: 'ding', attempt: 1, reason: 'permanent' } },
      { kind: 'notify_requeued', notify: { channel: 'dingtalk', contact: 'ding' } },
    ]
    for (const locale of ['zh-CN', 'en']) {
      const t = i18n(locale)
      const texts = events.map((e) => historyText(t, e, fmt))
      for (const text of texts) {
        expect(text).not.toMatch(/notify\.|notify_|nobody_on_duty|permanent|\{/)
      }
      if (locale === 'zh-CN') {
        expect(texts[0]).toBe('已通知 3 位当班人员')
        expect(texts[4]).toBe('已通过短信通知 张医生')
        expect(texts[5]).toContain('第 2 次')
        expect(texts[6]).toContain('对方拒绝')
      }
    }
  })
})
