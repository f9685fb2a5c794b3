// Model settings (system prompt, sampling, reply length, context, threads, GPU layers) and the
// current chat's own system prompt. Read when Settings opens; a save sends the whole set, so a
// field left empty goes back to the model's default. Failures are shown with the server's code.
import { defineStore } from 'pinia'
import { ref, shallowRef } from 'vue'
import { WireError } from '../lib/http'
import type { ModelParams, ModelParamsView } from '../types'
import { useChatStore } from './chat'

export const useModelParamsStore = defineStore('modelParams', () => {
  const chat = useChatStore()
  const view = shallowRef<ModelParamsView | null>(null)
  const saving = ref(false)
  const error = ref<WireError | null>(null)
  const saved = ref(false)
  /** The open chat's own prompt ('' when it uses the default), and for which chat it was read. */
  const chatPrompt = ref('')
  const chatPromptFor = ref('')

  async function run(job: () => Promise<ModelParamsView>): Promise<boolean> {
    saving.value = true
    error.value = null
    saved.value = false
    try {
      view.value = await job()
      saved.value = true
      return true
    } catch (e) {
      error.value = WireError.from(e)
      return false
    } finally {
      saving.value = false
    }
  }

  async function load(): Promise<void> {
    try {
      view.value = await chat.api.settings.params()
      error.value = null
    } catch (e) {
      error.value = WireError.from(e)
    }
    await loadChatPrompt()
  }

  async function loadChatPrompt(): Promise<void> {
    const sid = chat.currentSession?.session_id ?? ''
    chatPromptFor.value = sid
    chatPrompt.value = ''
    if (!sid) return
    try {
      chatPrompt.value = (await chat.api.settings.sessionPrompt(sid)).system_prompt ?? ''
    } catch {
      chatPromptFor.value = '' // a chat not stored yet has no prompt of its own
    }
  }

  const save = (params: ModelParams) => run(() => chat.api.settings.setParams(params))
  const reset = () => run(() => chat.api.settings.resetParams())

  async function saveChatPrompt(prompt: string): Promise<boolean> {
    const sid = chatPromptFor.value
    if (!sid) return false
    error.value = null
    try {
      const answer = await chat.api.settings.setSessionPrompt(sid, prompt.trim() || null)
      chatPrompt.value = answer.system_prompt ?? ''
      return true
    } catch (e) {
      error.value = WireError.from(e)
      return false
    }
  }

  return { view, saving, error, saved, chatPrompt, chatPromptFor, load, loadChatPrompt, save, reset, saveChatPrompt }
})
