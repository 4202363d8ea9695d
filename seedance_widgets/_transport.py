"""How one API request is made: checked settings in, a bounded `Answer` out.

- `checked_key` and `checked_base_url` refuse a key or an address that cannot work *before*
  anything is sent, with errors that never contain the key.
- `exchange` sends one request and reads its answer within an overall time limit (a server that
  trickles its body cannot stretch a deadline: httpx's read timeout restarts with every byte)
  and a size limit, then hands the bytes to `_answer`, the one place server data enters.
- `PollSlots` caps how many status requests *start* together, so hundreds of watched tasks do
  not answer in one loop turn; a slot is only lent for `hold` seconds, so a stuck request cannot
  starve the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx

from ._answer import MAX_ANSWER_BYTES, clean_headers, decode_json
from ._errors import APIError, UsageError, clean_text, error_class, register_secret
from ._retry import server_wait

log = logging.getLogger("seedance_widgets")

# A connection that was never made cannot have delivered a request: after these (and only
# these) a create may be sent again.
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout,
            httpx.UnsupportedProtocol)
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOST = re.compile(rf"{_LABEL}(?:\.{_LABEL})*\.?")


def checked_key(raw: Any, source: str) -> str:
    """The API key, stripped of surrounding whitespace (a key read from a file keeps its
    newline), or UsageError. The error says what is wrong and where, never the key itself."""
    if not isinstance(raw, str):
        raise UsageError(f"the API key ({source}) must be text, not {type(raw).__name__}")
    register_secret(raw)  # first: whatever happens next must not be able to show it
    key = raw.strip()
    if not key:
        raise UsageError(f"the API key ({source}) is empty")
    for i, c in enumerate(key):
        if c.isspace() or not c.isprintable() or not c.isascii():
            what = ("a space or line break" if c.isspace() else
                    "a control character" if not c.isprintable() else "a non-ASCII character")
            raise UsageError(
                f"the API key ({source}) has {what} at position {i + 1} of {len(key)}; keys "
                "are one word of plain ASCII: check how it was pasted or read")
    return key


def checked_base_url(raw: Any, source: str) -> str:
    """The API's base URL without a trailing slash, or UsageError naming `source`."""
    example = "it should look like https://api.tokenlab.sh"
    if not isinstance(raw, str) or not raw.strip():
        raise UsageError(f"{source} is empty; {example}")
    text = raw.strip()
    shown = text if len(text) <= 80 else text[:79] + "…"
    try:
        url = httpx.URL(text)
    except (httpx.InvalidURL, ValueError, TypeError):
        url = None
    problem = None
    if url is None or any(c.isspace() for c in text):
        problem = "it is not a URL"
    elif url.scheme not in ("http", "https"):
        problem = f"the scheme must be https:// (or http:// for a local server), not " \
                  f"{url.scheme + '://' if url.scheme else 'none'}"
    elif url.userinfo:
        raise UsageError(f"{source} has a user name or password in it; remove them (the API "
                         "key is the only credential, and it goes in TOKENLAB_API_KEY)")
    elif not url.host or not _host_ok(url.host):
        problem = "it has no valid host name"
    elif url.port is not None and not 0 < url.port < 65536:
        problem = f"port {url.port} is not a port (1-65535)"
    elif url.query or url.fragment:
        problem = "it must not have a ?query or #fragment"
    if problem:
        raise UsageError(f"{source} {clean_text(shown)!r} is not a usable API address: "
                         f"{problem}; {example}")
    assert url is not None
    if url.scheme == "http" and not _loopback(url.host):
        log.warning("%s uses plain http to %s: the API key would travel unencrypted",
                    source, url.host)
    return str(url).rstrip("/")


def _host_ok(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        return len(host) <= 253 and _HOST.fullmatch(host) is not None


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


@dataclass(frozen=True)
class Answer:
    """One HTTP answer, read and cleaned: `body` is the decoded JSON (None if unreadable)."""

    status: int
    reason: str
    headers: dict[str, str] = field(repr=False)
    body: Any = field(repr=False)

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


class TooLarge(Exception):
    """A body went past the size limit (an internal signal; callers raise their own error)."""


async def read_capped(resp: httpx.Response, limit: int) -> bytes:
    """The (decoded) body, or TooLarge once it passes `limit` bytes: a gzip bomb or an
    endless body stops there instead of filling memory."""
    chunks, size = [], 0
    async for chunk in resp.aiter_bytes():
        size += len(chunk)
        if size > limit:
            raise TooLarge(f"more than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


class PollSlots:
    """At most `size` requests start together; each holds its slot for at most `hold` s."""

    def __init__(self, size: int, hold: float = 1.0) -> None:
        self._sem = asyncio.Semaphore(max(1, size))
        self.hold = hold

    @contextlib.asynccontextmanager
    async def lease(self) -> AsyncIterator[None]:
        await self._sem.acquire()
        released = False

        def release() -> None:
            nonlocal released
            if not released:
                released = True
                self._sem.release()

        handle = asyncio.get_running_loop().call_later(self.hold, release)
        try:
            yield
        finally:
            handle.cancel()
            release()


async def exchange(http: httpx.AsyncClient, method: str, url: str, *, limit_s: float,
                   deadline: float | None = None, json: Any = None,
                   timeout: httpx.Timeout | None = None,
                   slots: PollSlots | None = None) -> Answer:
    """Send one request and read its answer within `limit_s` seconds in all, and by
    `deadline` (a loop time) when given. The wait for a poll slot counts against the deadline
    only: a queue of a thousand polls must not time out each other's attempts.
    Raises TimeoutError at either limit, and httpx's transport errors."""
    async with asyncio.timeout_at(deadline):
        async with slots.lease() if slots else contextlib.nullcontext():
            async with asyncio.timeout(limit_s):
                kwargs: dict[str, Any] = {} if timeout is None else {"timeout": timeout}
                if json is not None:
                    kwargs["json"] = json
                async with http.stream(method, url, **kwargs) as resp:
                    try:
                        content = await read_capped(resp, MAX_ANSWER_BYTES)
                    except TooLarge:
                        content = b""  # unreadable: the status and headers still count
    return Answer(resp.status_code, clean_text(resp.reason_phrase or ""),
                  clean_headers(resp.headers), decode_json(content))


def api_error(answer: Answer) -> APIError:
    """The typed error for an error answer; callers decide to raise it or retry."""
    body = answer.body
    err = body.get("error") if isinstance(body, dict) else None
    message = err.get("message") if isinstance(err, dict) else err
    if not isinstance(message, str) or not message:
        message = answer.reason or "error"
    cls = error_class(answer.status, body)
    return cls(message, status_code=answer.status, body=body, headers=answer.headers,
               retry_after=server_wait(body, answer.headers))
