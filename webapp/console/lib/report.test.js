import { describe, it, expect } from 'vitest'
import { bandChart, progressChart, totals } from './report.js'

describe('report charts', () => {
  it('draws a withheld count as an empty bar labelled —', () => {
    const o = bandChart({ bands: { minimal: 7, severe: null } })
    expect(o.xAxis.data).toEqual(['minimal', 'severe'])
    expect(o.series[0].data.map((d) => d.value)).toEqual([7, 0])
    expect(o.series[0].data[1].label.formatter).toBe('—')
    expect(o.tooltip.formatter({ name: 'severe', data: o.series[0].data[1] })).toBe('severe: —')
  })
  it('stacks progress per class and totals it', () => {
    const cls = [
      { name: 'A', finished: 1, in_progress: 2, not_started: 3 },
      { name: 'B', finished: 4, in_progress: 0, not_started: 1 },
    ]
    const o = progressChart(cls, { finished: 'f', in_progress: 'i', not_started: 'n' })
    expect(o.series[0].data).toEqual([1, 4])
    expect(totals(cls)).toEqual({ finished: 5, in_progress: 2, not_started: 4 })
  })
})
