// Alerting a counsellor to a new level-1 entry: a desktop notification
// (only once the user allowed it, from a click) and a short two-tone beep
// made with WebAudio, so no sound file ships with the console.
let ctx = null

export function notificationsSupported() {
  return typeof globalThis.Notification === 'function'
}

export async function askPermission() {
  if (!notificationsSupported()) return 'unsupported'
  if (Notification.permission === 'granted') return 'granted'
  return Notification.requestPermission()
}

// unlockAudio must run in a user gesture: browsers keep an AudioContext
// suspended until the page has been interacted with.
export function unlockAudio() {
  const AC = globalThis.AudioContext || globalThis.webkitAudioContext
  if (!AC) return
  ctx ||= new AC()
  if (ctx.state === 'suspended') ctx.resume()
}

export function beep() {
  if (!ctx) return
  const t = ctx.currentTime
  for (const [i, freq] of [880, 660].entries()) {
    const osc = ctx.createOscillator()
    const gain = ctx.createGain()
    osc.frequency.value = freq
    gain.gain.setValueAtTime(0.0001, t + i * 0.25)
    gain.gain.exponentialRampToValueAtTime(0.3, t + i * 0.25 + 0.02)
    gain.gain.exponentialRampToValueAtTime(0.0001, t + i * 0.25 + 0.22)
    osc.connect(gain).connect(ctx.destination)
    osc.start(t + i * 0.25)
    osc.stop(t + i * 0.25 + 0.24)
  }
}

export function notify(title, body, onClick) {
  if (!notificationsSupported() || Notification.permission !== 'granted') return null
  const n = new Notification(title, { body, tag: 'xinling-level1', requireInteraction: true })
  n.onclick = () => {
    globalThis.focus?.()
    onClick?.()
    n.close()
  }
  return n
}
