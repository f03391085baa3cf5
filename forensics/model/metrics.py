"""Delivery metrics: one row of figures per ISO week, as the reports and the store keep them."""

from __future__ import annotations

from dataclasses import dataclass, fields

# The weeks a report shows: the week of its end and the eleven before it.
TREND_WEEKS = 12


@dataclass(frozen=True)
class WeekMetrics:
    """The figures of one ISO week (``2025-W46``, UTC).

    ``deploys`` counts the deploys that finished live, superseded or failed; ``failed`` the
    failed ones; ``change_failure_rate`` is ``failed / deploys``. ``time_to_restore_h`` is
    the median length, in hours, of the failure windows that recovered in the week (from
    the first failed deploy to the recovering one). ``lead_time_h_p50``/``_p90`` are the
    median and 90th percentile, in hours, from a commit to the first live deploy that
    contained it, over the commits first deployed in the week. ``applied_edits`` counts the
    commits that edited, rewired or removed an applied migration; ``broken_deploys`` the
    deploys that shipped a broken migration graph. A figure with nothing to measure is
    ``None``.
    """

    week: str
    deploys: int = 0
    failed: int = 0
    change_failure_rate: float | None = None
    time_to_restore_h: float | None = None
    lead_time_h_p50: float | None = None
    lead_time_h_p90: float | None = None
    applied_edits: int = 0
    broken_deploys: int = 0

    def figures(self) -> dict[str, float | None]:
        """Each figure by its name (the JSON keys and the store's ``metric`` column)."""
        return {name: getattr(self, name) for name in METRIC_NAMES}


METRIC_NAMES: tuple[str, ...] = tuple(f.name for f in fields(WeekMetrics) if f.name != "week")
COUNTS = frozenset({"deploys", "failed", "applied_edits", "broken_deploys"})


def from_figures(week: str, figures: dict[str, float | None]) -> WeekMetrics:
    """The row whose ``figures()`` are ``figures`` (names it does not know are left out)."""
    values: dict[str, object] = {}
    for name in METRIC_NAMES:
        value = figures.get(name)
        if name in COUNTS:
            values[name] = int(value or 0)
        else:
            values[name] = None if value is None else float(value)
    return WeekMetrics(week, **values)  # type: ignore[arg-type]
