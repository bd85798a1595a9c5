// The console's client: the shared fetch wrapper plus what staff sessions
// need. The CSRF token from sign-in goes on every state-changing request,
// and a 401 anywhere sends the user back to sign-in (keeping the target).
import { request, ApiError } from '@shared/http.js'

const state = { csrf: '', onUnauthorized: null }

export function setCsrf(token) {
  state.csrf = token || ''
}

export function onUnauthorized(fn) {
  state.onUnauthorized = fn
}

function headersFor(method) {
  return method === 'GET' || method === 'HEAD' ? {} : { 'X-CSRF-Token': state.csrf }
}

function locale() {
  return globalThis.document?.documentElement?.lang === 'en' ? 'en' : 'zh-CN'
}

export async function api(method, path, body, opts = {}) {
  try {
    return await request(method, path, body, {
      ...opts,
      headers: { 'Accept-Language': locale(), ...headersFor(method), ...(opts.headers || {}) },
    })
  } catch (e) {
    if (e instanceof ApiError && e.status === 401 && !opts.quiet401) state.onUnauthorized?.()
    throw e
  }
}

// upload posts a multipart form (roster files); the shared wrapper only
// speaks JSON, so this builds the request itself and decodes errors the
// same way, keeping the 422 body (roster problems) on the error.
export async function upload(path, form, { fetchImpl = globalThis.fetch } = {}) {
  let resp
  try {
    resp = await fetchImpl(`/api/v1${path}`, {
      method: 'POST',
      body: form,
      credentials: 'same-origin',
      headers: { Accept: 'application/json', 'X-CSRF-Token': state.csrf },
    })
  } catch (e) {
    throw new ApiError(0, 'offline', e?.message || 'network unreachable')
  }
  const data = await resp.json().catch(() => null)
  if (!resp.ok) {
    const err = data?.error || {}
    const ae = new ApiError(resp.status, err.code || `http_${resp.status}`, err.message || resp.statusText, err.field)
    ae.body = data
    if (resp.status === 401) state.onUnauthorized?.()
    throw ae
  }
  return data
}

// qs builds a query string from the non-empty values.
export function qs(params) {
  const p = new URLSearchParams()
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null || v === '' || (Array.isArray(v) && v.length === 0)) continue
    p.set(k, Array.isArray(v) ? v.join(',') : String(v))
  }
  const s = p.toString()
  return s ? `?${s}` : ''
}

export { ApiError }
