// Pinia stores of the H5: settings (elder mode, language, server config)
// and the session being taken, which owns the answer queue.
import { defineStore } from 'pinia'
import { api } from './api.js'
import { createAnswerQueue } from './answerQueue.js'
import { loadSaved, saveSaved, clearSaved, newSaved, nextSeq, stripToken } from './saved.js'
import { mergeAnswers, resumeAt, progress, after, before, firstUnanswered } from './resume.js'

const ELDER = 'xl.elder'
const LOCALE = 'xl.locale'
const LAST = 'xl.last'

export const useSettings = defineStore('settings', {
  state: () => ({
    elder: localStorage.getItem(ELDER) === '1',
    locale: localStorage.getItem(LOCALE) || 'zh-CN',
    config: { wechat: false, identified: false, crisis_hotline: '' },
  }),
  actions: {
    setElder(on) {
      this.elder = on
      localStorage.setItem(ELDER, on ? '1' : '0')
      applyElder(on)
    },
    setLocale(l) {
      this.locale = l
      localStorage.setItem(LOCALE, l)
      document.documentElement.lang = l
    },
  },
})

export function applyElder(on) {
  document.documentElement.classList.toggle('elder', !!on)
}

// The last submitted session: its id and token start a follow-up, its
// result fills the done screen after a reload. sessionStorage: it is only
// needed for this visit.
export function loadLast() {
  try {
    return JSON.parse(sessionStorage.getItem(LAST) || 'null')
  } catch {
    return null
  }
}
function saveLast(v) {
  sessionStorage.setItem(LAST, JSON.stringify(v))
}

const titleOf = (view) => (view?.instruments || []).map((i) => i.title).join(' · ')

let queue = null
export function answerQueue(hooks) {
  if (!queue) {
    queue = createAnswerQueue({
      send: (e) => api.putAnswer(e.sid, e.token, e.item, e.value, e.seq),
      ...hooks,
    })
    globalThis.addEventListener?.('online', () => queue.kick())
    // answers left from before a reload go out as soon as the page is back
    queue.kick()
  }
  return queue
}

