// The answer queue: every tap becomes an entry in localStorage before any
// network call, and entries go to the server one by one in the order they
// were made. A lost signal, a 5xx or a rate limit keeps the entry and
// retries with backoff; a definitive 4xx drops it (and says so); a lost
// token (401) or an expired session (410) holds that session's entries and
// asks the screen to tell the respondent, since retrying cannot help.
const KEY = 'xl.queue'

export function isTransient(err) {
  return !err || err.status === 0 || err.status >= 500 || err.status === 429 || err.status === 408
}

export function isAuthLost(err) {
  return err?.status === 401 || err?.status === 410
}

export function createAnswerQueue({
  send, // async ({sid, token, item, value, seq}) => response
  storage = globalThis.localStorage,
  onSaved = () => {},
  onDropped = () => {},
  onBlocked = () => {},
  onChange = () => {},
  schedule = (fn, ms) => setTimeout(fn, ms),
  cancel = (t) => clearTimeout(t),
  maxDelay = 30_000,
} = {}) {
  let entries = load()
  const blocked = new Set()
  let running = null
  let timer = null
  let failures = 0

  function load() {
    try {
      const v = JSON.parse(storage.getItem(KEY) || '[]')
      return Array.isArray(v) ? v : []
    } catch {
      return []
    }
  }
  function persist() {
    storage.setItem(KEY, JSON.stringify(entries))
    onChange(entries.slice())
  }

  function enqueue(entry) {
    entries.push({ sid: entry.sid, token: entry.token, item: entry.item, value: entry.value, seq: entry.seq })
    persist()
    kick()
  }

  function pending(sid) {
    return entries.filter((e) => sid === undefined || e.sid === sid)
  }

  function retryDelay() {
    return Math.min(maxDelay, 1000 * 2 ** Math.min(failures - 1, 10))
  }

  // kick starts a pass now unless one is running.
  function kick() {
    if (timer) {
      cancel(timer)
      timer = null
    }
    if (!running) running = pass().finally(() => (running = null))
    return running
  }

  // pass sends the entries in order until the queue is empty or the
  // network fails; then it schedules the next try.
  async function pass() {
    for (;;) {
      const e = entries.find((x) => !blocked.has(x.sid))
      if (!e) return
      try {
        const resp = await send(e)
        failures = 0
        remove(e)
        onSaved(e, resp)
      } catch (err) {
        if (isTransient(err)) {
          failures++
          timer = schedule(() => {
            timer = null
            kick()
          }, retryDelay())
          return
        }
        if (isAuthLost(err)) {
          blocked.add(e.sid)
          onBlocked(e, err)
          continue
        }
        remove(e)
        onDropped(e, err)
      }
    }
  }

  function remove(e) {
    const i = entries.indexOf(e)
    if (i >= 0) entries.splice(i, 1)
    persist()
  }

  // flush tries to send everything now and reports whether sid's answers
  // all reached the server.
  async function flush(sid) {
    while (running) await running
    await kick()
    return pending(sid).length === 0
  }

  // retoken moves a session's waiting answers to the token a resumed
  // personal code just issued (the old one stopped working), and lets
  // them go again.
  function retoken(sid, token) {
    let changed = false
    for (const e of entries) {
      if (e.sid === sid && e.token !== token) {
        e.token = token
        changed = true
      }
    }
    blocked.delete(sid)
    if (changed) persist()
    kick()
  }

  // forget drops a session's entries, once the respondent has left it.
  function forget(sid) {
    entries = entries.filter((e) => e.sid !== sid)
    blocked.delete(sid)
    persist()
  }

  return { enqueue, pending, flush, kick, forget, retoken, get size() { return entries.length } }
}
