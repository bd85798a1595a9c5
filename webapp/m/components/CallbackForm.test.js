import { describe, it, expect, vi, beforeEach } from 'vitest'
import { mount, flushPromises } from '@vue/test-utils'
import { createPinia } from 'pinia'
import { makeI18n } from '../i18n.js'

const calls = []
let fail = null
vi.mock('../api.js', () => ({
  api: {
    requestCallback: async (id, token, body) => {
      calls.push({ id, token, body })
      if (fail) throw fail
      return { callback: { id: 'cb1', state: 'requested', phone: '138****8000', preferred_from: body.preferred_from, preferred_to: body.preferred_to } }
    },
  },
}))

async function form() {
  const { default: CallbackForm } = await import('./CallbackForm.vue')
  return mount(CallbackForm, { props: { sessionId: 's1', token: 'tok' }, global: { plugins: [createPinia(), makeI18n('zh-CN')] } })
}

describe('call-back form', () => {
  beforeEach(() => {
    calls.length = 0
    fail = null
    sessionStorage.clear()
  })

  it('asks for a real number and consent before sending anything', async () => {
    const w = await form()
    expect(w.text()).toContain('请心理咨询师联系我')
    expect(w.text()).toContain('我同意心理咨询师使用这个电话号码与我联系')
    await w.find('[data-test="callback-phone"]').setValue('12345')
    await w.find('form').trigger('submit')
    expect(w.text()).toContain('请填写正确的手机号')
    expect(w.text()).toContain('请先勾选同意')
    expect(calls).toHaveLength(0)
    // Each message goes once its field is put right.
    await w.find('[data-test="callback-phone"]').setValue('13800138000')
    expect(w.text()).not.toContain('请填写正确的手机号')
    expect(w.text()).toContain('请先勾选同意')
  })

  it('sends the number, the chosen window, the note and the consent wording', async () => {
    const w = await form()
    await w.find('[data-test="callback-phone"]').setValue('138 0013 8000')
    await w.find('[data-test="callback-time-tomorrowMorning"] input').setValue(true)
    await w.find('[data-test="callback-note"]').setValue('  下午方便 ')
    await w.find('[data-test="callback-consent"]').setValue(true)
    await w.find('form').trigger('submit')
    await flushPromises()
    expect(calls).toHaveLength(1)
    const { id, token, body } = calls[0]
    expect([id, token]).toEqual(['s1', 'tok'])
    expect(body.phone).toBe('13800138000')
    expect(body.note).toBe('下午方便')
    expect(body.consent).toBe(true)
    expect(body.consent_version).toBe('v1')
    expect(new Date(body.preferred_from).getHours()).toBe(9)
    expect(new Date(body.preferred_to) > new Date(body.preferred_from)).toBe(true)
    expect(w.find('[data-test="callback-done"]').text()).toContain('138****8000')
    // The same session's form shows the request again, not an empty form.
    const again = await form()
    expect(again.find('[data-test="callback-done"]').exists()).toBe(true)
  })

  it('shows the server refusal in words', async () => {
    fail = Object.assign(new Error('limit'), { status: 409, code: 'callback_limit' })
    const w = await form()
    await w.find('[data-test="callback-phone"]').setValue('13800138000')
    await w.find('[data-test="callback-consent"]').setValue(true)
    await w.find('form').trigger('submit')
    await flushPromises()
    expect(w.text()).toContain('已经提交过回电请求')
    expect(w.find('[data-test="callback-done"]').exists()).toBe(false)
  })
})
