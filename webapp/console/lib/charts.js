// Only the ECharts parts the console draws with, so the bundle carries
// neither maps nor the dozens of chart types it never shows.
import { use } from 'echarts/core'
import { CanvasRenderer } from 'echarts/renderers'
import { LineChart, BarChart, RadarChart } from 'echarts/charts'
import { GridComponent, TooltipComponent, LegendComponent, MarkLineComponent, MarkAreaComponent, TitleComponent, RadarComponent } from 'echarts/components'

use([CanvasRenderer, LineChart, BarChart, RadarChart, GridComponent, TooltipComponent, LegendComponent, MarkLineComponent, MarkAreaComponent, TitleComponent, RadarComponent])

export { default as VChart } from 'vue-echarts'
