// The respondent's unfinished session lives in localStorage so that a
// reload, a crash of the WeChat webview or a lost signal resumes where they
// left off: {id, token, seq, title, view}. The token is the only key to the
// session, so it is kept nowhere else and dropped once the session is done.
const KEY = 'xl.session'

export function loadSaved(storage = globalThis.localStorage) {
  try {
    const s = JSON.parse(storage.getItem(KEY) || 'null')
    return s && typeof s.id === 'string' && typeof s.token === 'string' ? s : null
  } catch {
    return null
  }
}

export function saveSaved(s, storage = globalThis.localStorage) {
  storage.setItem(KEY, JSON.stringify(s))
}

export function clearSaved(storage = globalThis.localStorage) {
  storage.removeItem(KEY)
}

// newSaved starts the record for a fresh token. seq starts at the clock in
// milliseconds rather than 1: a personal code resumed on a second device
// gets a new token while the server keeps the first device's seqs, and
// answers with a lower seq would be ignored as stale.
export function newSaved(view, extra = {}, now = Date.now) {
  return { id: view.id, token: view.token, seq: now(), view: stripToken(view), ...extra }
}

// nextSeq hands out the session's next answer seq and persists it before
// the answer is queued, so a reload can never reuse one.
export function nextSeq(sessionId, storage = globalThis.localStorage) {
  const s = loadSaved(storage)
  if (!s || s.id !== sessionId) throw new Error(`no saved session ${sessionId}`)
  s.seq = (Number(s.seq) || 0) + 1
  saveSaved(s, storage)
  return s.seq
}

export function stripToken(view) {
  if (!view) return view
  const { token: _t, ...rest } = view
  return rest
}
