"""What every detector receives: the prepared ``Context``. Rules describe themselves in the
catalogue (``forensics.model.rules``)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from forensics.config import Thresholds
from forensics.model.commits import CommitRecord
from forensics.model.deploys import AppliedMigration, Deploy, FailureWindow
from forensics.model.findings import Finding
from forensics.model.migrations import GraphHistory, GraphState
from forensics.model.report import Burst, Production


@dataclass(frozen=True)
class Context:
    """Everything the detectors may look at. Prepared by the pipeline; no I/O from here on.

    ``commits`` maps full SHAs to every commit the run read (window, history, suspects).
    ``window_commits`` are the commits inside ``--since``/``--until``, newest first.
    """

    rev: str
    until: datetime
    since: datetime | None = None
    thresholds: Thresholds = field(default_factory=Thresholds)
    states: tuple[GraphState, ...] = ()
    history: GraphHistory = field(default_factory=GraphHistory)
    commits: Mapping[str, CommitRecord] = field(default_factory=dict)
    window_commits: tuple[CommitRecord, ...] = ()
    bursts: tuple[Burst, ...] = ()
    deploys: tuple[Deploy, ...] = ()
    failure_windows: tuple[FailureWindow, ...] = ()
    production: Production = field(default_factory=Production)
    applied: tuple[AppliedMigration, ...] = ()

    def in_window(self, when: datetime) -> bool:
        return (self.since is None or when >= self.since) and when <= self.until


Detector = Callable[[Context], Iterable[Finding]]
