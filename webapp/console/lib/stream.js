// Live queue events over server-sent events. EventSource retries by itself
// after a dropped connection, but gives up for good when the server answers
// with an error status (a restart, an expired sign-in); then we open a new
// one with a growing delay. onOpen fires on every (re)connection so the
// caller can reload the list and pick up anything missed meanwhile.
export function openStream(url, { onWarning, onResync, onOpen, onState, EventSourceImpl = globalThis.EventSource, setTimer = setTimeout } = {}) {
  let es = null
  let closed = false
  let delay = 1000
  let timer = null

  function connect() {
    if (closed) return
    es = new EventSourceImpl(url, { withCredentials: true })
    es.addEventListener('open', () => {
      delay = 1000
      onState?.('live')
      onOpen?.()
    })
    es.addEventListener('warning', (ev) => {
      try {
        onWarning?.(JSON.parse(ev.data))
      } catch {
        // a malformed event is skipped; the next resync repairs the list
      }
    })
    es.addEventListener('resync', () => onResync?.())
    es.addEventListener('error', () => {
      onState?.('reconnecting')
      if (es.readyState === 2 /* CLOSED */) {
        es.close()
        timer = setTimer(connect, delay)
        delay = Math.min(delay * 2, 30000)
      }
    })
  }
  connect()
  return {
    close() {
      closed = true
      if (timer) clearTimeout(timer)
      es?.close()
    },
  }
}
