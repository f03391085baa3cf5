"""Weekly delivery metrics on deploy histories whose figures are known by construction."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from benchmarks.fleet_repos import END, LEAD_P50_H, LEAD_P90_H, RESTORE_H, build_service
from forensics import api
from forensics.analysis.metrics import fleet_metrics, trend_weeks, week_of, weekly_metrics
from forensics.model.deploys import Deploy, DeployCategory, FailureWindow
from forensics.model.findings import ChangeRef, Confidence, Finding, Severity
from forensics.model.metrics import METRIC_NAMES, WeekMetrics, from_figures

MONDAY = datetime(2025, 11, 10, tzinfo=UTC)  # 2025-W46


def _deploy(ident: str, category: DeployCategory, at: datetime) -> Deploy:
    return Deploy(ident, category.value, category, at, "csv", commit="c" * 40, finished_at=at)


def _finding(rule: str, **kwargs: object) -> Finding:
    return Finding(
        rule=rule,
        name=rule,
        severity=Severity.HIGH,
        confidence=Confidence.HIGH,
        title=rule,
        detail="",
        **kwargs,  # type: ignore[arg-type]
    )


def test_trend_weeks_end_with_the_week_of_until() -> None:
    weeks = trend_weeks(END)
    assert len(weeks) == 12
    assert weeks[-1] == "2025-W46" == week_of(END)
    assert weeks[0] == "2025-W35"
    assert trend_weeks(datetime(2026, 1, 2, tzinfo=UTC), 2) == ["2025-W52", "2026-W01"]


def test_every_figure_of_a_constructed_history() -> None:
    last_week = MONDAY - timedelta(weeks=1)
    deploys = [
        _deploy("a", DeployCategory.LIVE, last_week + timedelta(hours=10)),
        _deploy("b", DeployCategory.FAILED, MONDAY + timedelta(hours=1)),
        _deploy("c", DeployCategory.FAILED, MONDAY + timedelta(hours=2)),
        _deploy("d", DeployCategory.SUPERSEDED, MONDAY + timedelta(hours=7)),
        _deploy("e", DeployCategory.LIVE, MONDAY + timedelta(days=1)),
        _deploy("x", DeployCategory.CANCELED, MONDAY + timedelta(days=1)),
        _deploy("later", DeployCategory.FAILED, END + timedelta(days=1)),
    ]
    window = FailureWindow(
        start=MONDAY + timedelta(hours=1),
        end=MONDAY + timedelta(hours=7),
        count=2,
        first_failed="b",
        last_failed="c",
        last_live_before="a",
        recovered_by="d",
    )
    still_open = FailureWindow(
        start=MONDAY,
        end=MONDAY,
        count=1,
        first_failed="z",
        last_failed="z",
        last_live_before=None,
        recovered_by=None,
    )
    # d brought live commits made 1, 2, 3 and 10 hours before it went live; e one of 4 h.
    deployed = {
        "d": [(f"s{h}", MONDAY + timedelta(hours=7 - h)) for h in (1, 2, 3, 10)],
        "e": [("s4", MONDAY + timedelta(days=1, hours=-4))],
    }
    times = {"e1": MONDAY + timedelta(hours=3), "e2": last_week + timedelta(hours=1)}
    findings = [
        _finding("FX201", changes=(ChangeRef("e1", "code"),), commits=("e1",)),
        _finding("FX202", changes=(ChangeRef("e2", "metadata"),)),
        _finding("FX403", deploys=("c", "e")),
        _finding("FX301", commits=("e1",)),
    ]
    rows = weekly_metrics(
        until=END,
        deploys=deploys,
        windows=[window, still_open],
        deployed=deployed,
        findings=findings,
        commit_times=times,
    )
    assert [r.week for r in rows] == trend_weeks(END)
    this, before = rows[-1], rows[-2]
    assert this == WeekMetrics(
        week="2025-W46",
        deploys=4,
        failed=2,
        change_failure_rate=0.5,
        time_to_restore_h=6.0,
        # 1, 2, 3, 4, 10 hours: median 3, 90th percentile 3 * 0.6 + ... = 7.6 (linear)
        lead_time_h_p50=3.0,
        lead_time_h_p90=7.6,
        applied_edits=1,
        broken_deploys=2,
    )
    assert before == WeekMetrics(
        week="2025-W45", deploys=1, failed=0, change_failure_rate=0.0, applied_edits=1
    )
    assert all(r == WeekMetrics(r.week) for r in rows[:-2])


def test_no_deploys_give_no_rates() -> None:
    rows = weekly_metrics(until=END, deploys=[])
    assert len(rows) == 12
    assert all(r.change_failure_rate is None and r.deploys == 0 for r in rows)


def test_fleet_figures_add_counts_and_take_medians() -> None:
    one = (WeekMetrics("2025-W46", 4, 1, 0.25, 2.0, 10.0, 20.0, 1, 0),)
    two = (WeekMetrics("2025-W46", 0, 0, None, None, None, None, 0, 1),)
    three = (WeekMetrics("2025-W46", 6, 4, 0.667, 6.0, 30.0, 40.0, 0, 0),)
    (week,) = fleet_metrics([one, two, three])
    assert week == WeekMetrics("2025-W46", 10, 5, 0.5, 4.0, 20.0, 30.0, 1, 1)
    assert fleet_metrics([]) == ()


def test_figures_round_trip_by_name() -> None:
    row = WeekMetrics("2025-W46", 3, 1, 0.333, 4.0, 28.5, 28.9, 1, 0)
    assert tuple(row.figures()) == METRIC_NAMES
    assert from_figures(row.week, row.figures()) == row


@pytest.mark.parametrize("weeks", [4])
def test_pipeline_measures_a_generated_service(tmp_path: Path, weeks: int) -> None:
    service = build_service(tmp_path, "svc", weeks=weeks)
    report = api.analyze(
        service.repo,
        deploys=[f"csv:{service.deploys}"],
        deploy_logs=[f"dir:{service.logs}"],
        since="7d",
        until=END,
        now=END,
    )
    by_week = {m.week: m for m in report.metrics}
    active = trend_weeks(END)[-weeks:]
    for i, week in enumerate(active, 1):
        row = by_week[week]
        failing = i % 2 == 1
        assert row.deploys == (2 if failing else 1)
        assert row.failed == (1 if failing else 0)
        assert row.change_failure_rate == (0.5 if failing else 0.0)
        assert row.time_to_restore_h == (RESTORE_H if failing else None)
        assert (row.lead_time_h_p50, row.lead_time_h_p90) == (LEAD_P50_H, LEAD_P90_H)
        assert row.applied_edits == (1 if week == "2025-W46" else 0)
        assert row.broken_deploys == 0
    # the week of the first live deploy: one deploy, no lead time (nothing deployed before)
    first = by_week[trend_weeks(END)[-weeks - 1]]
    assert (first.deploys, first.lead_time_h_p50) == (1, None)
