import { createRouter, createWebHistory } from 'vue-router'
import { useAuth } from './stores/auth.js'
import { can, homeFor } from './lib/roles.js'

const routes = [
  { path: '/login', name: 'login', component: () => import('./views/Login.vue'), meta: { public: true } },
  { path: '/', redirect: () => '/queue' },
  { path: '/queue', name: 'queue', component: () => import('./views/Queue.vue'), meta: { section: 'queue' } },
  { path: '/queue/:id', name: 'entry', component: () => import('./views/Entry.vue'), meta: { section: 'queue' } },
  { path: '/bookings', name: 'bookings', component: () => import('./views/Bookings.vue'), meta: { section: 'handoff' } },
  { path: '/referrals', name: 'referrals', component: () => import('./views/Referrals.vue'), meta: { section: 'referrals' } },
  { path: '/persons/:id', name: 'person', component: () => import('./views/Person.vue'), meta: { section: 'queue' } },
  { path: '/campaigns', name: 'campaigns', component: () => import('./views/Campaigns.vue'), meta: { section: 'campaigns' } },
  { path: '/campaigns/:id', name: 'campaign', component: () => import('./views/Campaign.vue'), meta: { section: 'campaigns' } },
  { path: '/stats', name: 'stats', component: () => import('./views/Stats.vue'), meta: { section: 'stats' } },
  { path: '/admin/units', name: 'units', component: () => import('./views/Units.vue'), meta: { section: 'admin' } },
  { path: '/admin/staff', name: 'staff', component: () => import('./views/Staff.vue'), meta: { section: 'admin' } },
  { path: '/admin/audit', name: 'audit', component: () => import('./views/Audit.vue'), meta: { section: 'admin' } },
  { path: '/admin/notify', name: 'notify', component: () => import('./views/NotifySettings.vue'), meta: { section: 'admin' } },
  { path: '/admin/notifications', name: 'dead-letters', component: () => import('./views/DeadLetters.vue'), meta: { section: 'admin' } },
  { path: '/instruments', name: 'instruments', component: () => import('./views/Instruments.vue'), meta: { section: 'instruments' } },
  { path: '/instruments/edit', name: 'instrument-editor', component: () => import('./views/InstrumentEditor.vue'), meta: { section: 'instruments' } },
  { path: '/:rest(.*)*', redirect: '/' },
]

export function makeRouter() {
  const router = createRouter({ history: createWebHistory('/console/'), routes })
  router.beforeEach(async (to) => {
    const auth = useAuth()
    if (!auth.checked) await auth.load()
    if (to.meta.public) return true
    if (!auth.signedIn || auth.mustChange) return { name: 'login', query: { next: to.fullPath } }
    if (to.meta.section && !can(auth.role, to.meta.section)) {
      const home = homeFor(auth.role)
      return to.path === home ? true : home
    }
    return true
  })
  return router
}
