// The warm hand-off on the console: which moves a call-back request and a
// booking allow, and the body a slot is published with. Kept free of Vue
// so it is tested on its own; the API enforces the same rules.

// callbackActions are the outcomes a request in state may be given
// (store.CanMoveCallback).
export function callbackActions(state) {
  switch (state) {
    case 'requested':
    case 'unreachable':
      return ['called', 'unreachable', 'done']
    case 'called':
      return ['done']
  }
  return []
}

// waiting reports whether a request still waits for a call.
export const waiting = (c) => c.state === 'requested' || c.state === 'unreachable'

// bookingActions are the outcomes a booking may be given at now: whether
// the resident came only once the slot has begun; cancelling while booked.
export function bookingActions(b, now = Date.now()) {
  const begun = new Date(b.starts_at).getTime() <= now
  switch (b.state) {
    case 'booked':
      return begun ? ['kept', 'no_show', 'cancelled'] : ['cancelled']
    case 'kept':
      return ['no_show']
    case 'no_show':
      return ['kept']
  }
  return []
}

// slotBody turns the publish form into POST /slots's body.
export function slotBody({ unit_id, start, minutes, capacity, location }) {
  const from = new Date(start)
  return {
    unit_id,
    starts_at: from.toISOString(),
    ends_at: new Date(from.getTime() + Number(minutes) * 60e3).toISOString(),
    capacity: Number(capacity),
    location: (location || '').trim(),
  }
}
