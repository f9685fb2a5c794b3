"""The project's error hierarchy: every failure a user or client can see has a stable `code`.

Imports nothing from the project. Each transport (socket acks, HTTP envelopes, the seed's error
response) translates these to the wire in exactly one place.
"""

from __future__ import annotations

import errno


class DirectorError(Exception):
    """A failure with a stable machine-readable code and a message safe to show a user."""

    code = "internal"
    http_status = 500

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class InvalidPayload(DirectorError):
    code = "invalid_payload"
    http_status = 400


class InvalidId(DirectorError):
    code = "invalid_id"
    http_status = 400


class TooLarge(DirectorError):
    code = "too_large"
    http_status = 413


class NotFound(DirectorError):
    code = "not_found"
    http_status = 404


class SessionNotFound(NotFound):
    pass


class DuplicateId(DirectorError):
    code = "duplicate_id"
    http_status = 409


class Conflict(DirectorError):
    code = "conflict"
    http_status = 409


class NotAvailable(DirectorError):
    """The app was composed without the part asked for (model settings on a test engine)."""

    code = "not_available"
    http_status = 409


class UndoExpired(DirectorError):
    """A deleted turn asked back after its undo window (PROTOCOL 8): purged, or about to be."""

    code = "undo_expired"
    http_status = 410


class NotResumable(Conflict):
    """Pause or resume asked of a job that cannot continue where it stopped (PROTOCOL 7)."""

    code = "not_resumable"


class Cancelled(DirectorError):
    """The work was cancelled (by the user, or by a client that went away)."""

    code = "cancelled"
    http_status = 409


class Interrupted(DirectorError):
    """The work was cut off by the app shutting down (or, seen after a restart, by its end)."""

    code = "interrupted"
    http_status = 503


class Unauthorized(DirectorError):
    code = "unauthorized"
    http_status = 401


class BadHost(DirectorError):
    code = "bad_host"
    http_status = 400


class BadOrigin(DirectorError):
    code = "bad_origin"
    http_status = 403


class StoreError(DirectorError):
    """The database could not do what was asked; nothing was half-applied."""

    code = "store_error"
    http_status = 503


class StoreClosed(StoreError):
    code = "store_closed"


class StoreReadOnly(StoreError):
    code = "store_read_only"


class StoreDiskFull(StoreError):
    code = "store_disk_full"


class StoreLocked(StoreError):
    code = "store_locked"


class StoreCorrupt(StoreError):
    code = "store_corrupt"


class AgentFailed(DirectorError):
    code = "agent_failed"


class ModelError(DirectorError):
    """A model is missing, corrupt, or did not answer."""

    code = "model_error"
    http_status = 503


class BadModelParam(InvalidPayload):
    """A model setting out of its range or of the wrong type; the message names it."""

    code = "bad_model_param"


class UnknownModelParam(InvalidPayload):
    """A model setting the app does not have."""

    code = "unknown_model_param"


class ModelChanged(ModelError):
    """The user chose another model while a reply was being written by the one before."""

    code = "model_changed"


class InvalidMedia(DirectorError):
    """A file the media library refuses; each subclass says why. Nothing of it is kept."""

    code = "unsupported_media"
    http_status = 422


class UnsupportedMedia(InvalidMedia):
    """Not a video, audio or image file the library takes (a text file, random bytes...)."""

    code = "unsupported_media"
    http_status = 415


class CorruptMedia(InvalidMedia):
    code = "corrupt_media"


class TruncatedMedia(InvalidMedia):
    code = "truncated_media"


class EmptyFile(InvalidMedia):
    code = "empty_file"
    http_status = 400


class ZeroDuration(InvalidMedia):
    code = "zero_duration"


class FfmpegError(DirectorError):
    """FFmpeg could not do what was asked; it ran in its own process, so the app goes on."""

    code = "ffmpeg_failed"
    http_status = 500


class FfmpegMissing(FfmpegError):
    code = "ffmpeg_missing"
    http_status = 503


class FfmpegFailed(FfmpegError):
    code = "ffmpeg_failed"


class FfmpegTimeout(FfmpegError):
    code = "ffmpeg_timeout"
    http_status = 504


class DiskFull(DirectorError):
    """Not enough free space for what was asked; nothing was left behind."""

    code = "disk_full"
    # Refusals of an upload are 4xx (PROTOCOL 6); RFC 9110's 413 is content larger than the
    # server is willing *or able* to process.
    http_status = 413


def is_disk_full(error: BaseException) -> bool:
    """A write refused for want of space or quota: the caller's `DiskFull`, not a bug."""
    return isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EDQUOT)


class UnsupportedSource(DirectorError):
    code = "unsupported_source"
    http_status = 400


class DownloadFailed(DirectorError):
    code = "download_failed"
    http_status = 502


class SpeechError(DirectorError):
    """Speech to text failed: the transcription endpoint or the whisper model (issue 13)."""

    code = "speech_failed"
    http_status = 502


class SpeechUnreachable(SpeechError):
    """The transcription endpoint cannot be reached, or stopped answering."""

    code = "speech_unreachable"
    http_status = 503


class SpeechUnauthorized(SpeechError):
    """The transcription endpoint refused the API key (401/403)."""

    code = "speech_unauthorized"


class SpeechNotFound(SpeechError):
    """The endpoint has no `/audio/transcriptions`, or no such model (404)."""

    code = "speech_not_found"


class SpeechBadAnswer(SpeechError):
    """The endpoint answered something that is not a transcription."""

    code = "speech_bad_answer"


class SpeechModelFailed(SpeechError):
    """The whisper model file could not be loaded or run."""

    code = "speech_model_failed"
    http_status = 503


class SpeechNotConfigured(DirectorError):
    """No speech to text is chosen (Settings → Speech)."""

    code = "speech_not_configured"
    http_status = 409


class HubUnreachable(DirectorError):
    """The model hub cannot be reached (no network, a timeout) or answered something else."""

    code = "hub_unreachable"
    http_status = 503


class HubUnauthorized(DirectorError):
    """The hub refused (401/403): a gated or private repository; the message says where to
    accept the licence and where to put a token. 403, not 401: the launch token is fine."""

    code = "hub_unauthorized"
    http_status = 403


class HubNotFound(DirectorError):
    """The hub has no such repository, revision or file (404)."""

    code = "hub_not_found"
    http_status = 404


class HashMismatch(DirectorError):
    """A downloaded file's SHA-256 is not the one the hub publishes; nothing was kept."""

    code = "hash_mismatch"
    http_status = 502


class ImagesNotSupported(DirectorError):
    """Images are attached to an input, and the chosen model (or the built-in assistant)
    cannot see them: the reply says so instead of answering without them."""

    code = "images_not_supported"
    http_status = 400


class NotABackup(DirectorError):
    """A file to restore that is not a backup archive this app wrote (or of an unknown version)."""

    code = "not_a_backup"
    http_status = 400
