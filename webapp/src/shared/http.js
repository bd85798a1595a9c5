// The one way both pages talk to /api/v1. Errors from the API arrive as
// {"error":{"code","message","field"}}; they become ApiError so screens can
// branch on the machine-readable code and show the human message.
export class ApiError extends Error {
  constructor(status, code, message, field) {
    super(message || code)
    this.status = status
    this.code = code
    this.field = field
  }
  // offline is true when the request never reached the server: the caller
  // should keep the work and retry, not show a failure.
  get offline() {
    return this.status === 0
  }
}

export async function request(method, path, body, { token, headers = {}, fetchImpl = globalThis.fetch } = {}) {
  const h = { Accept: 'application/json', ...headers }
  if (body !== undefined) h['Content-Type'] = 'application/json'
  if (token) h.Authorization = `Bearer ${token}`
  let resp
  try {
    resp = await fetchImpl(`/api/v1${path}`, {
      method,
      headers: h,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
    })
  } catch (e) {
    throw new ApiError(0, 'offline', e?.message || 'network unreachable')
  }
  const text = await resp.text()
  let data = null
  if (text) {
    try {
      data = JSON.parse(text)
    } catch {
      data = null
    }
  }
  if (!resp.ok) {
    const err = data?.error || {}
    const ae = new ApiError(resp.status, err.code || `http_${resp.status}`, err.message || resp.statusText, err.field)
    ae.body = data // the rest of the answer (an instrument checker's report)
    throw ae
  }
  return data
}
