// Every call the H5 makes to the server, in one place, so the contract with
// the API (docs/api.md) and with the WeChat side can be adjusted at one spot.
import { request, ApiError } from '@shared/http.js'

const q = (params) => {
  const s = new URLSearchParams(Object.entries(params).filter(([, v]) => v !== undefined && v !== null && v !== '')).toString()
  return s ? `?${s}` : ''
}

export const api = {
  catalogue: (locale) => request('GET', `/instruments${q({ locale })}`),
  instrument: (id, locale) => request('GET', `/instruments/${encodeURIComponent(id)}${q({ locale })}`),

  // body: {instrument} | {battery} | {code} | {instrument, follow_up_of}, plus consent and locale.
  // token is the previous session's token when starting a follow-up.
  createSession: (body, token) => request('POST', '/sessions', body, { token }),
  getSession: (id, token, locale) => request('GET', `/sessions/${encodeURIComponent(id)}${q({ locale })}`, undefined, { token }),
  putAnswer: (id, token, item, value, seq) =>
    request('PUT', `/sessions/${encodeURIComponent(id)}/answers/${encodeURIComponent(item)}`, { value, seq }, { token }),
  submit: (id, token, locale) => request('POST', `/sessions/${encodeURIComponent(id)}/submit${q({ locale })}`, undefined, { token }),

  // Server settings for the H5. A server without the endpoint (404) runs no
  // WeChat sign-in.
  async config() {
    try {
      return { wechat: false, identified: false, crisis_hotline: '', ...(await request('GET', '/config')) }
    } catch (e) {
      if (e instanceof ApiError && (e.status === 404 || e.status === 405)) return { wechat: false, identified: false, crisis_hotline: '' }
      throw e
    }
  },
  wechatLoginURL: (next) => `/api/v1/wechat/login${q({ next })}`,
  mySessions: (locale) => request('GET', `/me/sessions${q({ locale })}`),

  // The warm hand-off (docs/api.md). The phone number goes in the body only.
  requestCallback: (id, token, body) => request('POST', `/sessions/${encodeURIComponent(id)}/callback`, body, { token }),
  bookingUnits: (area) => request('GET', `/booking/units${q({ area })}`),
  unitSlots: (unit) => request('GET', `/booking/units/${encodeURIComponent(unit)}/slots`),
  // token is the session's when booking from its result page.
  book: (slot, body, token) => request('POST', `/booking/slots/${encodeURIComponent(slot)}/book`, body, { token }),
  myHandoffs: () => request('GET', '/me/handoffs'),
  cancelBooking: (id) => request('POST', `/me/bookings/${encodeURIComponent(id)}/cancel`),
}
