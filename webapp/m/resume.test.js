import { describe, it, expect } from 'vitest'
import { mergeAnswers, resumeAt, progress, after, before } from './resume.js'

const items = (...ids) => ids.map((id) => ({ id, instrument: id.split('.')[0], options: [] }))

describe('resume', () => {
  const view = {
    items: items('phq9.q1', 'phq9.q2', 'phq9.q3', 'phq9.q4', 'phq9.q5'),
    answers: { 'phq9.q1': 1, 'phq9.q2': 0 },
    next: 'phq9.q3',
  }

  it("resumes at the server's next item", () => {
    expect(resumeAt(view, [])).toBe('phq9.q3')
  })

  it('counts answers still in the queue as given', () => {
    const queued = [
      { item: 'phq9.q3', value: 2 },
      { item: 'phq9.q4', value: 1 },
    ]
    expect(resumeAt(view, queued)).toBe('phq9.q5')
    expect(mergeAnswers(view, queued)).toEqual({ 'phq9.q1': 1, 'phq9.q2': 0, 'phq9.q3': 2, 'phq9.q4': 1 })
    expect(progress(view.items, mergeAnswers(view, queued))).toEqual({ answered: 4, total: 5, percent: 80 })
  })

  it('lets the newest queued tap win over the stored answer', () => {
    expect(mergeAnswers(view, [{ item: 'phq9.q1', value: 3 }, { item: 'phq9.q1', value: 2 }])['phq9.q1']).toBe(2)
  })

  it('goes to the submit step (null) when every shown item is answered', () => {
    const all = { ...view, next: null, answers: { 'phq9.q1': 0, 'phq9.q2': 0, 'phq9.q3': 0, 'phq9.q4': 0 } }
    expect(resumeAt(all, [{ item: 'phq9.q5', value: 0 }])).toBe(null)
  })

  it('follows the shown list when a display condition adds an item (ASQ item 5)', () => {
    const before5 = items('asq.q1', 'asq.q2', 'asq.q3', 'asq.q4')
    const with5 = items('asq.q1', 'asq.q2', 'asq.q3', 'asq.q4', 'asq.q5')
    expect(after(before5, 'asq.q4')).toBe(null)
    expect(after(with5, 'asq.q4')).toBe('asq.q5')
    const answered = { 'asq.q1': 1, 'asq.q2': 0, 'asq.q3': 0, 'asq.q4': 0 }
    expect(resumeAt({ items: with5, answers: answered, next: 'asq.q5' })).toBe('asq.q5')
  })

  it('steps back from the submit step to the last item', () => {
    expect(before(view.items, null)).toBe('phq9.q5')
    expect(before(view.items, 'phq9.q1')).toBe(null)
    expect(before(view.items, 'phq9.q3')).toBe('phq9.q2')
  })
})
