// Campaign report helpers: band distribution charts with withheld counts.

// bandChart draws one group's band counts for one score. A count the API
// withheld (null: under 5 people, or one that would give such a count
// back) is drawn as an empty bar labelled "—", so the chart never implies
// a zero.
export function bandChart(stats, { title = '', bandLabel = (b) => b, withheld = '—' } = {}) {
  const bands = Object.keys(stats.bands || {})
  return {
    title: { text: title, textStyle: { fontSize: 14 } },
    tooltip: { formatter: (p) => `${p.name}: ${p.data.raw === null ? withheld : p.data.raw}` },
    grid: { left: 40, right: 20, top: 40, bottom: 40 },
    xAxis: { type: 'category', data: bands.map(bandLabel), axisLabel: { interval: 0 } },
    yAxis: { type: 'value', minInterval: 1 },
    series: [
      {
        type: 'bar',
        data: bands.map((b) => ({ value: stats.bands[b] ?? 0, raw: stats.bands[b], label: { show: true, position: 'top', formatter: stats.bands[b] === null ? withheld : '{c}' } })),
        itemStyle: { color: '#2b5f9e' },
      },
    ],
  }
}

// progressChart stacks finished / in progress / not started per class.
export function progressChart(classes, labels) {
  return {
    // Redrawn on every poll: growing the bars from zero each time would
    // make the counts look as if they dropped and refilled.
    animation: false,
    tooltip: { trigger: 'axis' },
    legend: { top: 0, data: [labels.finished, labels.in_progress, labels.not_started] },
    grid: { left: 40, right: 20, top: 40, bottom: 30 },
    xAxis: { type: 'category', data: classes.map((c) => c.name) },
    yAxis: { type: 'value', minInterval: 1 },
    series: [
      { name: labels.finished, type: 'bar', stack: 'n', data: classes.map((c) => c.finished), itemStyle: { color: '#1e7d32' } },
      { name: labels.in_progress, type: 'bar', stack: 'n', data: classes.map((c) => c.in_progress), itemStyle: { color: '#e8a33d' } },
      { name: labels.not_started, type: 'bar', stack: 'n', data: classes.map((c) => c.not_started), itemStyle: { color: '#b0b7c3' } },
    ],
  }
}

export function totals(classes) {
  return classes.reduce((a, c) => ({ finished: a.finished + c.finished, in_progress: a.in_progress + c.in_progress, not_started: a.not_started + c.not_started }), { finished: 0, in_progress: 0, not_started: 0 })
}
