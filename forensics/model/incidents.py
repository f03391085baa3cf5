"""Incidents: what happened, told as one story per failure window (or per edit production has
not run yet), with the findings that explain it and the plan to get out of it.

Prose fields (``headline``, ``impact``, ``cause``, plan steps) mark code spans with
backticks; a value from the analysed repository goes in through ``literal``, which keeps a
backtick of its own from closing the span, so that renderers can show the spans as code and
escape everything else.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class IncidentStatus(StrEnum):
    """The status of an incident or a report, from evidence only: UNKNOWN when nothing was
    checked, never HEALTHY by default. Ordered from the most urgent. The value is the word
    JSON writes (``at-risk``); ``label`` the word the first screen shows (``AT RISK``)."""

    BLOCKED = "blocked"
    AT_RISK = "at-risk"
    DEGRADED = "degraded"
    RECOVERED = "recovered"
    HEALTHY = "healthy"
    UNKNOWN = "unknown"

    @property
    def label(self) -> str:
        """The word as the first screen shows it: ``BLOCKED``, ``AT RISK``, ``UNKNOWN``…"""
        return self.value.upper().replace("-", " ")

    @property
    def urgency(self) -> int:
        return list(IncidentStatus).index(self)


@dataclass(frozen=True)
class PlanStep:
    """One step of the plan, with the exact command to type where there is one."""

    step: str
    command: str | None = None


@dataclass(frozen=True)
class Incident:
    """A failure window (``window`` is its index in ``Report.failure_windows``) or a set of
    edits to applied migrations that the next deploy ships (``window`` is ``None``), with the
    fingerprints of the findings that explain it."""

    id: str
    status: IncidentStatus
    headline: str
    impact: str
    cause: str
    plan: tuple[PlanStep, ...] = ()
    findings: tuple[str, ...] = ()
    window: int | None = None
    other_options: tuple[str, ...] = ()

    @property
    def open(self) -> bool:
        """Still needing someone: blocked, at risk or degraded."""
        return self.status in (
            IncidentStatus.BLOCKED,
            IncidentStatus.AT_RISK,
            IncidentStatus.DEGRADED,
        )


def literal(value: object) -> str:
    """``value`` as a code span inside prose. Backticks inside it become quotes: the span
    must not end early (the exact value stays in the JSON fields of the finding)."""
    return "`" + str(value).replace("`", "'") + "`"
