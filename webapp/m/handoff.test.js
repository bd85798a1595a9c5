import { describe, it, expect } from 'vitest'
import { normalizePhone, callbackWindows, fmtRange, fmtWhen, areasOf } from './handoff.js'

describe('hand-off helpers', () => {
  it('accepts the numbers the server accepts and nothing else', () => {
    expect(normalizePhone('138 0013 8000')).toBe('13800138000')
    expect(normalizePhone('+86 138-0013-8000')).toBe('13800138000')
    expect(normalizePhone('(010) 6512 3456')).toBe('01065123456')
    expect(normalizePhone('0755-12345678')).toBe('075512345678')
    for (const bad of ['', '12345', '12800138000', '1380013800', '138001380000', 'abc', '10086']) expect(normalizePhone(bad), bad).toBe('')
  })

  it('offers the next hours, what is left of today and tomorrow', () => {
    const at = new Date(2026, 10, 22, 15, 0) // 15:00 local
    const w = callbackWindows(at)
    expect(w.map((x) => x.key)).toEqual(['soon', 'todayAfternoon', 'todayEvening', 'tomorrowMorning', 'tomorrowAfternoon', 'tomorrowEvening'])
    expect(w[0].to.getTime() - w[0].from.getTime()).toBe(4 * 3600e3)
    // a part already begun starts now, not in the past
    expect(w[1].from.getTime()).toBe(at.getTime())
    expect(w[1].to.getHours()).toBe(18)
    expect(w[3].from.getDate()).toBe(23)
    expect(w[3].from.getHours()).toBe(9)
    for (const x of w) expect(x.to > x.from).toBe(true)
  })

  it('drops a part of today with less than half an hour left', () => {
    const keys = callbackWindows(new Date(2026, 10, 22, 20, 40)).map((x) => x.key)
    expect(keys).not.toContain('todayEvening')
    expect(keys[0]).toBe('soon')
    expect(callbackWindows(new Date(2026, 10, 22, 20, 20)).map((x) => x.key)).toContain('todayEvening')
  })

  it('shows a range with its day and times', () => {
    const s = fmtRange(new Date(2026, 10, 22, 14, 0), new Date(2026, 10, 22, 18, 0), 'zh-CN')
    expect(s).toContain('14:00–18:00')
    expect(s).toContain('22')
    expect(fmtWhen(new Date(2026, 10, 22, 9, 5), 'en')).toMatch(/22.* 09:05$/)
  })

  it('lists only areas that have units', () => {
    const areas = [
      { id: 'a', name: '东街道' },
      { id: 'b', name: '西街道' },
    ]
    expect(areasOf(areas, [{ id: 's1', area_id: 'a' }, { id: 's2', area_id: 'a' }])).toEqual([{ id: 'a', name: '东街道', units: 2 }])
  })
})
