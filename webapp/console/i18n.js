import { createI18n } from 'vue-i18n'
import zhCN from './locales/zh-CN.js'
import en from './locales/en.js'

const saved = globalThis.localStorage?.getItem('xinling.console.locale')
const initial = saved === 'en' ? 'en' : 'zh-CN'
if (globalThis.document) document.documentElement.lang = initial

export const i18n = createI18n({ legacy: false, locale: initial, fallbackLocale: 'zh-CN', messages: { 'zh-CN': zhCN, en } })

export function setLocale(l) {
  i18n.global.locale.value = l
  globalThis.localStorage?.setItem('xinling.console.locale', l)
  document.documentElement.lang = l
}
