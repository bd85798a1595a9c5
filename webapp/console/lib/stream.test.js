import { describe, it, expect } from 'vitest'
import { openStream } from './stream.js'

class FakeES {
  static all = []
  constructor(url) {
    this.url = url
    this.readyState = 0
    this.listeners = {}
    FakeES.all.push(this)
  }
  addEventListener(name, fn) {
    ;(this.listeners[name] ||= []).push(fn)
  }
  emit(name, data) {
    for (const fn of this.listeners[name] || []) fn({ data })
  }
  close() {
    this.readyState = 2
    this.closed = true
  }
}

describe('openStream', () => {
  it('delivers warnings and reconnects after the server closes the stream', () => {
    FakeES.all = []
    const got = []
    let opens = 0
    const timers = []
    const s = openStream('/x', { EventSourceImpl: FakeES, onWarning: (w) => got.push(w.id), onOpen: () => opens++, setTimer: (fn) => timers.push(fn) })
    const first = FakeES.all[0]
    first.emit('open')
    first.emit('warning', JSON.stringify({ id: 'w1' }))
    first.emit('warning', 'not json')
    expect(got).toEqual(['w1'])
    first.readyState = 2
    first.emit('error')
    expect(timers).toHaveLength(1)
    timers[0]()
    expect(FakeES.all).toHaveLength(2)
    FakeES.all[1].emit('open')
    expect(opens).toBe(2)
    s.close()
    expect(FakeES.all[1].closed).toBe(true)
  })
  it('leaves a transient error to EventSource itself', () => {
    FakeES.all = []
    const timers = []
    openStream('/x', { EventSourceImpl: FakeES, setTimer: (fn) => timers.push(fn) })
    FakeES.all[0].readyState = 0 // CONNECTING: the browser retries
    FakeES.all[0].emit('error')
    expect(timers).toHaveLength(0)
  })
})
