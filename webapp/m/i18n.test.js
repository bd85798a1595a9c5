import { describe, it, expect } from 'vitest'
import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { messages, errorKey } from './i18n.js'

function keys(obj, prefix = '') {
  return Object.entries(obj).flatMap(([k, v]) => (typeof v === 'object' ? keys(v, `${prefix}${k}.`) : [`${prefix}${k}`]))
}
function get(obj, path) {
  return path.split('.').reduce((o, k) => (o == null ? undefined : o[k]), obj)
}

describe('i18n', () => {
  it('has the same keys in zh-CN and en, none empty', () => {
    const zh = keys(messages['zh-CN']).sort()
    const en = keys(messages.en).sort()
    expect(en).toEqual(zh)
    for (const l of ['zh-CN', 'en']) for (const k of zh) expect(get(messages[l], k), `${l} ${k}`).toBeTruthy()
  })

  it('has every key the screens use', () => {
    // vitest runs from webapp/
    const dir = join(process.cwd(), 'm')
    const files = ['App.vue', ...readdirSync(join(dir, 'views')).map((f) => `views/${f}`), ...readdirSync(join(dir, 'components')).map((f) => `components/${f}`)]
    const used = new Set()
    for (const f of files) {
      for (const m of readFileSync(join(dir, f), 'utf8').matchAll(/\bt\('([a-zA-Z]+\.[a-zA-Z.]+)'/g)) used.add(m[1])
      for (const m of readFileSync(join(dir, f), 'utf8').matchAll(/'((?:take|notice|errors)\.[a-zA-Z]+)'/g)) used.add(m[1])
    }
    expect(used.size).toBeGreaterThan(20)
    for (const k of used) {
      expect(get(messages['zh-CN'], k), `zh-CN ${k}`).toBeTruthy()
      expect(get(messages.en, k), `en ${k}`).toBeTruthy()
    }
  })

  it('maps API errors to gentle messages, unknown ones to a generic one', () => {
    expect(errorKey({ code: 'campaign_closed', status: 410 })).toBe('errors.campaign_closed')
    expect(errorKey({ code: 'offline', status: 0, offline: true })).toBe('errors.offline')
    expect(errorKey({ code: 'something_new', status: 400 })).toBe('errors.generic')
  })
})
