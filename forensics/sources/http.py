"""A small JSON-over-HTTP client for the deploy providers, and the raw GET the health check uses.

Only the standard library (``urllib``). Requests time out; 429 and 5xx answers (and network
errors) are retried a bounded number of times with exponential backoff, honouring a capped
``Retry-After``. Everything else a user can cause ends in a one-line ``InputError``. Request
headers carry credentials: they are never logged, and every message passes through
``errors.redact``.

Credentials never leave the origin they were given for. A URL is parsed before use: its
user and password become a Basic ``Authorization`` header (and a registered secret), never
part of a host or port. A redirect to another origin (scheme, host, port) is refused, not
followed with the headers stripped: the answer there would be someone else's data.
"""

from __future__ import annotations

import base64
import json
import logging
import time
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from typing import Any

from forensics.errors import InputError, redact, register_secret

log = logging.getLogger("forensics.http")

_MAX_BODY = 20 * 1024 * 1024
_CHUNK = 256 * 1024
_USER_AGENT = "forensics/0.1 (+migration incident reports)"


@dataclass(frozen=True)
class RawResponse:
    """One HTTP answer, error statuses included; ``url`` is where it came from after
    same-origin redirects."""

    status: int
    headers: Mapping[str, str]
    body: bytes
    url: str = ""


@dataclass(frozen=True)
class JsonResponse:
    """A decoded JSON reply, with its headers, the URL asked for and the URL that answered
    (they differ after a same-origin redirect)."""

    data: object
    headers: Mapping[str, str]
    url: str
    answered_by: str = ""

    @property
    def redirected(self) -> bool:
        return bool(self.answered_by) and self.answered_by != self.url


class RedirectRefused(Exception):
    """The server sent the request to another origin; it was not followed."""

    def __init__(self, target: str) -> None:
        super().__init__(redact(target))
        self.target = redact(target)
        self.location = target  # for a hand-off the caller asked for; never shown


Origin = tuple[str, str, int]
_PORTS = {"http": 80, "https": 443}


def origin(url: str) -> Origin:
    """Scheme, host and port of a URL. ``ValueError`` for a port that is not a number,
    whatever the user part holds (``urlsplit`` takes the host after the last ``@``)."""
    parts = urllib.parse.urlsplit(url)
    scheme = parts.scheme.lower()
    return scheme, (parts.hostname or ""), parts.port or _PORTS.get(scheme, 0)


def without_credentials(url: str) -> tuple[str, str | None]:
    """The URL without its user part, and the Basic ``Authorization`` value it held."""
    parts = urllib.parse.urlsplit(url)
    if "@" not in parts.netloc:
        return url, None
    userinfo, _, hostport = parts.netloc.rpartition("@")
    user, _, password = userinfo.partition(":")
    user, password = urllib.parse.unquote(user), urllib.parse.unquote(password)
    register_secret(password)
    register_secret(userinfo)
    token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
    register_secret(token)
    return urllib.parse.urlunsplit(parts._replace(netloc=hostport)), f"Basic {token}"


@cache
def _opener() -> Any:
    """urllib's opener with redirects followed only within the origin of the request.
    urllib.request (with http.client, ssl and email) loads only when a request is made: it
    costs a run that calls no API a sixtieth of a second."""
    import urllib.request

    class SameOriginRedirects(urllib.request.HTTPRedirectHandler):
        def redirect_request(
            self,
            req: urllib.request.Request,
            fp: Any,
            code: int,
            msg: str,
            headers: Any,
            newurl: str,
        ) -> urllib.request.Request | None:
            try:
                same = origin(newurl) == origin(req.full_url)
            except ValueError:
                same = False
            if not same:
                raise RedirectRefused(newurl)
            return super().redirect_request(req, fp, code, msg, headers, newurl)

    return urllib.request.build_opener(SameOriginRedirects())


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
    one raises ``ValueError``; a redirect to another origin raises ``RedirectRefused``.
    With a ``sink``, a successful body is streamed into it in chunks, whatever its size,
    and the returned body is empty."""
    import http.client
    import urllib.error
    import urllib.request

    origin(url)  # a bad port is a ValueError here, before anything is sent
    target, basic = without_credentials(url)
    sent = {"User-Agent": _USER_AGENT, **({"Authorization": basic} if basic else {}), **headers}
    request = urllib.request.Request(target, headers=sent)
    try:
        with _opener().open(request, timeout=timeout) as answer:
            if sink is None:
                body = answer.read(limit)
            else:
                while chunk := answer.read(_CHUNK):
                    sink(chunk)
                body = b""
            return RawResponse(answer.status, dict(answer.headers.items()), body, answer.url)
    except urllib.error.HTTPError as exc:
        with exc:
            body = exc.read(limit) if exc.fp is not None else b""
        return RawResponse(
            exc.code, dict(exc.headers.items()) if exc.headers else {}, body, exc.url
        )
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
        try:
            return origin(self.base_url) == origin(url)
        except ValueError:
            return False

    def get_json(self, url: str) -> JsonResponse:
        return self._decode(self._get(url), url, redact(url))

    def get_stream(self, url: str, make_sink: Callable[[], Sink], hand_off: bool = False) -> None:
        """Streams a text body (a log) into a fresh sink per attempt: a retried download
        starts over. With ``hand_off``, a redirect to another origin is taken as the
        service handing the download over (GitHub's logs endpoint answers with a pre-signed
        URL): that address is read once with none of this client's headers."""
        answer = self._get(url, make_sink, hand_off)
        if answer.status >= 400:
            self._decode(answer, url, redact(url))

    def _handed_off(self, location: str, shown: str, make_sink: Callable[[], Sink]) -> RawResponse:
        mine = urllib.parse.urlsplit(self.base_url).scheme.lower()
        if urllib.parse.urlsplit(location).scheme.lower() not in ("https", mine):
            raise InputError(
                f"{self.what} handed {shown} to {redact(location)}, which is not HTTPS; "
                "it was not read"
            )
        log.debug("GET %s (handed off by %s)", redact(location), shown)
        try:
            return get(location, {}, self.timeout, sink=make_sink())
        except (OSError, ValueError, RedirectRefused) as exc:
            raise InputError(
                f"{self.what} handed {shown} to {redact(location)}, which could not be read "
                f"({redact(str(exc))})"
            ) from None

    def _get(
        self, url: str, make_sink: Callable[[], Sink] | None = None, hand_off: bool = False
    ) -> RawResponse:
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
            except RedirectRefused as exc:
                if hand_off and make_sink is not None:
                    return self._handed_off(exc.location, shown, make_sink)
                raise InputError(
                    f"{self.what} redirected {shown} to another origin ({exc.target}); the "
                    "request was not followed, so the credentials stay with the configured "
                    "service: if the new address is right, set the base URL to it"
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
        return JsonResponse(
            data=data, headers=answer.headers, url=url, answered_by=answer.url or url
        )


def no_deploys_after_redirect(spec: str, answer: JsonResponse) -> InputError:
    """A redirected request that found nothing is an error: an empty list from a login page
    or a moved API must not read as "no deploys"."""
    return InputError(
        f"--deploys {spec}: {redact(answer.url)} was redirected to {redact(answer.answered_by)}, "
        "which listed no deploys: set the base URL to the service's real address"
    )


def header(headers: Mapping[str, str], name: str) -> str | None:
    """A header by case-insensitive name."""
    for key, value in headers.items():
        if key.lower() == name.lower():
            return value
    return None
