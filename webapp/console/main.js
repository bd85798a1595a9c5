import { createApp } from 'vue'
import { createPinia } from 'pinia'
import ElementPlus from 'element-plus'
import 'element-plus/dist/index.css'
import App from './App.vue'
import { makeRouter } from './router.js'
import { i18n } from './i18n.js'
import { onUnauthorized } from './lib/api.js'
import { useAuth } from './stores/auth.js'

const app = createApp(App)
const pinia = createPinia()
app.use(pinia)
const router = makeRouter()
app.use(router)
app.use(i18n)
app.use(ElementPlus)

// A 401 anywhere (expired or revoked sign-in) returns to sign-in, and
// back to the same screen afterwards.
onUnauthorized(() => {
  useAuth(pinia).forget()
  const cur = router.currentRoute.value
  if (cur.name !== 'login') router.replace({ name: 'login', query: { next: cur.fullPath } })
})

app.mount('#app')
