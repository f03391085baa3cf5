"""Findings and the stable fingerprint that tracks them. ``Severity`` and ``Confidence`` are
those of ``model.severity``, named here too for the callers of a finding."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from forensics.model.migrations import ChangeKind
from forensics.model.rules import RuleId
from forensics.model.severity import Confidence as Confidence
from forensics.model.severity import Severity as Severity
from forensics.model.text import clean


@dataclass(frozen=True)
class ChangeRef:
    """One commit's change to the finding's file and its kind."""

    commit: str
    kind: ChangeKind


@dataclass(frozen=True)
class Finding:
    """One rule's conclusion, with the evidence it rests on.

    Commit ids are full SHAs. ``facts`` carries rule-specific evidence as (label, value)
    pairs that renderers show as they are (for example the edges before and after a rewire).
    """

    rule: RuleId
    name: str
    severity: Severity
    confidence: Confidence
    title: str
    detail: str
    revision: str | None = None
    path: str | None = None
    line: int | None = None
    commits: tuple[str, ...] = ()
    changes: tuple[ChangeRef, ...] = ()
    merges: tuple[str, ...] = ()
    deploys: tuple[str, ...] = ()
    start: datetime | None = None
    end: datetime | None = None
    environment: str | None = None
    facts: tuple[tuple[str, str], ...] = ()

    @property
    def fingerprint(self) -> str:
        """Stable across runs: rule, revision, path and commits, nothing time-dependent."""
        parts = [self.rule, self.revision or "", self.path or "", *sorted(self.commits)]
        # clean(): a finding and its cleaned copy have the same fingerprint.
        return hashlib.sha256(clean("\x1f".join(parts)).encode()).hexdigest()[:16]

    @property
    def rank(self) -> tuple[int, int]:
        return (int(self.severity), int(self.confidence))
