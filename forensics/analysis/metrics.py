"""Tables and time series with pandas: the one module that owns pandas.

It computes the weekly delivery metrics of a run (``weekly_metrics``): deploys, failed
deploys, change failure rate, time to restore, lead time for changes, edits to applied
migrations and deploys of a broken migration graph, per ISO week.

pandas is imported when a table is first built, not with the module: the detectors and the
warm-cache run never pay for it unless a table is asked for.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from forensics.model.deploys import Deploy, DeployCategory, FailureWindow
from forensics.model.findings import Finding
from forensics.model.metrics import TREND_WEEKS, WeekMetrics
from forensics.model.rules import CHANGED_APPLIED, RuleId

if TYPE_CHECKING:
    import pandas as pd


def import_in_background() -> None:
    """Start importing pandas on a thread. A cold run waits on git for longer than the
    import takes, so by the time the metrics are computed it has mostly been paid for."""
    threading.Thread(target=importlib.import_module, args=("pandas",), daemon=True).start()


# -- delivery metrics -----------------------------------------------------------------------
# The rules whose findings are edits to applied migrations, and the one of broken deploys.
BROKEN_DEPLOY_RULE = RuleId.FX403
_COUNTED = frozenset({DeployCategory.LIVE, DeployCategory.SUPERSEDED, DeployCategory.FAILED})
_HOUR = 3600.0


def week_of(moment: datetime) -> str:
    """The ISO week of ``moment`` in UTC: ``2025-W46``."""
    iso = moment.astimezone(UTC).isocalendar()
    return f"{iso.year}-W{iso.week:02d}"


def trend_weeks(until: datetime, weeks: int = TREND_WEEKS) -> list[str]:
    """The ``weeks`` ISO weeks that end with the week of ``until``, oldest first."""
    day = until.astimezone(UTC)
    monday = (day - timedelta(days=day.weekday())).replace(hour=12, minute=0, second=0)
    return [week_of(monday - timedelta(weeks=n)) for n in range(weeks - 1, -1, -1)]


def weekly_metrics(
    *,
    until: datetime,
    deploys: Sequence[Deploy],
    windows: Sequence[FailureWindow] = (),
    deployed: Mapping[str, Sequence[tuple[str, datetime]]] | None = None,
    findings: Sequence[Finding] = (),
    commit_times: Mapping[str, datetime] | None = None,
    weeks: int = TREND_WEEKS,
) -> tuple[WeekMetrics, ...]:
    """One row per ISO week of the ``weeks`` ending with the week of ``until``.

    ``deployed`` maps each live deploy's id to the commits it was the first live deploy
    to contain, with their commit times; ``commit_times`` gives the time of the commits
    that findings name. See ``WeekMetrics`` for what each figure means.
    """
    import pandas as pd

    labels = trend_weeks(until, weeks)
    index = pd.Index(labels, name="week")
    by_id = {d.id: d for d in deploys}
    total, failed, rate = _deploy_counts(deploys, until, index)
    restore = _restore_hours(windows, until, index)
    p50, p90 = _lead_hours(by_id, deployed or {}, until, index)
    applied = _applied_edits(findings, commit_times or {}, until, index)
    broken = _broken_deploys(findings, by_id, index)
    return tuple(
        WeekMetrics(
            week=week,
            deploys=int(total[week]),
            failed=int(failed[week]),
            change_failure_rate=_number(rate[week]),
            time_to_restore_h=_number(restore[week]),
            lead_time_h_p50=_number(p50[week]),
            lead_time_h_p90=_number(p90[week]),
            applied_edits=int(applied[week]),
            broken_deploys=int(broken[week]),
        )
        for week in labels
    )


def _number(value: Any) -> float | None:
    """A figure for the model: None for a week without one (pandas' NaN), else rounded."""
    import pandas as pd

    return None if pd.isna(value) else round(float(value), 3)


def _deploy_counts(
    deploys: Sequence[Deploy], until: datetime, index: pd.Index[str]
) -> tuple[pd.Series[int], pd.Series[int], pd.Series[float]]:
    """Per week: the counted deploys, the failed ones, and the change failure rate (NaN in
    a week without deploys)."""
    import pandas as pd

    counted = [d for d in deploys if d.category in _COUNTED and d.created_at <= until]
    frame = pd.DataFrame.from_records(
        [(week_of(d.created_at), d.category is DeployCategory.FAILED) for d in counted],
        columns=["week", "failed"],
    ).astype({"week": str, "failed": bool})
    total = frame.groupby("week").size().reindex(index, fill_value=0)
    failed = frame.groupby("week")["failed"].sum().astype(int).reindex(index, fill_value=0)
    rate = (failed / total.where(total > 0)).astype(float)
    return total, failed, rate


def _restore_hours(
    windows: Sequence[FailureWindow], until: datetime, index: pd.Index[str]
) -> pd.Series[float]:
    """Per week: the median hours to restore of the failure windows that closed in it."""
    import pandas as pd

    restores = pd.DataFrame.from_records(
        [
            (week_of(w.end), (w.end - w.start).total_seconds() / _HOUR)
            for w in windows
            if not w.open and w.end <= until
        ],
        columns=["week", "hours"],
    ).astype({"week": str, "hours": float})
    return restores.groupby("week")["hours"].median().reindex(index)


def _lead_hours(
    by_id: Mapping[str, Deploy],
    deployed: Mapping[str, Sequence[tuple[str, datetime]]],
    until: datetime,
    index: pd.Index[str],
) -> tuple[pd.Series[float], pd.Series[float]]:
    """Per week of the deploy: the median and 90th percentile of the hours from a commit
    to the first live deploy that contained it."""
    import pandas as pd

    leads = pd.DataFrame.from_records(
        [
            (week_of(d.created_at), (_live_at(d) - at).total_seconds() / _HOUR)
            for deploy_id, commits in deployed.items()
            if (d := by_id.get(deploy_id)) is not None and d.created_at <= until
            for _sha, at in commits
        ],
        columns=["week", "hours"],
    ).astype({"week": str, "hours": float})
    lead = leads.groupby("week")["hours"]
    return lead.quantile(0.5).reindex(index), lead.quantile(0.9).reindex(index)


def _applied_edits(
    findings: Sequence[Finding],
    times: Mapping[str, datetime],
    until: datetime,
    index: pd.Index[str],
) -> pd.Series[int]:
    """Per week: the commits that edited an applied migration. A commit counts once a
    week however many findings name it."""
    import pandas as pd

    edits = pd.DataFrame.from_records(
        sorted(
            {
                (week_of(times[sha]), f.fingerprint, sha)
                for f in findings
                if f.rule in CHANGED_APPLIED
                for sha in (*(c.commit for c in f.changes), *f.commits)
                if sha in times and times[sha] <= until
            }
        ),
        columns=["week", "finding", "sha"],
    )
    applied = edits.drop_duplicates(["week", "sha"]).groupby("week").size()
    return applied.reindex(index, fill_value=0)


def _broken_deploys(
    findings: Sequence[Finding], by_id: Mapping[str, Deploy], index: pd.Index[str]
) -> pd.Series[int]:
    """Per week: the deploys that shipped a broken migration graph."""
    import pandas as pd

    broken_ids = {d for f in findings if f.rule == BROKEN_DEPLOY_RULE for d in f.deploys}
    broken_frame = pd.DataFrame.from_records(
        [(week_of(by_id[i].created_at),) for i in sorted(broken_ids) if i in by_id],
        columns=["week"],
    )
    return broken_frame.groupby("week").size().reindex(index, fill_value=0)


def _live_at(deploy: Deploy) -> datetime:
    """When a deploy went live: its finish time when the provider gives one."""
    return deploy.finished_at or deploy.created_at


def fleet_metrics(rows: Iterable[Sequence[WeekMetrics]]) -> tuple[WeekMetrics, ...]:
    """The fleet's weekly figures from each repository's: counts add up, the change failure
    rate is recomputed from the sums, and the times are the medians of the repositories'
    figures (the commits behind them are not at hand any more)."""
    import pandas as pd

    records = [m for repo in rows for m in repo]
    if not records:
        return ()
    frame = pd.DataFrame.from_records(
        [(m.week, *m.figures().values()) for m in records],
        columns=["week", *records[0].figures()],
    )
    grouped = frame.groupby("week", sort=True)
    sums = grouped[["deploys", "failed", "applied_edits", "broken_deploys"]].sum()
    medians = grouped[["time_to_restore_h", "lead_time_h_p50", "lead_time_h_p90"]].median()

    result = []
    for week in sums.index:
        counts: dict[str, Any] = sums.loc[week].to_dict()
        deploys, failed = int(counts["deploys"]), int(counts["failed"])
        result.append(
            WeekMetrics(
                week=str(week),
                deploys=deploys,
                failed=failed,
                change_failure_rate=round(failed / deploys, 3) if deploys else None,
                time_to_restore_h=_number(medians.at[week, "time_to_restore_h"]),
                lead_time_h_p50=_number(medians.at[week, "lead_time_h_p50"]),
                lead_time_h_p90=_number(medians.at[week, "lead_time_h_p90"]),
                applied_edits=int(counts["applied_edits"]),
                broken_deploys=int(counts["broken_deploys"]),
            )
        )
    return tuple(result)
