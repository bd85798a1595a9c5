import { createRouter, createWebHistory } from 'vue-router'
import Catalogue from './views/Catalogue.vue'

export const routes = [
  { path: '/', name: 'catalogue', component: Catalogue },
  { path: '/code', name: 'code', component: () => import('./views/Code.vue') },
  { path: '/consent', name: 'consent', component: () => import('./views/Consent.vue') },
  { path: '/take', name: 'take', component: () => import('./views/Take.vue') },
  { path: '/done', name: 'done', component: () => import('./views/Done.vue') },
  { path: '/crisis', name: 'crisis', component: () => import('./views/Crisis.vue') },
  { path: '/mine', name: 'mine', component: () => import('./views/Mine.vue') },
  { path: '/book', name: 'book', component: () => import('./views/Book.vue') },
  { path: '/preview/:instrument', name: 'preview', component: () => import('./views/Preview.vue') },
  { path: '/:rest(.*)*', redirect: '/' },
]

export function makeRouter(history = createWebHistory('/m/')) {
  const router = createRouter({ history, routes, scrollBehavior: () => ({ top: 0 }) })
  // A QR slip links to /m/?code=XXXXXXXX: open the code screen, filled in.
  router.beforeEach((to) => {
    if (to.name === 'catalogue' && typeof to.query.code === 'string' && to.query.code) {
      return { name: 'code', query: { code: to.query.code } }
    }
  })
  return router
}
