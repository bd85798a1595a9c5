import { createI18n } from 'vue-i18n'
import zhCN from './locales/zh-CN.js'
import en from './locales/en.js'

export const messages = { 'zh-CN': zhCN, en }

export function makeI18n(locale) {
  return createI18n({ legacy: false, locale, fallbackLocale: 'zh-CN', messages })
}

// errorKey maps an API error to a message key the respondent can read.
export function errorKey(e) {
  const code = e?.offline ? 'offline' : e?.code
  return code && code in zhCN.errors ? `errors.${code}` : 'errors.generic'
}
