"""Run configuration and the parsing of ``WHEN`` values (ISO dates or relative spans)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from forensics.errors import UsageError
from forensics.model.findings import Finding

_SPAN = re.compile(r"^\s*(\d+)\s*([mhdw])\s*$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_when(text: str, now: datetime, option: str = "--since") -> datetime:
    """An ISO date or time (UTC unless it names a zone), or a span back from ``now``:
    ``90m``, ``36h``, ``7d``, ``2w``."""
    span = _SPAN.match(text)
    if span:
        try:
            return _bounded(
                now - timedelta(**{_UNITS[span.group(2)]: int(span.group(1))}), text, option
            )
        except OverflowError:
            raise _outside(text, option) from None
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
    try:
        return _bounded(parsed.astimezone(UTC), text, option)
    except OverflowError:  # an offset that pushes year 1 or 9999 over the edge
        raise _outside(text, option) from None


# Git has no commit before the epoch, and the window is widened by days and weeks in places:
# times outside these bounds are mistakes, said so, not errors from datetime arithmetic.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)


def _bounded(when: datetime, text: str, option: str) -> datetime:
    if not EARLIEST <= when <= LATEST:
        raise _outside(text, option)
    return when


def _outside(text: str, option: str) -> UsageError:
    return UsageError(
        f"{option} {text!r} is outside {EARLIEST:%Y-%m-%d} to {LATEST:%Y-%m-%d}: use a date "
        "in that range or a shorter span"
    )


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
class Policy:
    """Findings a team has chosen not to see: rule ids, path globs, baseline fingerprints."""

    ignore: frozenset[str] = frozenset()
    exclude: tuple[str, ...] = ()
    baseline: frozenset[str] = frozenset()
    baseline_name: str | None = None


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
    policy: Policy = field(default_factory=Policy)
    # The web address of the repository that reports link to, instead of origin's.
    link_base: str | None = None

    def __post_init__(self) -> None:
        if self.since and self.until and self.until < self.since:
            raise UsageError(
                f"--until ({self.until:%Y-%m-%d %H:%M}) is before --since "
                f"({self.since:%Y-%m-%d %H:%M}): swap them or widen the window"
            )


# -- team settings: [tool.forensics] and --config -------------------------------------------
SETTING_KEYS = ("ignore", "exclude", "baseline", "fail-on", "deploys", "migrations")
# Deploy sources whose value is a file: relative to the settings file, not to where the
# command happens to run.
_FILE_SOURCES = ("render", "github", "csv", "jsonl")


@dataclass(frozen=True)
class Settings:
    """What a team writes down once (``[tool.forensics]`` in ``pyproject.toml``, or a TOML
    file given with ``--config``); command-line options win over every key."""

    ignore: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    baseline: Path | None = None
    fail_on: str | None = None
    deploys: tuple[str, ...] = ()
    migrations: tuple[str, ...] = ()
    origin: str | None = None


def _strings(table: dict[str, object], key: str, origin: str) -> tuple[str, ...]:
    value = table.get(key, [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise UsageError(f"{origin}: '{key}' must be a list of strings")
    return tuple(value)


def relative_source(source: str, folder: Path) -> str:
    prefix, _sep, value = source.partition(":")
    is_file = prefix in _FILE_SOURCES or (prefix == "github-actions" and value.endswith(".json"))
    if is_file and value and not Path(value).is_absolute():
        return f"{prefix}:{folder / value}"
    return source


def load_settings(repo: Path, config: Path | None = None) -> Settings:
    """``--config FILE`` if given (its ``[tool.forensics]`` table, or its top level), else
    ``[tool.forensics]`` of the repository's ``pyproject.toml``, else nothing."""
    import tomllib

    path = config if config is not None else repo / "pyproject.toml"
    if config is None and not path.is_file():
        return Settings()
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8", errors="replace"))
    except OSError as exc:
        raise UsageError(f"cannot read --config {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{path} is not valid TOML ({exc}); fix it or pass --config") from None
    tool = document.get("tool", {})
    table = tool.get("forensics") if isinstance(tool, dict) else None
    if table is None:
        table = document if config is not None else {}
    if not isinstance(table, dict):
        raise UsageError(f"{path}: [tool.forensics] must be a table")
    origin = f"{path.name} [tool.forensics]" if table is not document else path.name
    unknown = sorted(set(table) - set(SETTING_KEYS) - {"tool"})
    if unknown:
        raise UsageError(
            f"{origin}: unknown key {unknown[0]!r}; the keys are {', '.join(SETTING_KEYS)}"
        )
    folder = path.parent
    baseline = table.get("baseline")
    if baseline is not None and not isinstance(baseline, str):
        raise UsageError(f"{origin}: 'baseline' must be a file name")
    fail_on = table.get("fail-on")
    if fail_on is not None and not isinstance(fail_on, str):
        raise UsageError(f"{origin}: 'fail-on' must be a severity such as 'high'")
    return Settings(
        ignore=tuple(r.strip().upper() for r in _strings(table, "ignore", origin)),
        exclude=_strings(table, "exclude", origin),
        baseline=folder / baseline if baseline else None,
        fail_on=fail_on,
        deploys=tuple(relative_source(s, folder) for s in _strings(table, "deploys", origin)),
        migrations=_strings(table, "migrations", origin),
        origin=origin,
    )


BASELINE_SCHEMA = "forensics.baseline/1"


def read_baseline(path: Path) -> frozenset[str]:
    """The fingerprints a baseline file lists (written by ``--write-baseline``)."""
    import json

    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        entries = document["findings"]
        return frozenset(str(e["fingerprint"]) for e in entries)
    except OSError as exc:
        raise UsageError(f"cannot read baseline {path}: {exc.strerror}") from None
    except (ValueError, KeyError, TypeError):
        raise UsageError(
            f"baseline {path} is not a forensics baseline; write one with --write-baseline"
        ) from None


def write_baseline(path: Path, findings: Sequence[Finding]) -> None:
    """Today's findings as a baseline: fingerprints, with rule and title for the reader."""
    import json

    entries = sorted(
        ({"fingerprint": f.fingerprint, "rule": f.rule, "title": f.title} for f in findings),
        key=lambda e: (e["rule"], e["fingerprint"]),
    )
    text = json.dumps({"schema": BASELINE_SCHEMA, "findings": entries}, indent=2) + "\n"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write baseline {path}: {exc.strerror}") from None


def hidden_by(policy: Policy, rule: str, path: str | None, fingerprint: str = "") -> str | None:
    """Why the team's settings hide a finding of ``rule`` on ``path``, or None."""
    import fnmatch

    if rule in policy.ignore:
        return "ignored rules"
    if path and any(fnmatch.fnmatch(path, glob) for glob in policy.exclude):
        return "excluded paths"
    if fingerprint and fingerprint in policy.baseline:
        return "baseline"
    return None


def apply_policy(
    findings: Sequence[Finding], policy: Policy
) -> tuple[list[Finding], tuple[tuple[str, int], ...]]:
    """The findings a team wants to see, and how many each reason hid."""
    kept: list[Finding] = []
    hidden: dict[str, int] = {}
    for finding in findings:
        why = hidden_by(policy, finding.rule, finding.path, finding.fingerprint)
        if why is None:
            kept.append(finding)
        else:
            hidden[why] = hidden.get(why, 0) + 1
    return kept, tuple(hidden.items())
