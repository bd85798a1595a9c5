import { createApp, h } from 'vue'
createApp({ render: () => h('p', '心灵 H5') }).mount('#app')
