// Queue list logic, kept free of Vue so it can be tested on its own.

export const ACTIVE_STATES = ['open', 'claimed', 'following_up']

// sortQueue orders as the API does: level first (1 is the most urgent),
// then the oldest entry first.
export function sortQueue(list) {
  return [...list].sort((a, b) => a.level - b.level || String(a.created_at).localeCompare(String(b.created_at)))
}

// matches tells whether an entry passes the console's filters, so a live
// event for an entry the user filtered out does not pop into view.
export function matches(entry, { levels = [], states = [], overdueOnly = false } = {}, now = Date.now()) {
  if (levels.length && !levels.includes(entry.level)) return false
  if (states.length && !states.includes(entry.state)) return false
  if (overdueOnly && !isOverdue(entry, now)) return false
  return true
}

// merge puts a new or changed entry (from the live stream) into the list.
// It reports whether the entry is new, so the console can alert on it.
export function merge(list, entry, filters, now = Date.now()) {
  const i = list.findIndex((e) => e.id === entry.id)
  const isNew = i < 0
  const rest = isNew ? list : list.filter((e) => e.id !== entry.id)
  if (!isNew && list[i].updated_at && entry.updated_at && entry.updated_at < list[i].updated_at) {
    return { list, isNew: false } // an older event arriving late
  }
  const next = matches(entry, filters, now) ? sortQueue([...rest, entry]) : rest
  return { list: next, isNew }
}

export function isOverdue(entry, now = Date.now()) {
  if (!['open', 'claimed'].includes(entry.state)) return false
  return new Date(entry.due_at).getTime() < now
}

// countdown renders the time left until due as H:MM:SS, or the time past
// it with a leading minus; overdue tells the UI to show it in red.
export function countdown(dueAt, now = Date.now()) {
  const ms = new Date(dueAt).getTime() - now
  const overdue = ms < 0
  let s = Math.floor(Math.abs(ms) / 1000)
  const h = Math.floor(s / 3600)
  s -= h * 3600
  const m = Math.floor(s / 60)
  s -= m * 60
  const text = `${overdue ? '-' : ''}${h}:${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')}`
  return { text, overdue }
}

export const LEVEL_COLOURS = { 1: '#d93026', 2: '#e8710a', 3: '#c99a00' }
