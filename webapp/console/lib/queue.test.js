import { describe, it, expect } from 'vitest'
import { sortQueue, merge, countdown, isOverdue, matches } from './queue.js'

const e = (id, level, created, extra = {}) => ({ id, level, state: 'open', created_at: created, due_at: '2026-01-01T01:00:00Z', updated_at: created, ...extra })

describe('queue', () => {
  it('sorts by level, then age', () => {
    const list = sortQueue([e('a', 2, '2026-01-01T00:00:00Z'), e('b', 1, '2026-01-01T00:05:00Z'), e('c', 1, '2026-01-01T00:01:00Z')])
    expect(list.map((x) => x.id)).toEqual(['c', 'b', 'a'])
  })
  it('merges a new entry and reports it as new', () => {
    const { list, isNew } = merge([e('a', 2, 't1')], e('b', 1, 't2'), {})
    expect(isNew).toBe(true)
    expect(list.map((x) => x.id)).toEqual(['b', 'a'])
  })
  it('replaces a changed entry in place', () => {
    const { list, isNew } = merge([e('a', 2, 't1')], e('a', 2, 't1', { state: 'claimed', updated_at: 't3' }), {})
    expect(isNew).toBe(false)
    expect(list).toHaveLength(1)
    expect(list[0].state).toBe('claimed')
  })
  it('ignores an event older than what is shown', () => {
    const cur = [e('a', 2, 't1', { state: 'claimed', updated_at: 't5' })]
    const { list } = merge(cur, e('a', 2, 't1', { state: 'open', updated_at: 't2' }), {})
    expect(list[0].state).toBe('claimed')
  })
  it('drops an entry that no longer passes the filters', () => {
    const { list } = merge([e('a', 1, 't1')], e('a', 1, 't1', { state: 'closed', updated_at: 't9' }), { states: ['open', 'claimed'] })
    expect(list).toEqual([])
  })
  it('filters by level', () => {
    expect(matches(e('a', 3, 't'), { levels: [1, 2] })).toBe(false)
    expect(matches(e('a', 1, 't'), { levels: [1, 2] })).toBe(true)
  })
  it('counts down to the due time and marks overdue', () => {
    const due = '2026-01-01T01:00:00Z'
    expect(countdown(due, Date.parse('2026-01-01T00:00:00Z'))).toEqual({ text: '1:00:00', overdue: false })
    expect(countdown(due, Date.parse('2026-01-01T00:58:55Z'))).toEqual({ text: '0:01:05', overdue: false })
    expect(countdown(due, Date.parse('2026-01-01T01:00:30Z'))).toEqual({ text: '-0:00:30', overdue: true })
  })
  it('is overdue only while open or claimed', () => {
    const late = Date.parse('2026-01-01T02:00:00Z')
    expect(isOverdue(e('a', 1, 't'), late)).toBe(true)
    expect(isOverdue(e('a', 1, 't', { state: 'referred' }), late)).toBe(false)
  })
})
