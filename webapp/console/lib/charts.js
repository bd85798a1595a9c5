// Only the ECharts parts the console draws with, so the bundle carries
// neither maps nor the dozens of chart types it never shows.
//
// Charts render to SVG, not canvas: their titles, axis labels and legends
// are then text in the page, which screen readers, copy and paste, and the
// end-to-end tests' raw-code scan (webapp/e2e/rawcodes.mjs) all read.
import { h } from 'vue'
import { use } from 'echarts/core'
import { SVGRenderer } from 'echarts/renderers'
import { LineChart, BarChart, RadarChart } from 'echarts/charts'
import { GridComponent, TooltipComponent, LegendComponent, MarkLineComponent, MarkAreaComponent, TitleComponent, RadarComponent } from 'echarts/components'
import ECharts from 'vue-echarts'

use([SVGRenderer, LineChart, BarChart, RadarChart, GridComponent, TooltipComponent, LegendComponent, MarkLineComponent, MarkAreaComponent, TitleComponent, RadarComponent])

const initOptions = { renderer: 'svg' }

// VChart is vue-echarts' chart on the SVG renderer; every attribute
// (option, autoresize, class…) passes through.
export const VChart = (_, { attrs }) => h(ECharts, { initOptions, ...attrs })
VChart.inheritAttrs = false
