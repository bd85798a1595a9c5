import { defineStore } from 'pinia'
import { api } from '../lib/api.js'

// The caller's org subtree, loaded once and used to name units everywhere.
export const useUnits = defineStore('units', {
  state: () => ({ list: [], loaded: false }),
  getters: {
    byId: (s) => Object.fromEntries(s.list.map((u) => [u.id, u])),
  },
  actions: {
    async load(force = false) {
      if (this.loaded && !force) return this.list
      const r = await api('GET', '/units')
      this.list = r.units
      this.loaded = true
      return this.list
    },
    name(id) {
      return this.byId[id]?.name || id
    },
  },
})
