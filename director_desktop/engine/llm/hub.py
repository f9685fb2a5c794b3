"""A client for a Hugging Face-style model hub: a repository's files, sizes and SHA-256.

It speaks the hub's plain HTTP API (what the hub's own client does without Xet): model info with
`?blobs=true` answers every file's size and, for LFS files, its sha256; a file is fetched from
`{endpoint}/{repo}/resolve/{revision}/{file}`, which redirects to a file store. The endpoint is
`HF_ENDPOINT` when set (read in `settings.py`), so a mirror, a proxy or a test double can stand in
for the hub. Failures become stable codes: `hub_unreachable`, `hub_unauthorized` (a gated or
private repository: where to accept the licence and where to put a token), `hub_not_found`.
The one user of `httpx` for the hub; imports `errors`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypedDict
from urllib.parse import quote, urlsplit

from director_desktop.errors import HubNotFound, HubUnauthorized, HubUnreachable, InvalidPayload

if TYPE_CHECKING:  # imported where used: ~40 ms no launch needs (issue 17)
    import httpx

DEFAULT_ENDPOINT = "https://huggingface.co"
TIMEOUT = (20.0, 10.0)
"""Seconds to wait for an answer, and to connect."""
_PART = r"[A-Za-z0-9][A-Za-z0-9._-]{0,95}"
_REPO = re.compile(rf"{_PART}/{_PART}")
_REVISION = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]{0,199}")
HUB_HOSTS = {"huggingface.co", "www.huggingface.co", "hf.co"}
TOKEN_PLACE = "Settings → Models → Hugging Face token"  # noqa: S105 (a place, not a secret)


@dataclass(frozen=True)
class HubFile:
    path: str
    size: int | None
    sha256: str | None
    """The LFS sha256 the hub publishes; None for a small file kept in git itself."""


@dataclass(frozen=True)
class HubRepo:
    repo: str
    revision: str
    commit: str | None
    gated: bool
    files: tuple[HubFile, ...]

    def file(self, path: str) -> HubFile | None:
        return next((f for f in self.files if f.path == path), None)


@dataclass(frozen=True)
class RepoRef:
    """What a user pasted: a repository, maybe one file in it and a revision."""

    repo: str
    file: str | None = None
    revision: str | None = None


def check_repo(repo: str) -> str:
    if not _REPO.fullmatch(repo) or ".." in repo:
        raise InvalidPayload("repo must be a hub repository, owner/name", code="bad_repo")
    return repo


def check_revision(revision: str) -> str:
    if not _REVISION.fullmatch(revision) or ".." in revision:
        raise InvalidPayload("that revision is not a branch, tag or commit", code="bad_repo")
    return revision


def parse_repo(text: str, endpoint: str = DEFAULT_ENDPOINT) -> RepoRef:
    """`owner/name`, or a repository or file URL on the hub (`.../blob|resolve/<rev>/<file>`)."""
    text = text.strip()
    if "://" not in text and not text.startswith(("hf.co/", "huggingface.co/")):
        return RepoRef(check_repo(text.strip("/")))
    url = urlsplit(text if "://" in text else "https://" + text)
    hosts = HUB_HOSTS | {urlsplit(endpoint).netloc}
    if url.netloc.lower() not in hosts:
        raise InvalidPayload("paste a Hugging Face repository or file link", code="bad_repo")
    parts = [p for p in url.path.split("/") if p]
    if parts[:1] == ["models"]:
        parts = parts[1:]
    if len(parts) < 2:
        raise InvalidPayload("the link names no repository (owner/name)", code="bad_repo")
    repo = check_repo("/".join(parts[:2]))
    if len(parts) >= 5 and parts[2] in ("blob", "resolve"):
        return RepoRef(repo, "/".join(parts[4:]), check_revision(parts[3]))
    if len(parts) >= 4 and parts[2] == "tree":
        return RepoRef(repo, None, check_revision(parts[3]))
    return RepoRef(repo)


class _ClientOptions(TypedDict):
    """What the async and the blocking client share: the token, timeouts, redirects, no proxy
    settings from the environment."""

    headers: dict[str, str]
    timeout: httpx.Timeout
    follow_redirects: bool
    trust_env: bool


class HubClient:
    def __init__(
        self,
        endpoint: str = DEFAULT_ENDPOINT,
        token: Callable[[], str | None] = lambda: None,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.endpoint = endpoint.rstrip("/")
        self._token = token
        self._transport = transport

    def client(self, timeout: tuple[float, float] = TIMEOUT) -> httpx.AsyncClient:
        """A client sending the token (if any) to the hub; httpx drops it on a redirect to
        another host, so the file store never sees it."""
        import httpx

        return httpx.AsyncClient(transport=self._transport, **self._options(timeout))

    def blocking_client(self, timeout: tuple[float, float] = TIMEOUT) -> httpx.Client:
        """The same, blocking: a download's transfer runs in a thread (see `downloads`)."""
        import httpx

        return httpx.Client(**self._options(timeout))

    def _options(self, timeout: tuple[float, float]) -> _ClientOptions:
        import httpx

        token = self._token()
        return {
            "headers": {"Authorization": f"Bearer {token}"} if token else {},
            "timeout": httpx.Timeout(timeout[0], connect=timeout[1]),
            "follow_redirects": True,
            "trust_env": False,
        }

    def page(self, repo: str) -> str:
        """Where a user reads a repository's licence and accepts it (gated models)."""
        return f"{self.endpoint}/{repo}"

    def resolve_url(self, repo: str, revision: str, path: str) -> str:
        return f"{self.endpoint}/{repo}/resolve/{quote(revision, safe='')}/{quote(path, safe='/')}"

    async def repo(self, repo: str, revision: str = "main") -> HubRepo:
        """The repository's files with sizes and LFS sha256, live from the hub."""
        import httpx

        check_repo(repo)
        check_revision(revision)
        url = f"{self.endpoint}/api/models/{repo}/revision/{quote(revision, safe='')}"
        try:
            async with self.client() as client:
                response = await client.get(url, params={"blobs": "true"})
        except httpx.HTTPError as exc:
            raise self.unreachable(exc) from exc
        self.check(response, repo)
        try:
            info = response.json()
            files = tuple(_file(s) for s in info.get("siblings") or ())
        except (ValueError, TypeError, AttributeError, KeyError) as exc:
            raise HubUnreachable(f"the hub at {self.endpoint} answered something else") from exc
        commit = info.get("sha")
        return HubRepo(
            repo,
            revision,
            commit if isinstance(commit, str) else None,
            bool(info.get("gated")),
            files,
        )

    def unreachable(self, exc: BaseException) -> HubUnreachable:
        import httpx

        what = "timed out" if isinstance(exc, httpx.TimeoutException) else "cannot be reached"
        return HubUnreachable(
            f"the model hub ({self.endpoint}) {what}: check the network connection"
        )

    def check(self, response: httpx.Response, repo: str) -> None:
        """Raise the hub's refusal as a stable code; nothing for a success."""
        status = response.status_code
        if status < 400:
            return
        reason = response.headers.get("x-error-code", "")
        if status == 404 or reason in ("RepoNotFound", "EntryNotFound", "RevisionNotFound"):
            what = {"EntryNotFound": "that file", "RevisionNotFound": "that revision"}
            raise HubNotFound(
                f"the hub has no {what.get(reason, 'repository')} {repo!r}"
                + (
                    " (or it is private: add a token in " + TOKEN_PLACE + ")"
                    if status == 401
                    else ""
                )
            )
        if status in (401, 403):
            token = "the token given was refused" if self._token() else "no token is set"
            raise HubUnauthorized(
                f"{repo} is gated: accept its licence at {self.page(repo)}, then add a "
                f"Hugging Face access token in {TOKEN_PLACE} ({token})"
            )
        raise HubUnreachable(f"the model hub answered {status} for {repo}")


def _file(sibling: dict[str, object]) -> HubFile:
    path = sibling["rfilename"]
    if not isinstance(path, str):
        raise TypeError("rfilename")
    lfs = sibling.get("lfs")
    size, sha256 = sibling.get("size"), None
    if isinstance(lfs, dict):
        sha256 = lfs.get("sha256") if isinstance(lfs.get("sha256"), str) else None
        size = lfs.get("size", size)
    return HubFile(path, size if isinstance(size, int) else None, sha256)
