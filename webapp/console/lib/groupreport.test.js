import { describe, it, expect } from 'vitest'
import { levelChart, scoreChart, compareChart, cell, rate, scoreNames } from './groupreport.js'

const labels = { l1: '一级预警', l2: '二级预警', l3: '三级预警', none: '无预警' }

describe('group report charts', () => {
  it('labels levels from the locale and draws a withheld count as "—", not zero', () => {
    const opt = levelChart({ l1: null, l2: 6, l3: 0, none: 40 }, labels)
    expect(opt.xAxis.data).toEqual(['一级预警', '二级预警', '三级预警', '无预警'])
    const d = opt.series[0].data
    expect(d[0].raw).toBe(null)
    expect(d[0].label.formatter).toBe('—')
    expect(d[1].label.formatter).toBe('{c}')
  })
  it('draws bands with their document labels, in order, coloured by level', () => {
    const opt = scoreChart({ bands: [{ code: 'minimal', label: '无', level: 0, count: 9 }, { code: 'severe', label: '重度', level: 2, count: null }] }, '抑郁')
    expect(opt.xAxis.data).toEqual(['无', '重度'])
    expect(JSON.stringify(opt)).not.toContain('minimal')
    expect(opt.series[0].data[1].label.formatter).toBe('—')
  })
  it('stacks groups by level', () => {
    const opt = compareChart([{ name: '男', levels: { l1: null, l2: 5, l3: 0, none: 20 } }], labels)
    expect(opt.series).toHaveLength(4)
    expect(opt.series[0].label.formatter({ data: { raw: null } })).toBe('—')
  })
  it('formats cells and rates', () => {
    expect(cell(null)).toBe('—')
    expect(cell(3)).toBe('3')
    expect(cell(2.456)).toBe('2.46')
    expect(rate(1, 4)).toBe('25.0%')
    expect(rate(null, 4)).toBe('—')
  })
  it('names scores by instrument title and score label', () => {
    expect(scoreNames({ instruments: [{ instrument: 'phq9', title: 'PHQ-9', scores: [{ score: 'total', label: '总分' }] }] })).toEqual({ 'phq9/total': 'PHQ-9 · 总分' })
  })
})
