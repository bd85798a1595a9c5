// Where a respondent stands in a session: the server's view of it (items
// shown, answers stored) overlaid with the answers still waiting in the
// queue, which the server has not seen yet but the respondent has given.

// mergeAnswers returns the answers to show: the server's, then the queued
// ones in the order they were made (the newest tap wins).
export function mergeAnswers(view, queued = []) {
  const answers = { ...(view?.answers || {}) }
  for (const e of queued) answers[e.item] = e.value
  return answers
}

// firstUnanswered is the first shown item without an answer, or null when
// every shown item is answered (the respondent is at the submit step).
export function firstUnanswered(items, answers) {
  const it = (items || []).find((i) => !(i.id in answers))
  return it ? it.id : null
}

// resumeAt picks the screen to open after a reload: the server's `next`
// unless a queued answer already covers it.
export function resumeAt(view, queued = []) {
  const answers = mergeAnswers(view, queued)
  if (view?.next && !(view.next in answers)) return view.next
  return firstUnanswered(view?.items, answers)
}

export function progress(items, answers) {
  const total = (items || []).length
  const answered = (items || []).filter((i) => i.id in answers).length
  return { answered, total, percent: total ? Math.round((answered / total) * 100) : 0 }
}

// after returns the item following id in the shown list, or null at the end.
export function after(items, id) {
  const i = items.findIndex((x) => x.id === id)
  return i >= 0 && i + 1 < items.length ? items[i + 1].id : null
}

export function before(items, id) {
  if (id === null) return items.length ? items[items.length - 1].id : null
  const i = items.findIndex((x) => x.id === id)
  return i > 0 ? items[i - 1].id : null
}
