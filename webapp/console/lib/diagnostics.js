// diagnostics turns the server checker's problems (1-based line and
// column, as the loader reports them) into CodeMirror lint diagnostics
// over a document of the given lines. A problem past the end of the text
// (the text changed since it was checked) is clamped, never dropped: an
// author must see every problem.
export function toDiagnostics(problems, text) {
  const lines = text.split('\n')
  const starts = []
  let at = 0
  for (const l of lines) {
    starts.push(at)
    at += l.length + 1
  }
  return (problems || []).map((p) => {
    const li = Math.min(Math.max((p.line || 1) - 1, 0), lines.length - 1)
    const lineText = lines[li]
    const col = Math.min(Math.max((p.col || 1) - 1, 0), lineText.length)
    // Mark from the column to the end of the word (or one character).
    let end = col
    while (end < lineText.length && /[^\s,:{}[\]]/.test(lineText[end])) end++
    if (end === col) end = Math.min(col + 1, lineText.length)
    return {
      from: starts[li] + col,
      to: starts[li] + end,
      severity: 'error',
      message: p.path ? `${p.line}:${p.col} ${p.path}: ${p.message}` : `${p.line}:${p.col} ${p.message}`,
    }
  })
}

// bumpVersion raises the patch number of a semantic version, for a
// correction started from a published version.
export function bumpVersion(v) {
  const m = /^(\d+)\.(\d+)\.(\d+)$/.exec(v || '')
  if (!m) return '1.0.0'
  return `${m[1]}.${m[2]}.${Number(m[3]) + 1}`
}

// withIdentity rewrites the top-level id and version lines of a document,
// so a copy of a built-in becomes the author's own instrument.
export function withIdentity(text, id, version) {
  let out = text.replace(/^id:.*$/m, `id: ${id}`)
  out = out.replace(/^version:.*$/m, `version: ${version}`)
  return out
}
