// Turning a person record's results into chart series.

// byInstrument groups results (oldest first, as the API sends them) per
// instrument.
export function byInstrument(results) {
  const out = new Map()
  for (const r of results || []) {
    if (!out.has(r.instrument)) out.set(r.instrument, [])
    out.get(r.instrument).push(r)
  }
  return out
}

// mainScore picks the score a trend line follows: "total" when there is
// one, else the only score; multi-score instruments without a total get a
// profile chart instead.
export function mainScore(results) {
  const keys = new Set(results.flatMap((r) => Object.keys(r.scores || {})))
  if (keys.has('total')) return 'total'
  return keys.size === 1 ? [...keys][0] : null
}

// trendOption is the ECharts option for one instrument's line over time,
// each point labelled with its band.
export function trendOption(results, score, { title = '', bandLabel = (b) => b, scoreLabel = (s) => s } = {}) {
  const data = results.filter((r) => r.scores && score in r.scores).map((r) => [r.at, r.scores[score], r.bands?.[score] || ''])
  // One result, or several at one moment, gives the time axis no span of
  // its own: ECharts then puts the point on the axis's edge, where it is
  // clipped away. A day either side keeps it in view.
  const times = data.map((d) => Date.parse(d[0])).filter((t) => !Number.isNaN(t))
  const day = 24 * 3600 * 1000
  const flat = times.length > 0 && Math.max(...times) === Math.min(...times)
  return {
    title: { text: title, textStyle: { fontSize: 14 } },
    tooltip: {
      trigger: 'axis',
      formatter: (ps) => ps.map((p) => `${p.axisValueLabel}<br/>${scoreLabel(score)}: ${p.data[1]}（${bandLabel(p.data[2])}）`).join('<br/>'),
    },
    grid: { left: 40, right: 20, top: 40, bottom: 30 },
    xAxis: flat ? { type: 'time', min: times[0] - day, max: times[0] + day } : { type: 'time' },
    yAxis: { type: 'value', minInterval: 1 },
    series: [
      {
        type: 'line',
        name: scoreLabel(score),
        symbolSize: 8,
        showSymbol: true,
        clip: false,
        data,
      },
    ],
  }
}

// profileOption draws the latest result's scores side by side (DASS-21's
// three scales, RIASEC's six types, Mini-IPIP's five traits).
export function profileOption(result, { title = '', scoreLabel = (s) => s } = {}) {
  const keys = Object.keys(result.scores || {}).filter((k) => k !== 'total')
  return {
    title: { text: title, textStyle: { fontSize: 14 } },
    tooltip: {},
    grid: { left: 40, right: 20, top: 40, bottom: 50 },
    xAxis: { type: 'category', data: keys.map(scoreLabel), axisLabel: { interval: 0, rotate: keys.length > 5 ? 30 : 0 } },
    yAxis: { type: 'value' },
    series: [{ type: 'bar', data: keys.map((k) => result.scores[k]), itemStyle: { color: '#2b5f9e' } }],
  }
}

export function isMultiScore(results) {
  const last = results[results.length - 1]
  return Object.keys(last?.scores || {}).filter((k) => k !== 'total').length > 1
}
