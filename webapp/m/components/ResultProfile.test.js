import { describe, it, expect } from 'vitest'
import { mount } from '@vue/test-utils'
import { makeI18n } from '../i18n.js'
import ResultProfile from './ResultProfile.vue'

const bigFive = {
  dimensions: [
    { score: 'extraversion', label: '外向性', value: 16, min: 4, max: 20, level: 'high', standing: '偏外向', meaning: '你通常喜欢和人在一起。' },
    { score: 'neuroticism', label: '神经质', value: 4, min: 4, max: 20, level: 'low', standing: '情绪较平稳', meaning: '你的情绪通常比较平稳。' },
  ],
}

function render(result, locale = 'zh-CN') {
  return mount(ResultProfile, { props: { result }, global: { plugins: [makeI18n(locale)] } })
}

describe('profile result', () => {
  it('draws each dimension as a bar on its range, with standing, score and words', () => {
    const w = render(bigFive)
    const e = w.get('[data-test=dimension-extraversion]')
    expect(e.text()).toContain('外向性')
    expect(e.text()).toContain('偏外向')
    expect(e.text()).toContain('得分 16（范围 4–20）')
    expect(e.text()).toContain('你通常喜欢和人在一起。')
    expect(e.get('.xl-bar-fill').attributes('style')).toContain('width: 75%')
    expect(e.get('.xl-bar').attributes('aria-hidden')).toBe('true')
    // the lowest score still shows a sliver, not an empty track
    expect(w.get('[data-test=dimension-neuroticism] .xl-bar-fill').attributes('style')).toContain('width: 2%')
    expect(w.text()).not.toMatch(/extraversion|neuroticism|high|low/)
  })

  it('explains a code letter by letter with fields of study and occupations', () => {
    const w = render({
      dimensions: [{ score: 'S', label: '社会型（S）', value: 40, min: 0, max: 40 }],
      codes: [{ text: 'code', label: '霍兰德兴趣代码', value: 'S', letters: [{ letter: 'S', label: '社会型（S）', meaning: '你喜欢和人打交道。', fields: '教育学', occupations: '教师' }] }],
    })
    expect(w.get('[data-test=code-value]').text()).toBe('S')
    const s = w.get('[data-test=letter-S]').text()
    expect(s).toContain('可以了解的专业方向：教育学')
    expect(s).toContain('相关职业举例：教师')
  })

  it('speaks English when asked', () => {
    expect(render(bigFive, 'en').text()).toContain('Score 16 (range 4–20)')
  })
})
