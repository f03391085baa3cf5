"""A small JSON-over-HTTP client for the deploy providers, and the raw GET the health check uses.

Only the standard library (``urllib``). Requests time out; 429 and 5xx answers (and network
errors) are retried a bounded number of times with exponential backoff, honouring a capped
``Retry-After``. Everything else a user can cause ends in a one-line ``InputError``. Request
headers carry credentials: they are never logged, and every message passes through
``errors.redact``.
"""

from __future__ import annotations

import json
import logging
import time
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from forensics.errors import InputError, redact, register_secret

log = logging.getLogger("forensics.http")

_MAX_BODY = 20 * 1024 * 1024
_CHUNK = 256 * 1024
_USER_AGENT = "forensics/0.1 (+migration incident reports)"


@dataclass(frozen=True)
class RawResponse:
    """One HTTP answer, error statuses included."""

    status: int
    headers: Mapping[str, str]
    body: bytes


@dataclass(frozen=True)
class JsonResponse:
    """A decoded JSON reply, with its headers and the URL that gave it."""

    data: object
    headers: Mapping[str, str]
    url: str


Sink = Callable[[bytes], None]


def get(
    url: str,
    headers: Mapping[str, str],
    timeout: float,
    limit: int = _MAX_BODY,
    sink: Sink | None = None,
) -> RawResponse:
    """One GET. HTTP error statuses are returned, not raised; network failures raise
    ``OSError`` (``urllib.error.URLError`` and timeouts are ``OSError``); a URL that is not
    one raises ``ValueError``. With a ``sink``, a successful body is streamed into it in
    chunks, whatever its size, and the returned body is empty."""
    # urllib.request and http.client (with ssl and email) load only when a request is made:
    # they cost a run that calls no API a sixtieth of a second.
    import http.client
    import urllib.error
    import urllib.request

    request = urllib.request.Request(url, headers={"User-Agent": _USER_AGENT, **headers})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            if sink is None:
                return RawResponse(answer.status, dict(answer.headers.items()), answer.read(limit))
            while chunk := answer.read(_CHUNK):
                sink(chunk)
            return RawResponse(answer.status, dict(answer.headers.items()), b"")
    except urllib.error.HTTPError as exc:
        with exc:
            body = exc.read(limit) if exc.fp is not None else b""
        return RawResponse(exc.code, dict(exc.headers.items()) if exc.headers else {}, body)
    except http.client.HTTPException as exc:
        # A broken reply (bad status line, truncated body) is a network failure to us.
        raise OSError(f"{type(exc).__name__}: {exc}") from None


def retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        from email.utils import parsedate_to_datetime

        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def next_link(link_header: str | None) -> str | None:
    """The ``rel="next"`` URL of an RFC 8288 ``Link`` header, as GitHub sends it."""
    for part in (link_header or "").split(","):
        target, _, params = part.partition(";")
        rels = [p.strip() for p in params.split(";")]
        if any(r.replace(" ", "") in ('rel="next"', "rel=next") for r in rels):
            return target.strip().strip("<>")
    return None


@dataclass
class JsonClient:
    """GETs JSON from one service. ``what`` names it in messages (``the Render API``);
    ``credential_hint`` says what to check on 401/403 (``RENDER_API_KEY``)."""

    base_url: str
    what: str
    headers: Mapping[str, str] = field(default_factory=dict)
    secret: str | None = None
    credential_hint: str = "the credentials"
    timeout: float = 15.0
    attempts: int = 5
    backoff: float = 0.5
    max_wait: float = 30.0
    sleep: Callable[[float], None] = time.sleep

    def __post_init__(self) -> None:
        register_secret(self.secret)
        self.base_url = self.base_url.rstrip("/")

    def url(self, path: str, params: Mapping[str, str | int] | None = None) -> str:
        query = f"?{urllib.parse.urlencode(params)}" if params else ""
        return f"{self.base_url}{path}{query}"

    def same_origin(self, url: str) -> bool:
        """Paging links are followed only to the configured service: the credentials must
        never be sent anywhere else."""
        mine, theirs = urllib.parse.urlsplit(self.base_url), urllib.parse.urlsplit(url)
        return (mine.scheme, mine.netloc) == (theirs.scheme, theirs.netloc)

    def get_json(self, url: str) -> JsonResponse:
        return self._decode(self._get(url), url, redact(url))

    def get_stream(self, url: str, make_sink: Callable[[], Sink]) -> None:
        """Streams a text body (a log) into a fresh sink per attempt: a retried download
        starts over."""
        answer = self._get(url, make_sink)
        if answer.status >= 400:
            self._decode(answer, url, redact(url))

    def _get(self, url: str, make_sink: Callable[[], Sink] | None = None) -> RawResponse:
        """One GET with the retries: 429, 5xx and network errors are retried."""
        shown = redact(url)
        for attempt in range(1, self.attempts + 1):
            last = attempt == self.attempts
            log.debug("GET %s (attempt %d)", shown, attempt)
            try:
                sink = make_sink() if make_sink is not None else None
                answer = get(url, self.headers, self.timeout, sink=sink)
            except ValueError:
                raise InputError(
                    f"{shown} is not a URL {self.what} can be read from: check the base URL"
                ) from None
            except OSError as exc:
                reason = redact(str(getattr(exc, "reason", exc)))
                if last:
                    raise InputError(
                        f"cannot reach {self.what} at {shown} ({reason}) after {attempt} "
                        "attempts: check the network or the base URL"
                    ) from None
                self._wait(attempt, None, f"network error ({reason})")
                continue
            if answer.status == 429 or answer.status >= 500:
                if last:
                    raise InputError(
                        f"{self.what} kept answering HTTP {answer.status} for {shown} after "
                        f"{attempt} attempts: wait a few minutes and run again"
                    )
                self._wait(attempt, answer.headers, f"HTTP {answer.status}")
                continue
            return answer
        raise AssertionError("unreachable")  # pragma: no cover

    def _wait(self, attempt: int, headers: Mapping[str, str] | None, why: str) -> None:
        asked = retry_after(header(headers or {}, "Retry-After"))
        delay = asked if asked is not None else self.backoff * 2 ** (attempt - 1)
        delay = min(delay, self.max_wait)
        log.info("%s answered %s; retrying in %.1fs", self.what, why, delay)
        self.sleep(delay)

    def _decode(self, answer: RawResponse, url: str, shown: str) -> JsonResponse:
        if answer.status in (401, 403):
            raise InputError(
                f"{self.what} refused the request (HTTP {answer.status}) for {shown}: check "
                f"{self.credential_hint}"
            )
        if answer.status == 404:
            raise InputError(
                f"{self.what} has nothing at {shown} (HTTP 404): check the id in --deploys"
            )
        if answer.status >= 400:
            raise InputError(
                f"{self.what} rejected {shown} (HTTP {answer.status}): check the --deploys value"
            )
        try:
            data = json.loads(answer.body.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise InputError(
                f"{self.what} sent a reply that is not JSON for {shown}: check the base URL "
                "(is a proxy in the way?)"
            ) from None
        return JsonResponse(data=data, headers=answer.headers, url=url)


def header(headers: Mapping[str, str], name: str) -> str | None:
    """A header by case-insensitive name."""
    for key, value in headers.items():
        if key.lower() == name.lower():
            return value
    return None
