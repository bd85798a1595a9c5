import { describe, it, expect } from 'vitest'
import { callbackActions, waiting, bookingActions, slotBody } from './handoff.js'

describe('hand-off rules on the console', () => {
  it('offers the call-back moves the server allows', () => {
    expect(callbackActions('requested')).toEqual(['called', 'unreachable', 'done'])
    expect(callbackActions('unreachable')).toEqual(['called', 'unreachable', 'done'])
    expect(callbackActions('called')).toEqual(['done'])
    expect(callbackActions('done')).toEqual([])
    expect([waiting({ state: 'requested' }), waiting({ state: 'unreachable' }), waiting({ state: 'called' })]).toEqual([true, true, false])
  })

  it('asks whether the resident came only once the slot has begun', () => {
    const starts = '2026-11-24T01:00:00Z'
    const before = Date.parse(starts) - 1
    const after = Date.parse(starts) + 1
    expect(bookingActions({ state: 'booked', starts_at: starts }, before)).toEqual(['cancelled'])
    expect(bookingActions({ state: 'booked', starts_at: starts }, after)).toEqual(['kept', 'no_show', 'cancelled'])
    expect(bookingActions({ state: 'kept', starts_at: starts }, after)).toEqual(['no_show'])
    expect(bookingActions({ state: 'no_show', starts_at: starts }, after)).toEqual(['kept'])
    expect(bookingActions({ state: 'cancelled', starts_at: starts }, after)).toEqual([])
  })

  it('builds the slot body from start and length', () => {
    expect(slotBody({ unit_id: 'st', start: '2026-11-24T01:00:00Z', minutes: 50, capacity: '3', location: ' 二楼 ' })).toEqual({
      unit_id: 'st',
      starts_at: '2026-11-24T01:00:00.000Z',
      ends_at: '2026-11-24T01:50:00.000Z',
      capacity: 3,
      location: '二楼',
    })
  })
})
