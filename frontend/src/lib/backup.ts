// "Back up everything" and "Restore" (PROTOCOL section 7, Backup and restore): the routes, and
// how a finished job reads to a person. Both run as jobs; their progress comes with the jobs
// store's socket events like any other job's.
import { createHttpClient, WireError, type FileAnswer } from './http'
import { takeToken } from './token'
import type { BackupArchive, JobInfo } from '../types'

export interface BackupApi {
  list(): Promise<BackupArchive[]>
  start(mediaFiles: boolean): Promise<JobInfo>
  download(name: string): Promise<FileAnswer>
  upload(file: File): Promise<BackupArchive>
  restore(name: string): Promise<JobInfo>
}

const enc = encodeURIComponent

/** A file's name as an archive name the server takes (letters, digits, `.`, `_`, `-`, `.zip`). */
export function archiveName(fileName: string): string {
  const stem = fileName.replace(/\.zip$/i, '').replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[^A-Za-z0-9]+/, '')
  return `${(stem || 'backup').slice(0, 90)}.zip`
}

export function backupApi(getToken: () => string = () => takeToken(), base = ''): BackupApi {
  const http = createHttpClient(getToken, base)
  return {
    list: () => http.call('GET', '/backup'),
    start: (mediaFiles) => http.call('POST', '/backup', { media_files: mediaFiles }),
    download: (name) => http.file(`/backup/${enc(name)}`, name),
    upload: async (file) => {
      let res: Response
      try {
        res = await fetch(`${base}/backup/${enc(archiveName(file.name))}`, {
          method: 'PUT',
          headers: { Authorization: `Bearer ${getToken()}`, 'Content-Type': 'application/zip' },
          body: file,
        })
      } catch (e) {
        throw new WireError('network', `the app did not answer (${e instanceof Error ? e.message : String(e)})`)
      }
      const body: unknown = await res.json().catch(() => null)
      if (!res.ok) {
        const error = (body as { error?: { code?: string; message?: string } } | null)?.error
        throw new WireError(error?.code ?? 'error', error?.message ?? res.statusText)
      }
      return body as BackupArchive
    },
    restore: (name) => http.call('POST', `/backup/${enc(name)}/restore`),
  }
}

/** What a finished restore added, in words. */
export function restoredText(restored: Record<string, number> | undefined): string {
  const r = restored ?? {}
  const n = (key: string) => r[key] ?? 0
  const parts = [
    `${n('chats')} chat${n('chats') === 1 ? '' : 's'} added`,
    `${n('media_files')} media file${n('media_files') === 1 ? '' : 's'} added`,
    `${n('settings')} setting${n('settings') === 1 ? '' : 's'} added`,
  ]
  const kept = n('chats_already_here') + n('media_already_here')
  if (kept) parts.push(`${kept} already here, left as they were`)
  return `Restored: ${parts.join(', ')}.`
}
