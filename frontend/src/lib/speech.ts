// The Settings dialog's Speech section in plain functions: the status line of a speech choice,
// and the PUT body of the endpoint form (an API key only when typed; `null` forgets the stored one).
import type { ProgressView } from './models'
import type { SpeechChoice, SpeechStatus } from '../types'

export type SpeechProvider = 'none' | 'whisper' | 'openai'

export const speechProviderNames: Record<SpeechProvider, string> = {
  none: 'None',
  whisper: 'Whisper model file',
  openai: 'OpenAI-compatible endpoint',
}

/** The provider in use; `none` until the status is read. */
export function speechProvider(status: SpeechStatus | null): SpeechProvider {
  const p = status?.config.provider
  return p === 'whisper' || p === 'openai' ? p : 'none'
}

/** One line: what transcribes speech and whether the quick check passed. */
export function speechView(status: SpeechStatus | null): ProgressView {
  if (!status) return { label: 'Reading the speech settings…', value: null, tone: 'busy' }
  if (!status.configured) {
    return { label: 'No speech to text', tone: 'info', detail: 'Transcripts and spoken-word search need a whisper model or a transcription server.' }
  }
  const who = status.transcriber ?? speechProviderNames[speechProvider(status)]
  if (status.ok) return { label: `Transcribing with ${who}`, tone: 'ok' }
  return { label: `${who} does not work`, tone: 'error', detail: status.error?.message ?? 'the check failed' }
}

export interface SpeechEndpointForm {
  baseUrl: string
  model: string
  apiKey: string
  forgetKey: boolean
}

export function speechEndpointChoice(form: SpeechEndpointForm): SpeechChoice & { api_key?: string | null } {
  const body: SpeechChoice & { api_key?: string | null } = { provider: 'openai', base_url: form.baseUrl.trim() }
  const model = form.model.trim()
  if (model) body.model = model
  if (form.forgetKey) body.api_key = null
  else if (form.apiKey.trim()) body.api_key = form.apiKey.trim()
  return body
}
