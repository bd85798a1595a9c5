import { describe, it, expect } from 'vitest'
import { cell, buildTree, monthOf, fmtRange } from './format.js'

describe('format', () => {
  it('shows a withheld count as a dash', () => {
    expect(cell(null)).toBe('—')
    expect(cell(0)).toBe('0')
  })
  it('builds a tree with out-of-scope parents as roots', () => {
    const t = buildTree([
      { id: 'school', parent_id: 'county' },
      { id: 'g7', parent_id: 'school' },
      { id: 'c1', parent_id: 'g7' },
    ])
    expect(t.map((n) => n.id)).toEqual(['school'])
    expect(t[0].children[0].children[0].id).toBe('c1')
  })
  it('shows a window with its start and end', () => {
    const s = fmtRange(new Date(2026, 10, 22, 14, 0), new Date(2026, 10, 22, 18, 30), 'zh-CN')
    expect(s).toMatch(/14:00–18:30$/)
    expect(fmtRange('', '2026-11-22T10:00:00Z')).toBe('—')
  })
  it('formats a month', () => {
    expect(monthOf(new Date(2026, 0, 5))).toBe('2026-01')
  })
})
