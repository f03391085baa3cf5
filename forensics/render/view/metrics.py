"""The delivery metrics table: its headings and each week's figures as the tables show them."""

from __future__ import annotations

from collections.abc import Sequence

from forensics.model.metrics import WeekMetrics

# Column headings of the metrics table, by figure.
METRIC_HEADINGS: tuple[tuple[str, str], ...] = (
    ("deploys", "deploys"),
    ("failed", "failed"),
    ("change_failure_rate", "change failure rate"),
    ("time_to_restore_h", "time to restore"),
    ("lead_time_h_p50", "lead time p50"),
    ("lead_time_h_p90", "lead time p90"),
    ("applied_edits", "edits to applied migrations"),
    ("broken_deploys", "broken-graph deploys"),
)


def figure(name: str, value: float | None) -> str:
    """One figure as the tables show it: a dash when there was nothing to measure."""
    if value is None:
        return "-"
    if name == "change_failure_rate":
        return f"{value:.0%}"
    if "_h" in name:
        return f"{value:.1f} h"
    return f"{value:g}"


def metric_rows(rows: Sequence[WeekMetrics]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Each week with its figures formatted, in ``METRIC_HEADINGS`` order."""
    return tuple(
        (row.week, tuple(figure(name, getattr(row, name)) for name, _title in METRIC_HEADINGS))
        for row in rows
    )
