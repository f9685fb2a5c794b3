import { createPinia } from 'pinia'
import { createApp } from 'vue'
import App from './App.vue'
import './styles.css'

declare global {
  interface Window {
    /** Called by the desktop shell's native menu (window.py). */
    director?: {
      newSession(): void
      openSettings(): void
      editLast?(): void
      stopReply?(): void
      copyLastReply?(): void
      lastReply?(): string
      openShortcuts?(): void
    }
  }
}

createApp(App).use(createPinia()).mount('#app')
