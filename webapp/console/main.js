import { createApp, h } from 'vue'
createApp({ render: () => h('p', '心灵 console') }).mount('#app')
