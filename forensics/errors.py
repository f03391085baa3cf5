"""Errors that end a run with a one-line message, warnings that do not, and redaction.

Every error a user can cause is a ``ForensicsError``: the command line prints its message
on one line and exits with its code (2: usage or input error). Warnings are collected in a
``Diagnostics`` so that the report can show them; they are also logged to standard error.
"""

from __future__ import annotations

import logging
import re
import traceback
from dataclasses import dataclass, field

log = logging.getLogger("forensics")


class ForensicsError(Exception):
    """A problem with the input or the invocation. The message says what to do."""

    exit_code = 2

    def __init__(self, message: str) -> None:
        super().__init__(redact(message))

    @property
    def message(self) -> str:
        return str(self)


class UsageError(ForensicsError):
    """The command line itself is wrong."""


class InputError(ForensicsError):
    """A repository, file, database or service given to us cannot be used."""


@dataclass
class Diagnostics:
    """Collects warnings during a run; each one is also logged once."""

    warnings: list[str] = field(default_factory=list)

    def warn(self, message: str) -> None:
        message = redact(message)
        if message not in self.warnings:
            self.warnings.append(message)
            log.warning(message)


# The user part of a URL runs to the last "@" before the path: a password may hold "@".
# Every pattern starts only where its first part cannot continue a longer run of the same
# characters (the look-behinds): a match is tried once per token, so a long token costs
# linear time, not quadratic.
_URL_CREDENTIALS = re.compile(
    r"(?<![a-zA-Z0-9+.\-])(?P<scheme>[a-zA-Z][a-zA-Z0-9+.\-]*://)(?P<cred>[^/?#\s]*)@"
)
# A parameter whose name says it is a secret, anywhere in a text: `password=`, `api_key=`,
# `X-Amz-Signature=`, `session=`, `csrf_token=`, and the same as a JSON member; its value
# runs to a separator. The name is matched whole, then checked for its ending.
_SECRET_NAME = re.compile(
    r"(?i)(?:password|passwd|pwd|secret|token|signature|credentials?|session(?:[_-]?id)?|"
    r"(?:api|access|private|secret|client)[_-]?key|auth)$"
)
_NAME = r"(?<![A-Za-z0-9_.\-])(?P<name>[A-Za-z0-9_.\-]+)"
_PARAMS = re.compile(rf"(?P<key>{_NAME}=)(?P<value>[^&\s#'\"<>,;]+)")
_MEMBERS = re.compile(rf'(?P<key>"{_NAME}"\s*:\s*")(?P<value>[^"]*)')
# Short names are secrets only as query parameters: `?key=`, `&sig=`, `&code=`.
_SECRET_QUERY = re.compile(r"(?i)(?P<key>[?&;](?:[A-Za-z0-9_.\-]*key|sig|code)=)[^&\s#'\"<>]+")
# Header-like text an API may echo back: `Authorization: Basic ...`, `Cookie: ...`.
_SECRET_HEADERS = re.compile(
    r"(?i)(?P<key>\b(?:proxy-)?(?:authorization|cookie|set-cookie|x-api-key|api-key)"
    r"[\"']?\s*[:=]\s*[\"']?)[^\r\n\"']+"
)
_BEARER = re.compile(r"(?i)\b(?P<scheme>bearer|basic|token)\s+(?P<value>[A-Za-z0-9._~+/=\-]{8,})")
_secrets: set[str] = set()


def register_secret(value: str | None) -> None:
    """Remember a credential (an API key from the environment, a password from a URL) so
    that it is never shown."""
    if value and len(value) >= 4:
        _secrets.add(value)


def redact(text: str) -> str:
    """Remove credentials from URLs, query strings, auth headers and known secrets."""
    if _secrets:
        for secret in sorted(_secrets, key=len, reverse=True):
            text = text.replace(secret, "***")
    # Each pattern needs a character or word that most text lacks: a test for it first
    # spares the regular expressions on nearly every string of a report.
    if "://" in text:
        text = _URL_CREDENTIALS.sub(lambda m: f"{m.group('scheme')}***@", text)
    if "=" in text or ":" in text:
        text = _SECRET_HEADERS.sub(lambda m: f"{m.group('key')}***", text)
    if "=" in text:
        text = _PARAMS.sub(_named_secret, text)
        text = _SECRET_QUERY.sub(lambda m: f"{m.group('key')}***", text)
    if ":" in text and '"' in text:
        text = _MEMBERS.sub(_named_secret, text)
    # Folded as the pattern's (?i) folds: "ſ" matches "s", "K" (Kelvin) "k", "ı" "i".
    folded = text.casefold().replace("ı", "i")
    if "bearer" in folded or "basic" in folded or "token" in folded:
        text = _BEARER.sub(_credential, text)
    return text


def _named_secret(match: re.Match[str]) -> str:
    if _SECRET_NAME.search(match.group("name")):
        return f"{match.group('key')}***"
    return match.group(0)


def _credential(match: re.Match[str]) -> str:
    """``Bearer x`` always hides x; ``token x`` and ``basic x`` only when x is not a plain
    word of prose."""
    if match.group("scheme").lower() != "bearer" and match.group("value").isalpha():
        return match.group(0)
    return f"{match.group('scheme')} ***"


class RedactingFilter(logging.Filter):
    """Log records leave with their message redacted, whoever logged them."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = redact(record.getMessage()), None
        return True


def describe_bug(exc: BaseException) -> str:
    """An unexpected exception on one line: its type, the first line of its message, and
    the function of ours that raised it (``KeyError: 'x' in forensics.render.html.render_html
    line 40``), with credentials removed."""
    lines = str(exc).strip().splitlines()
    text = f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__
    place = ""
    for frame, line in traceback.walk_tb(exc.__traceback__):
        module = frame.f_globals.get("__name__", "")
        if module == "forensics" or module.startswith("forensics."):
            place = f" in {module}.{frame.f_code.co_name} line {line}"
    return redact(text + place)
