"""Run configuration and the parsing of ``WHEN`` values (ISO dates or relative spans)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from forensics.errors import UsageError

_SPAN = re.compile(r"^\s*(\d+)\s*([mhdw])\s*$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_when(text: str, now: datetime, option: str = "--since") -> datetime:
    """An ISO date or time (UTC unless it names a zone), or a span back from ``now``:
    ``90m``, ``36h``, ``7d``, ``2w``."""
    span = _SPAN.match(text)
    if span:
        return now - timedelta(**{_UNITS[span.group(2)]: int(span.group(1))})
    value = text.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise UsageError(
            f"{option} {text!r} is not a date: use an ISO date or time such as 2025-11-13 or "
            "2025-11-13T09:30, or a span such as 90m, 36h, 7d, 2w"
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def to_utc(value: datetime) -> datetime:
    """A timezone-aware UTC datetime; naive values are taken as UTC."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


@dataclass(frozen=True)
class Thresholds:
    """The tunable thresholds of the activity rules."""

    burst_min_commits: int = 4
    burst_max_gap: timedelta = timedelta(minutes=15)
    churn_min_edits: int = 5
    churn_percentile: float = 95.0


@dataclass(frozen=True)
class AnalyzeConfig:
    """Everything ``analyze`` (and ``audit``) need. ``now`` is injected, never read later."""

    repo: Path
    now: datetime
    rev: str = "HEAD"
    since: datetime | None = None
    until: datetime | None = None
    migrations: tuple[str, ...] = ()
    deploys: tuple[str, ...] = ()
    deploy_logs: tuple[str, ...] = ()
    prod_revisions: tuple[str, ...] = ()
    db_url: str | None = None
    health_url: str | None = None
    all_commits: bool = False
    cache_dir: Path | None = None
    use_cache: bool = True
    thresholds: Thresholds = field(default_factory=Thresholds)

    def __post_init__(self) -> None:
        if self.since and self.until and self.until < self.since:
            raise UsageError(
                f"--until ({self.until:%Y-%m-%d %H:%M}) is before --since "
                f"({self.since:%Y-%m-%d %H:%M}): swap them or widen the window"
            )
