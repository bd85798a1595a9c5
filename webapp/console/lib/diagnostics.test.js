import { describe, it, expect } from 'vitest'
import { toDiagnostics, bumpVersion, withIdentity } from './diagnostics.js'

describe('toDiagnostics', () => {
  const text = 'id: x\nscoring:\n  scores:\n    - {id: total, expr: sum(itemz)}\n'
  it('marks the word at the reported line and column', () => {
    const [d] = toDiagnostics([{ line: 4, col: 29, path: 'scoring.scores[0].expr', message: 'unknown name "itemz"' }], text)
    expect(text.slice(d.from, d.to)).toBe('itemz)')
    expect(d.message).toContain('4:29')
    expect(d.severity).toBe('error')
  })
  it('clamps a problem past the end instead of dropping it', () => {
    const ds = toDiagnostics([{ line: 99, col: 99, message: 'late' }], text)
    expect(ds).toHaveLength(1)
    expect(ds[0].from).toBeLessThanOrEqual(text.length)
  })
})

describe('versions and identity', () => {
  it('bumps the patch', () => {
    expect(bumpVersion('1.2.3')).toBe('1.2.4')
    expect(bumpVersion('junk')).toBe('1.0.0')
  })
  it('rewrites only the top-level id and version', () => {
    const out = withIdentity('id: gad7\nversion: 1.1.0\nitems:\n  - id: q1\n', 'school_gad7', '1.0.0')
    expect(out).toBe('id: school_gad7\nversion: 1.0.0\nitems:\n  - id: q1\n')
  })
})
