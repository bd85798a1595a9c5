import { describe, it, expect } from 'vitest'
import { byInstrument, mainScore, trendOption, profileOption, isMultiScore } from './person.js'

const res = [
  { instrument: 'phq9', at: '2026-01-01T00:00:00Z', scores: { total: 20 }, bands: { total: 'severe' } },
  { instrument: 'dass21', at: '2026-01-02T00:00:00Z', scores: { depression: 10, anxiety: 6, stress: 14 }, bands: {} },
  { instrument: 'phq9', at: '2026-03-01T00:00:00Z', scores: { total: 8 }, bands: { total: 'mild' } },
]

describe('person charts', () => {
  it('groups results by instrument in order', () => {
    const g = byInstrument(res)
    expect([...g.keys()]).toEqual(['phq9', 'dass21'])
    expect(g.get('phq9').map((r) => r.scores.total)).toEqual([20, 8])
  })
  it('follows the total, or the only score', () => {
    expect(mainScore(byInstrument(res).get('phq9'))).toBe('total')
    expect(mainScore(byInstrument(res).get('dass21'))).toBe(null)
    expect(mainScore([{ scores: { risk: 1 } }])).toBe('risk')
  })
  it('plots a line point per wave with its band', () => {
    const o = trendOption(byInstrument(res).get('phq9'), 'total')
    expect(o.series[0].data).toEqual([
      ['2026-01-01T00:00:00Z', 20, 'severe'],
      ['2026-03-01T00:00:00Z', 8, 'mild'],
    ])
  })
  it('keeps a single result off the time axis edge, where it would be clipped', () => {
    const one = trendOption([res[0]], 'total')
    const t = Date.parse(res[0].at)
    expect(one.xAxis.min).toBeLessThan(t)
    expect(one.xAxis.max).toBeGreaterThan(t)
    expect(one.series[0].showSymbol).toBe(true)
    // Two waves span the axis themselves.
    expect(trendOption(byInstrument(res).get('phq9'), 'total').xAxis.min).toBeUndefined()
  })
  it('draws a profile of the sub-scores', () => {
    const d = byInstrument(res).get('dass21')
    expect(isMultiScore(d)).toBe(true)
    expect(isMultiScore(byInstrument(res).get('phq9'))).toBe(false)
    const o = profileOption(d[0])
    expect(o.xAxis.data).toEqual(['depression', 'anxiety', 'stress'])
    expect(o.series[0].data).toEqual([10, 6, 14])
  })
})
