import { describe, it, expect, beforeEach, vi } from 'vitest'
import { setActivePinia, createPinia } from 'pinia'

// A stand-in server behind the api module: PHQ-like, three items, and a
// switch to cut the network.
const srv = vi.hoisted(() => ({ offline: false, answers: {}, seqs: [], submitted: false, calls: [] }))
vi.mock('./api.js', () => {
  const offline = () => Object.assign(new Error('offline'), { status: 0, code: 'offline', offline: true })
  const items = ['t.q1', 't.q2', 't.q3'].map((id) => ({ id, instrument: 't', text: id, options: [{ value: 0 }, { value: 1 }] }))
  const view = () => {
    const next = items.find((i) => !(i.id in srv.answers))
    return { id: 's1', state: srv.submitted ? 'submitted' : 'open', instruments: [{ id: 't', title: 'T' }], items, answers: { ...srv.answers }, next: next ? next.id : null }
  }
  return {
    api: {
      createSession: async () => {
        if (srv.offline) throw offline()
        return { ...view(), token: 'tok' }
      },
      getSession: async () => {
        if (srv.offline) throw offline()
        return view()
      },
      putAnswer: async (id, token, item, value, seq) => {
        if (srv.offline) throw offline()
        srv.calls.push('put')
        srv.answers[item] = value
        srv.seqs.push(seq)
        return { item, value, seq, status: 'saved' }
      },
      submit: async () => {
        if (srv.offline) throw offline()
        srv.calls.push('submit')
        srv.submitted = true
        return { id: 's1', state: 'submitted', result: { instruments: [] }, crisis: null }
      },
    },
  }
})

beforeEach(() => {
  localStorage.clear()
  sessionStorage.clear()
  Object.assign(srv, { offline: false, answers: {}, seqs: [], submitted: false, calls: [] })
  vi.resetModules()
  setActivePinia(createPinia())
})

const load = async () => (await import('./stores.js')).useSession()

describe('session store', () => {
  it('moves on at once, saves in order with increasing seq, and submits after the saves', async () => {
    const s = await load()
    await s.start({ instrument: 't', consent: true })
    expect(s.current).toBe('t.q1')
    s.answer(1)
    expect(s.current).toBe('t.q2') // optimistic: no wait for the server
    s.answer(0)
    s.answer(1)
    expect(s.current).toBe(null) // the submit step
    const r = await s.submit('zh-CN')
    expect(r.ok).toBe(true)
    expect(srv.answers).toEqual({ 't.q1': 1, 't.q2': 0, 't.q3': 1 })
    expect(srv.seqs).toEqual([...srv.seqs].sort((a, b) => a - b))
    expect(new Set(srv.seqs).size).toBe(3)
    expect(srv.calls.at(-1)).toBe('submit')
    expect(localStorage.getItem('xl.session')).toBe(null) // no token left behind
  })

  it('resumes after a reload at the first unanswered item, even offline, with queued answers counted', async () => {
    let s = await load()
    await s.start({ instrument: 't', consent: true })
    s.answer(1)
    await s.queue().flush('s1')
    srv.offline = true
    s.answer(0) // stays in the queue
    // reload: fresh modules and stores on the same localStorage
    vi.resetModules()
    setActivePinia(createPinia())
    s = await load()
    expect(await s.restore('zh-CN')).toBe('take')
    expect(s.current).toBe('t.q3')
    expect(s.progress).toMatchObject({ answered: 2, total: 3 })
    // the seq counter went on from where it was
    srv.offline = false
    await s.queue().flush('s1')
    s.answer(1)
    await s.queue().flush('s1')
    expect(srv.seqs).toHaveLength(3)
    expect(srv.seqs[2]).toBeGreaterThan(srv.seqs[1])
    expect(srv.answers).toEqual({ 't.q1': 1, 't.q2': 0, 't.q3': 1 })
  })

  it('keeps the answers and reports offline when submitting without a connection', async () => {
    const s = await load()
    await s.start({ instrument: 't', consent: true })
    srv.offline = true
    s.answer(0)
    s.answer(0)
    s.answer(0)
    expect(await s.submit('zh-CN')).toEqual({ ok: false, reason: 'offline' })
    expect(srv.submitted).toBe(false)
    expect(JSON.parse(localStorage.getItem('xl.queue'))).toHaveLength(3)
    srv.offline = false
    expect((await s.submit('zh-CN')).ok).toBe(true)
    expect(srv.answers).toEqual({ 't.q1': 0, 't.q2': 0, 't.q3': 0 })
  })
})
