import { describe, it, expect } from 'vitest'
import { cell, buildTree, monthOf } from './format.js'

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
  it('formats a month', () => {
    expect(monthOf(new Date(2026, 0, 5))).toBe('2026-01')
  })
})
