import { describe, it, expect, vi } from 'vitest'
import { mount, flushPromises } from '@vue/test-utils'
import { createPinia } from 'pinia'
import { makeI18n } from '../i18n.js'

// The WeChat side's contract: GET /me/sessions -> {sessions: [{id, instrument,
// title, submitted_at, summary: {label, feedback} | null}]}.
vi.mock('../api.js', () => ({
  api: {
    mySessions: async () => ({
      sessions: [
        { id: 'a', instrument: 'phq9', title: '抑郁筛查', submitted_at: '2026-11-20T08:00:00Z', summary: { label: '轻度', feedback: '多休息' } },
        { id: 'b', instrument: 'gad7', title: '焦虑筛查', submitted_at: '2026-11-21T08:00:00Z', summary: null },
      ],
    }),
  },
}))

describe('my tests', () => {
  it('shows each result with its summary, or only "completed" when there is none', async () => {
    const { default: Mine } = await import('./Mine.vue')
    const w = mount(Mine, { global: { plugins: [createPinia(), makeI18n('zh-CN')] } })
    await flushPromises()
    const cards = w.findAll('li.xl-card')
    expect(cards).toHaveLength(2)
    expect(cards[0].text()).toContain('抑郁筛查')
    expect(cards[0].text()).toContain('轻度')
    expect(cards[0].text()).toContain('多休息')
    expect(cards[1].text()).toContain('焦虑筛查')
    expect(cards[1].text()).toContain('已完成')
  })
})
