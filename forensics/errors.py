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


_URL_CREDENTIALS = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.\-]*://)(?P<cred>[^/@\s]+)@")
_SECRET_PARAMS = re.compile(
    r"(?i)(?P<key>(?:password|passwd|pwd|token|api[_-]?key|secret|access[_-]?token)=)[^&\s]+"
)
_BEARER = re.compile(r"(?i)(bearer|token)\s+[A-Za-z0-9._\-]{8,}")
_secrets: set[str] = set()


def register_secret(value: str | None) -> None:
    """Remember a credential (an API key from the environment) so that it is never shown."""
    if value and len(value) >= 4:
        _secrets.add(value)


def redact(text: str) -> str:
    """Remove credentials from URLs, query strings, auth headers and known secrets."""
    text = _URL_CREDENTIALS.sub(lambda m: f"{m.group('scheme')}***@", text)
    text = _SECRET_PARAMS.sub(lambda m: f"{m.group('key')}***", text)
    text = _BEARER.sub(lambda m: f"{m.group(1)} ***", text)
    for secret in _secrets:
        text = text.replace(secret, "***")
    return text


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
