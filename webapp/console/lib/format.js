// Small display helpers shared by the console's screens.
export function fmtTime(v, locale = 'zh-CN') {
  if (!v) return '—'
  const d = new Date(v)
  if (Number.isNaN(d.getTime())) return '—'
  return d.toLocaleString(locale, { year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hour12: false })
}

// fmtRange shows a time window: its start in full and its end's time.
export function fmtRange(from, to, locale = 'zh-CN') {
  if (!from || !to) return '—'
  const end = new Date(to).toLocaleTimeString(locale, { hour: '2-digit', minute: '2-digit', hour12: false })
  return `${fmtTime(from, locale)}–${end}`
}

export function fmtDate(v, locale = 'zh-CN') {
  if (!v) return '—'
  return new Date(v).toLocaleDateString(locale, { year: 'numeric', month: '2-digit', day: '2-digit' })
}

// cell renders a count the API withheld (null: fewer than 5 people, or a
// cell that would let a small one be worked out) as a dash, never a zero.
export function cell(n) {
  return n === null || n === undefined ? '—' : String(n)
}

// buildTree turns the flat unit list into el-tree nodes; units whose parent
// lies outside the caller's subtree become roots.
export function buildTree(units) {
  const byId = new Map(units.map((u) => [u.id, { ...u, children: [] }]))
  const roots = []
  for (const n of byId.values()) {
    const parent = n.parent_id && byId.get(n.parent_id)
    if (parent) parent.children.push(n)
    else roots.push(n)
  }
  return roots
}

// monthOf is the YYYY-MM the monthly statistics are asked for.
export function monthOf(d = new Date()) {
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}`
}
