import { defineStore } from 'pinia'
import { api, setCsrf } from '../lib/api.js'

export const useAuth = defineStore('auth', {
  state: () => ({ staff: null, checked: false }),
  getters: {
    role: (s) => s.staff?.role || '',
    signedIn: (s) => !!s.staff,
    mustChange: (s) => !!s.staff?.must_change_password,
  },
  actions: {
    // load asks the server who is signed in (the cookie is HttpOnly, so
    // this is the only way to know after a reload).
    async load() {
      try {
        const r = await api('GET', '/auth/me', undefined, { quiet401: true })
        this.staff = r.staff
        setCsrf(r.csrf)
      } catch {
        this.staff = null
      }
      this.checked = true
    },
    async login(login, password) {
      const r = await api('POST', '/auth/login', { login, password }, { quiet401: true })
      this.staff = r.staff
      this.checked = true
      setCsrf(r.csrf)
      return r.staff
    },
    async changePassword(oldPassword, newPassword) {
      await api('POST', '/auth/password', { old_password: oldPassword, new_password: newPassword })
      await this.load()
    },
    async logout() {
      try {
        await api('POST', '/auth/logout', undefined, { quiet401: true })
      } catch {
        // signed out either way
      }
      this.staff = null
      setCsrf('')
    },
    forget() {
      this.staff = null
      setCsrf('')
    },
  },
})