export const useSession = defineStore('session', {
  state: () => ({
    saved: loadSaved(),
    view: null,
    answers: {},
    current: null, // item id, or null at the submit step
    pendingCount: 0,
    notice: '', // a message key for the respondent: dropped answer, lost session
    submitting: false,
  }),
  getters: {
    items: (s) => s.view?.items || [],
    item(s) {
      return this.items.find((i) => i.id === s.current) || null
    },
    instrument(s) {
      const id = this.item?.instrument
      return s.view?.instruments?.find((x) => x.id === id) || null
    },
    // first item of its instrument: the screen shows the instructions.
    firstOfInstrument() {
      const it = this.item
      if (!it) return false
      const first = this.items.find((i) => i.instrument === it.instrument)
      return first?.id === it.id
    },
    progress(s) {
      return progress(this.items, s.answers)
    },
    hasUnfinished: (s) => !!s.saved,
  },
  actions: {
    queue() {
      return answerQueue({
        onSaved: (e, resp) => this.onSaved(e, resp),
        onDropped: (e, err) => this.onDropped(e, err),
        onBlocked: (e, err) => this.onBlocked(e, err),
        onChange: (entries) => {
          this.pendingCount = this.saved ? entries.filter((x) => x.sid === this.saved.id).length : 0
        },
      })
    },
    queued() {
      return this.saved ? this.queue().pending(this.saved.id) : []
    },

    adopt(view, extra) {
      // A personal code entered again hands out a new token for the same
      // session: answers still waiting must go with the new one.
      this.queue().retoken(view.id, view.token)
      this.saved = newSaved(view, extra)
      saveSaved(this.saved)
      this.setView(stripToken(view), true)
    },
    setView(view, reposition) {
      this.view = view
      this.answers = mergeAnswers(view, this.queued())
      if (this.saved) {
        this.saved.view = view
        this.saved.title = titleOf(view)
        saveSaved(this.saved)
      }
      const ids = this.items.map((i) => i.id)
      // Reposition after a reload, when the current item is no longer
      // shown, or at the submit step when a display condition has just
      // added an item (ASQ item 5 after a yes).
      if (reposition || (this.current !== null && !ids.includes(this.current)) || (this.current === null && firstUnanswered(this.items, this.answers))) {
        this.current = resumeAt(view, this.queued())
      }
      this.pendingCount = this.queued().length
    },

    async start(body, token) {
      this.notice = ''
      const view = await api.createSession(body, token)
      this.adopt(view, { title: titleOf(view), code: body.code })
      return view
    },

    // restore reopens the saved session after a reload: 'take' to go on,
    // 'done' when it was submitted meanwhile, {code} to enter a personal
    // code again, null when there is none.
    async restore(locale) {
      const s = loadSaved()
      this.saved = s
      if (!s) return null
      let view
      try {
        view = await api.getSession(s.id, s.token, locale)
      } catch (e) {
        if (e.offline || e.status >= 500 || e.status === 429) {
          if (!s.view) throw e
          view = s.view // no signal: resume from the copy kept on the phone
        } else if (e.status === 401 && s.code) {
          // Another phone took over this personal code. Keep the answers
          // waiting here: entering the code again moves them to the new token.
          clearSaved()
          this.saved = null
          this.view = null
          this.notice = 'notice.lost'
          return { code: s.code }
        } else {
          this.abandon()
          this.notice = e.status === 410 ? 'notice.expired' : 'notice.lost'
          return null
        }
      }
      if (view.state === 'submitted') {
        await this.submit(locale)
        return 'done'
      }
      this.setView(view, this.view?.id !== view.id || this.current === null)
      return 'take'
    },

    answer(value) {
      const item = this.current
      if (!item || !this.saved) return
      this.answers = { ...this.answers, [item]: value }
      const seq = nextSeq(this.saved.id)
      this.saved.seq = seq
      this.queue().enqueue({ sid: this.saved.id, token: this.saved.token, item, value, seq })
      this.current = after(this.items, item)
    },
    goBack() {
      const prev = before(this.items, this.current)
      if (prev) this.current = prev
    },
    goNext() {
      if (this.current && this.current in this.answers) this.current = after(this.items, this.current)
    },

    // After a save, the shown items may change (display conditions), so
    // the list is refreshed from the server once the queue for this session
    // is drained.
    async onSaved(e, resp) {
      if (!this.saved || e.sid !== this.saved.id) return
      if (resp?.status === 'stale' && this.queued().every((x) => x.item !== e.item)) {
        this.answers = { ...this.answers, [e.item]: resp.value }
      }
      if (this.queued().length === 0) await this.refresh()
    },
    onDropped(e, err) {
      if (!this.saved || e.sid !== this.saved.id) return
      const { [e.item]: _gone, ...rest } = this.answers
      this.answers = err.code === 'session_submitted' ? this.answers : rest
      this.notice = 'notice.dropped'
    },
    onBlocked(e, err) {
      if (!this.saved || e.sid !== this.saved.id) return
      this.notice = err.status === 410 ? 'notice.expired' : 'notice.lost'
    },
    async refresh(locale) {
      if (!this.saved) return
      try {
        // the chosen language, not the browser's Accept-Language
        const view = await api.getSession(this.saved.id, this.saved.token, locale || useSettings().locale)
        if (view.state !== 'submitted') this.setView(view, false)
      } catch {
        // keep the list we have; the next save or submit refreshes again
      }
    },

    // submit waits until every answer reached the server, then submits.
    // Result: {ok: true, response} | {ok: false, reason: 'offline' | 'missing'}.
    async submit(locale) {
      const s = this.saved
      if (!s) return { ok: false, reason: 'none' }
      this.submitting = true
      try {
        const flushed = await this.queue().flush(s.id)
        if (!flushed) return { ok: false, reason: 'offline' }
        const view = await api.getSession(s.id, s.token, locale)
        if (view.state !== 'submitted') {
          this.setView(view, false)
          const missing = firstUnanswered(this.items, this.answers)
          if (missing) {
            this.current = missing
            return { ok: false, reason: 'missing' }
          }
        }
        const response = await api.submit(s.id, s.token, locale)
        saveLast({ id: s.id, token: s.token, response })
        this.queue().forget(s.id)
        clearSaved()
        this.saved = null
        this.view = null
        return { ok: true, response }
      } catch (e) {
        if (e.offline || e.status >= 500 || e.status === 429) return { ok: false, reason: 'offline' }
        if (e.code === 'incomplete') {
          this.current = this.items.some((i) => i.id === e.field) ? e.field : firstUnanswered(this.items, this.answers)
          return { ok: false, reason: 'missing' }
        }
        throw e
      } finally {
        this.submitting = false
      }
    },

    abandon() {
      if (this.saved) this.queue().forget(this.saved.id)
      clearSaved()
      this.saved = null
      this.view = null
      this.answers = {}
      this.current = null
    },
  },
})
