import { describe, it, expect, beforeEach } from 'vitest'
import { createAnswerQueue } from './answerQueue.js'
import { newSaved, saveSaved, nextSeq, loadSaved } from './saved.js'

// memStorage stands in for localStorage; the same object survives a
// "reload" (a new queue built on it), as localStorage does.
function memStorage() {
  const m = new Map()
  return {
    getItem: (k) => (m.has(k) ? m.get(k) : null),
    setItem: (k, v) => m.set(k, String(v)),
    removeItem: (k) => m.delete(k),
  }
}

// A fake server: records what arrived and fails while "offline" is set.
function fakeServer() {
  const s = { got: [], offline: false, fail: null }
  s.send = async (e) => {
    if (s.offline) throw Object.assign(new Error('offline'), { status: 0, code: 'offline' })
    if (s.fail) {
      const f = s.fail(e)
      if (f) throw Object.assign(new Error(f.code), f)
    }
    s.got.push({ item: e.item, value: e.value, seq: e.seq, token: e.token })
    return { item: e.item, value: e.value, seq: e.seq, status: 'saved' }
  }
  return s
}

// manual timers so backoff is driven by the test, not the clock
function timers() {
  const t = { pending: [], delays: [] }
  t.schedule = (fn, ms) => {
    t.delays.push(ms)
    const h = { fn }
    t.pending.push(h)
    return h
  }
  t.cancel = (h) => (t.pending = t.pending.filter((x) => x !== h))
  t.fire = async () => {
    const all = t.pending
    t.pending = []
    for (const h of all) h.fn()
  }
  return t
}

let storage, server, clock
beforeEach(() => {
  storage = memStorage()
  server = fakeServer()
  clock = timers()
  saveSaved(newSaved({ id: 's1', token: 'tok' }, {}, () => 100), storage)
})

const make = (hooks = {}) => createAnswerQueue({ send: server.send, storage, schedule: clock.schedule, cancel: clock.cancel, ...hooks })
const tap = (q, item, value) => q.enqueue({ sid: 's1', token: 'tok', item, value, seq: nextSeq('s1', storage) })

describe('answer queue', () => {
  it('sends answers in the order they were tapped, with increasing seq', async () => {
    const q = make()
    tap(q, 'phq9.q1', 1)
    tap(q, 'phq9.q2', 2)
    tap(q, 'phq9.q1', 3)
    expect(await q.flush('s1')).toBe(true)
    expect(server.got.map((g) => [g.item, g.value])).toEqual([
      ['phq9.q1', 1],
      ['phq9.q2', 2],
      ['phq9.q1', 3],
    ])
    const seqs = server.got.map((g) => g.seq)
    expect(seqs).toEqual([101, 102, 103])
    expect(server.got.every((g) => g.token === 'tok')).toBe(true)
  })

  it('keeps the seq counter across a reload', () => {
    nextSeq('s1', storage)
    nextSeq('s1', storage)
    expect(loadSaved(storage).seq).toBe(102)
    expect(nextSeq('s1', storage)).toBe(103)
  })

  it('keeps unsent answers in storage across a reload and sends them after', async () => {
    server.offline = true
    const q1 = make()
    tap(q1, 'phq9.q1', 1)
    tap(q1, 'phq9.q2', 0)
    expect(await q1.flush('s1')).toBe(false)
    expect(server.got).toEqual([])
    // reload: a new queue on the same storage
    server.offline = false
    const q2 = make()
    expect(q2.pending('s1').map((e) => e.item)).toEqual(['phq9.q1', 'phq9.q2'])
    expect(await q2.flush('s1')).toBe(true)
    expect(server.got.map((g) => g.item)).toEqual(['phq9.q1', 'phq9.q2'])
    expect(JSON.parse(storage.getItem('xl.queue'))).toEqual([])
  })

  it('retries with growing backoff while offline, then delivers once online', async () => {
    const q = make()
    server.offline = true
    tap(q, 'phq9.q1', 2)
    await q.flush('s1')
    await clock.fire()
    await q.flush('s1') // another failed attempt
    expect(clock.delays.length).toBeGreaterThanOrEqual(2)
    expect(clock.delays[1]).toBeGreaterThan(clock.delays[0])
    tap(q, 'phq9.q2', 1) // tapped while offline: queued behind q1
    server.offline = false
    await clock.fire()
    await q.flush('s1')
    expect(server.got.map((g) => [g.item, g.value])).toEqual([
      ['phq9.q1', 2],
      ['phq9.q2', 1],
    ])
    expect(q.size).toBe(0)
  })

  it('retries a 5xx but drops a definitive 4xx and says so', async () => {
    const dropped = []
    const q = make({ onDropped: (e, err) => dropped.push([e.item, err.code]) })
    let down = true
    server.fail = (e) => {
      if (e.item === 'phq9.q1' && down) return { status: 503, code: 'unavailable' }
      if (e.item === 'phq9.q2') return { status: 422, code: 'answer_out_of_range' }
      return null
    }
    tap(q, 'phq9.q1', 1)
    tap(q, 'phq9.q2', 9)
    tap(q, 'phq9.q3', 0)
    expect(await q.flush('s1')).toBe(false) // the 503 keeps q1 and everything behind it
    expect(q.pending('s1').map((e) => e.item)).toEqual(['phq9.q1', 'phq9.q2', 'phq9.q3'])
    down = false
    expect(await q.flush('s1')).toBe(true)
    expect(server.got.map((g) => g.item)).toEqual(['phq9.q1', 'phq9.q3'])
    expect(dropped).toEqual([['phq9.q2', 'answer_out_of_range']])
  })

  it('holds answers of a session whose token stopped working (401/410) without dropping them', async () => {
    const blocked = []
    const q = make({ onBlocked: (e, err) => blocked.push(err.status) })
    server.fail = () => ({ status: 410, code: 'session_expired' })
    tap(q, 'phq9.q1', 1)
    expect(await q.flush('s1')).toBe(false)
    expect(blocked).toEqual([410])
    expect(q.pending('s1')).toHaveLength(1)
    // the personal code entered again: a new token, and the answer goes
    server.fail = null
    q.retoken('s1', 'tok2')
    expect(await q.flush('s1')).toBe(true)
    expect(server.got).toEqual([{ item: 'phq9.q1', value: 1, seq: 101, token: 'tok2' }])
  })

  it('forgets a session it was told to leave', async () => {
    server.offline = true
    const q = make()
    tap(q, 'phq9.q1', 1)
    q.forget('s1')
    expect(q.size).toBe(0)
    expect(JSON.parse(storage.getItem('xl.queue'))).toEqual([])
  })
})
