"""The production health check (``--health-url``): one GET, summarised. It never raises:
a failure is recorded in the ``HealthCheck``. The URL is shown without credentials."""

from __future__ import annotations

import json

from forensics.errors import redact
from forensics.model.report import HealthCheck
from forensics.model.text import clean, decode
from forensics.sources.http import RedirectRefused, get

SUMMARY_LENGTH = 200
_READ_LIMIT = 64 * 1024


def summarize(body: bytes) -> str:
    """``status: healthy`` when the body is JSON with a ``status`` field, otherwise the
    start of the text on one line."""
    text = decode(body)
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        data = None
    if isinstance(data, dict) and isinstance(data.get("status"), str | int | float | bool):
        return redact(f"status: {clean(str(data['status']))}")[:SUMMARY_LENGTH]
    flat = " ".join(text.split())
    if len(flat) > SUMMARY_LENGTH:
        flat = flat[: SUMMARY_LENGTH - 1] + "…"
    return redact(flat)


def check(url: str, timeout: float = 5.0) -> HealthCheck:
    shown = redact(url)
    if not url.lower().startswith(("http://", "https://")):
        return HealthCheck(url=shown, ok=False, error="not an http:// or https:// URL")
    try:
        answer = get(
            url,
            {"Accept": "application/json, text/plain;q=0.9, */*;q=0.1"},
            timeout,
            limit=_READ_LIMIT,
        )
    except RedirectRefused as exc:
        error = f"redirected to another origin ({exc.target}); not followed"
        return HealthCheck(url=shown, ok=False, error=error[:SUMMARY_LENGTH])
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "reason", None) or exc
        return HealthCheck(url=shown, ok=False, error=redact(f"{reason}")[:SUMMARY_LENGTH])
    return HealthCheck(
        url=shown,
        ok=200 <= answer.status < 300,
        status=answer.status,
        summary=summarize(answer.body),
        error=None if 200 <= answer.status < 300 else f"HTTP {answer.status}",
    )
