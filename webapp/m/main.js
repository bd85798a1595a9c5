import { createApp } from 'vue'
import { createPinia } from 'pinia'
import 'vant/es/style/base.css'
import './theme.css'
import App from './App.vue'
import { makeRouter } from './router.js'
import { makeI18n } from './i18n.js'
import { useSettings, useSession, applyElder } from './stores.js'
import { api } from './api.js'
import { wechatRedirect } from './wechat.js'

const pinia = createPinia()
const app = createApp(App).use(pinia)
const settings = useSettings()
applyElder(settings.elder)
document.documentElement.lang = settings.locale
app.use(makeI18n(settings.locale))
app.use(makeRouter())
// Start the answer queue on every page, so answers saved on the phone
// before a reload reach the server wherever the respondent lands.
useSession().queue()

// The server's settings decide WeChat sign-in and the hotline; without
// them the H5 still works anonymously, so a failure only logs.
api
  .config()
  .then((cfg) => {
    settings.config = cfg
    wechatRedirect(cfg, window.location, sessionStorage)
  })
  .catch(() => {})

app.mount('#app')
