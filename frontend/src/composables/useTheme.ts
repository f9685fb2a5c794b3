// Light/dark: follows the system unless the user chose one (prefs `theme`); sets
// <html data-theme> so the CSS variables switch.
import { computed, onBeforeUnmount, ref, watchEffect } from 'vue'

export function useTheme(choice: () => 'light' | 'dark' | 'system' | null | undefined) {
  const media = window.matchMedia('(prefers-color-scheme: dark)')
  const systemDark = ref(media.matches)
  const onChange = (e: MediaQueryListEvent) => (systemDark.value = e.matches)
  media.addEventListener('change', onChange)
  onBeforeUnmount(() => media.removeEventListener('change', onChange))
  const dark = computed(() => {
    const c = choice()
    return c === 'dark' || c === 'light' ? c === 'dark' : systemDark.value
  })
  watchEffect(() => (document.documentElement.dataset.theme = dark.value ? 'dark' : 'light'))
  return { dark }
}
