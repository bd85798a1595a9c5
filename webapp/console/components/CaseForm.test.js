import { describe, it, expect, afterEach, vi } from 'vitest'
import { mount, flushPromises } from '@vue/test-utils'
import ElementPlus from 'element-plus'
import { i18n } from '../i18n.js'
import CaseForm from './CaseForm.vue'

const realFetch = globalThis.fetch
afterEach(() => {
  globalThis.fetch = realFetch
})

function mountForm(props = {}) {
  return mount(CaseForm, { props: { warningId: 'w1', units: [{ id: 'st', name: '驿站' }], defaultUnit: 'st', ...props }, global: { plugins: [ElementPlus, i18n] } })
}

describe('CaseForm', () => {
  it('asks for the notified flag before sending anything', async () => {
    let calls = 0
    globalThis.fetch = async () => {
      calls++
      return new Response('{}')
    }
    const w = mountForm()
    await w.find('form').trigger('submit')
    await flushPromises()
    await new Promise((r) => setTimeout(r, 50))
    expect(calls).toBe(0)
    expect(w.text()).toContain('请选择是否已通报综合管理小组')
  })

  it('shows an API validation error under the field it names', async () => {
    let body
    globalThis.fetch = async (url, init) => {
      body = JSON.parse(init.body)
      return new Response(JSON.stringify({ error: { code: 'validation_failed', message: '辅导建议最多 4000 字', field: 'advice' } }), { status: 400 })
    }
    const w = mountForm()
    await w.find('[data-test=case-group-yes] input').setValue(true)
    await w.find('[data-test=case-advice]').setValue('每周一次')
    await w.find('form').trigger('submit')
    await flushPromises()
    await new Promise((r) => setTimeout(r, 50))
    expect(body).toMatchObject({ warning_id: 'w1', unit_id: 'st', group_notified: true, advice: '每周一次' })
    expect(body.person_id).toBeUndefined()
    // The message enters with a transition: wait for it rather than a tick.
    await vi.waitFor(() => {
      const item = w.findAll('.el-form-item').find((f) => f.find('label').text() === '辅导建议')
      expect(item.classes()).toContain('is-error')
      expect(item.find('.el-form-item__error').text()).toBe('辅导建议最多 4000 字')
    }, { timeout: 3000 })
  })

  it('keeps an error on the time picker in view', async () => {
    globalThis.fetch = async () => new Response(JSON.stringify({ error: { code: 'validation_failed', message: '辅导时间不能在将来', field: 'at' } }), { status: 400 })
    const w = mountForm()
    await w.find('[data-test=case-group-no] input').setValue(true)
    await w.find('form').trigger('submit')
    await flushPromises()
    expect(w.find('[data-test=case-error]').text()).toContain('辅导时间不能在将来')
  })

  it('sends the version read when editing, and emits the saved case', async () => {
    let sent
    globalThis.fetch = async (url, init) => {
      sent = { url, method: init.method, body: JSON.parse(init.body) }
      return new Response(JSON.stringify({ case: { id: 'c1', version: 4 } }))
    }
    const existing = { id: 'c1', version: 3, at: '2026-11-01T08:00:00Z', unit_id: 'st', self_evaluation: 'a', life_events: 'b', other_problems: '', advice: 'c', group_notified: false, closed: false }
    const w = mountForm({ existing })
    await w.find('form').trigger('submit')
    await flushPromises()
    expect(sent.method).toBe('PUT')
    expect(sent.url).toBe('/api/v1/cases/c1')
    expect(sent.body).toMatchObject({ version: 3, self_evaluation: 'a', group_notified: false, closed: false })
    expect(w.emitted('saved')[0][0]).toEqual({ id: 'c1', version: 4 })
  })
})
