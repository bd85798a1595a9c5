// Group report helpers (issue 17): the charts of a campaign's report. Every
// label comes from the report (instrument documents) or the caller's
// locale strings; a count the API withheld (null) is drawn as an empty bar
// labelled "—", never as a zero.

export const LEVEL_KEYS = ['l1', 'l2', 'l3', 'none']
export const LEVEL_COLORS = { l1: '#c62828', l2: '#ef6c00', l3: '#f9a825', none: '#1e7d32' }
const BAND_COLORS = { 0: '#2b5f9e', 1: '#c62828', 2: '#ef6c00', 3: '#f9a825' }

function bar(value, withheld) {
  return { value: value ?? 0, raw: value, label: { show: true, position: 'top', formatter: value === null ? withheld : '{c}' } }
}

// levelChart draws participants by warning level.
export function levelChart(levels, labels, withheld = '—') {
  return {
    tooltip: { formatter: (p) => `${p.name}: ${p.data.raw === null ? withheld : p.data.raw}` },
    grid: { left: 40, right: 20, top: 20, bottom: 30 },
    xAxis: { type: 'category', data: LEVEL_KEYS.map((k) => labels[k]) },
    yAxis: { type: 'value', minInterval: 1 },
    series: [{ type: 'bar', data: LEVEL_KEYS.map((k) => ({ ...bar(levels?.[k], withheld), itemStyle: { color: LEVEL_COLORS[k] } })) }],
  }
}

// scoreChart draws one score's band distribution in the document's order,
// each bar coloured by the warning level its band raises.
export function scoreChart(score, title, withheld = '—') {
  return {
    title: { text: title, textStyle: { fontSize: 14 } },
    tooltip: { formatter: (p) => `${p.name}: ${p.data.raw === null ? withheld : p.data.raw}` },
    grid: { left: 40, right: 20, top: 40, bottom: 50 },
    xAxis: { type: 'category', data: score.bands.map((b) => b.label), axisLabel: { interval: 0, width: 90, overflow: 'break' } },
    yAxis: { type: 'value', minInterval: 1 },
    series: [{ type: 'bar', data: score.bands.map((b) => ({ ...bar(b.count, withheld), itemStyle: { color: BAND_COLORS[b.level] || BAND_COLORS[0] } })) }],
  }
}

// compareChart stacks each group's participants by level (grades, sexes).
export function compareChart(rows, labels, withheld = '—') {
  return {
    tooltip: { trigger: 'axis' },
    legend: { top: 0, data: LEVEL_KEYS.map((k) => labels[k]) },
    grid: { left: 40, right: 20, top: 40, bottom: 30 },
    xAxis: { type: 'category', data: rows.map((r) => r.name) },
    yAxis: { type: 'value', minInterval: 1 },
    series: LEVEL_KEYS.map((k) => ({
      name: labels[k], type: 'bar', stack: 'n', itemStyle: { color: LEVEL_COLORS[k] },
      data: rows.map((r) => ({ value: r.levels[k] ?? 0, raw: r.levels[k] })),
      label: { show: true, formatter: (p) => (p.data.raw === null ? withheld : p.data.raw || '') },
    })),
  }
}

// cell shows a possibly withheld count or figure.
export function cell(v, withheld = '—') {
  if (v === null || v === undefined) return withheld
  return typeof v === 'number' && !Number.isInteger(v) ? v.toFixed(2) : String(v)
}

// rate is n out of of as a percentage, or "—" when either is withheld.
export function rate(n, of) {
  if (n === null || n === undefined || !of) return '—'
  return `${((100 * n) / of).toFixed(1)}%`
}

// scoreName names a group mean's score from the report's instruments.
export function scoreNames(report) {
  const out = {}
  for (const inst of report.instruments || []) {
    for (const s of inst.scores) out[`${inst.instrument}/${s.score}`] = `${inst.title} · ${s.label}`
  }
  return out
}
