import { describe, it, expect, vi } from 'vitest'
import { mount, flushPromises } from '@vue/test-utils'
import { createPinia } from 'pinia'
import { makeI18n } from '../i18n.js'

// GET /me/sessions as docs/api.md gives it: bands only where the visibility
// allows, result null otherwise, crisis when a level-1 warning was raised.
const cancelled = []
vi.mock('../api.js', () => ({
  api: {
    myHandoffs: async () => ({
      callbacks: [{ id: 'c1', state: 'requested', phone: '138****8000', preferred_from: '2026-11-22T06:00:00Z', preferred_to: '2026-11-22T10:00:00Z' }],
      bookings: cancelled.length
        ? [{ id: 'b1', state: 'cancelled', unit_name: '东街道心灵驿站', location: '二楼', starts_at: '2026-11-24T01:00:00Z', ends_at: '2026-11-24T02:00:00Z', cancellable: false }]
        : [{ id: 'b1', state: 'booked', unit_name: '东街道心灵驿站', location: '二楼', starts_at: '2026-11-24T01:00:00Z', ends_at: '2026-11-24T02:00:00Z', cancellable: true }],
    }),
    cancelBooking: async (id) => {
      cancelled.push(id)
      return { booking: { id, state: 'cancelled' } }
    },
    mySessions: async () => ({
      sessions: [
        { id: 'a', kind: 'self_test', state: 'submitted', submitted_at: '2026-11-20T08:00:00Z', visibility: 'bands',
          instruments: [{ id: 'phq9', title: '抑郁筛查' }],
          result: { instruments: [{ id: 'phq9', title: '抑郁筛查', bands: { total: { code: 'mild', label: '轻度', feedback: '多休息' } } }] },
          crisis: { hotline: '12356' } },
        { id: 'b', kind: 'campaign', state: 'submitted', submitted_at: '2026-11-21T08:00:00Z', visibility: 'thanks',
          instruments: [{ id: 'gad7', title: '焦虑筛查' }], result: null },
        { id: 'd', kind: 'self_test', state: 'submitted', submitted_at: '2026-11-19T08:00:00Z', visibility: 'bands',
          instruments: [{ id: 'mini_ipip', title: '大五人格' }],
          result: { instruments: [{ id: 'mini_ipip', title: '大五人格', bands: {}, standings: [{ label: '外向性', standing: '偏外向', meaning: '你通常喜欢和人在一起。' }] }] } },
        { id: 'c', kind: 'self_test', state: 'open', created_at: '2026-11-22T08:00:00Z', instruments: [{ id: 'who5', title: '幸福感' }], result: null },
      ],
    }),
  },
}))

describe('my tests', () => {
  it('shows what each visibility allows, the hotline after a crisis, and unfinished tests', async () => {
    const { default: Mine } = await import('./Mine.vue')
    const w = mount(Mine, { global: { plugins: [createPinia(), makeI18n('zh-CN')] } })
    await flushPromises()
    const cards = w.findAll('li.xl-session')
    expect(cards).toHaveLength(4)
    expect(cards[0].text()).toContain('抑郁筛查')
    expect(cards[0].text()).toContain('轻度')
    expect(cards[0].text()).toContain('多休息')
    expect(cards[0].find('a[href="tel:12356"]').exists()).toBe(true)
    expect(cards[1].text()).toContain('焦虑筛查')
    expect(cards[1].text()).toContain('已完成')
    expect(cards[1].text()).not.toContain('轻度')
    // a Big Five self-test shows its standings, not just its title
    expect(cards[2].text()).toContain('外向性：偏外向')
    expect(cards[2].text()).toContain('你通常喜欢和人在一起。')
    expect(cards[2].text()).not.toContain('已完成')
    expect(cards[3].text()).toContain('尚未完成')
  })

  it('lists call-back requests and bookings, and cancels a booking', async () => {
    const { default: Mine } = await import('./Mine.vue')
    const w = mount(Mine, { global: { plugins: [createPinia(), makeI18n('zh-CN')] } })
    await flushPromises()
    const cb = w.find('[data-test="mine-callbacks"]')
    expect(cb.text()).toContain('回电请求')
    expect(cb.text()).toContain('138****8000')
    expect(cb.text()).toContain('等待回电')
    const b = w.find('[data-test="mine-booking-b1"]')
    expect(b.text()).toContain('东街道心灵驿站')
    expect(b.text()).toContain('已预约')
    await w.find('[data-test="mine-cancel-b1"]').trigger('click')
    await flushPromises()
    expect(cancelled).toEqual(['b1'])
    expect(w.find('[data-test="mine-booking-b1"]').text()).toContain('已取消')
    expect(w.find('[data-test="mine-cancel-b1"]').exists()).toBe(false)
    expect(w.text()).toContain('预约已取消')
  })
})
