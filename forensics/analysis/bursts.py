"""Activity on migration files: bursts of commits, the automation fingerprint of a burst,
and churn (a migration edited far more often than its peers).

Pure functions over the model. They count only the commits that really changed a file
(``MigrationChange.authors``, as ``git log --no-merges`` lists them), never a commit whose
message merely names the file. Plain Python on purpose: these run on every analysis, and
importing pandas alone would cost more than the whole warm-cache run.
"""

from __future__ import annotations

import re
import statistics
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from itertools import pairwise

from forensics.model.commits import CommitRecord
from forensics.model.migrations import ChangeKind, MigrationChange
from forensics.model.report import Burst

FAST_GAP_SECONDS = 180.0
_REVISION_ID = re.compile(r"\b[0-9a-f]{12}\b")
_PREFIX = re.compile(r"^\s*([\w-]+(?:\([^)]*\))?!?:?)")
_ASSISTANT = re.compile(
    r"\b(claude|anthropic|copilot|chatgpt|openai|gpt-?\d\w*|codex|cursor|devin|aider|gemini|"
    r"codeium|windsurf|tabnine|dependabot|renovate|bot)\b|\[bot\]",
    re.IGNORECASE,
)
_GENERATED = re.compile(r"generated (with|by)\b|🤖", re.IGNORECASE)


def _touches(
    changes: Iterable[MigrationChange], commits: Mapping[str, CommitRecord]
) -> tuple[dict[str, set[str]], dict[str, str]]:
    """Paths each non-merge commit really changed, and the merge that brought it in."""
    touched: dict[str, set[str]] = {}
    merged_by: dict[str, str] = {}
    for change in changes:
        for sha in change.authors or (change.commit,):
            record = commits.get(sha)
            if record is None or record.is_merge:
                continue
            touched.setdefault(sha, set()).add(change.path)
            if change.merge and change.merge != sha:
                merged_by[sha] = change.merge
    return touched, merged_by


def _gaps(times: Sequence[datetime]) -> list[float]:
    return [(b - a).total_seconds() for a, b in pairwise(times)]


@dataclass(frozen=True)
class _Activity:
    """The non-merge commits that changed migration files: the paths each changed and the
    merge that brought it in."""

    commits: Mapping[str, CommitRecord]
    touched: dict[str, set[str]]
    merged_by: dict[str, str]

    def when(self, sha: str) -> tuple[datetime, str]:
        """The order of commits in a session: author date, then sha for a stable tie."""
        return (self.commits[sha].authored_at, sha)


def find_bursts(
    changes: Sequence[MigrationChange],
    commits: Mapping[str, CommitRecord],
    *,
    min_commits: int = 4,
    max_gap: timedelta = timedelta(minutes=15),
) -> list[Burst]:
    """Sessions of commits on the same migration file (or the same set of files) with no
    gap longer than ``max_gap`` (a gap of exactly ``max_gap`` stays in the session) and at
    least ``min_commits`` commits, oldest first, each with its automation score.

    Sessions are found per file, then sessions that share a commit are joined, so commits
    that change several files together form one burst naming all of them; sessions that
    overlap in time are joined too, so bursts are maximal and never overlap. Times are author
    dates (in UTC), which a rebase or cherry-pick keeps. ``commits`` must hold every commit
    named in ``MigrationChange.authors``; unknown ones are skipped.
    """
    activity = _Activity(commits, *_touches(changes, commits))
    groups = _file_sessions(activity, max_gap)
    large = [m for m in groups if len(m) >= max(min_commits, 1)]
    bursts = [_burst(activity, members) for members in _overlaps_joined(activity, large)]
    return sorted(bursts, key=lambda b: (b.start, b.commits))


def _file_sessions(activity: _Activity, max_gap: timedelta) -> list[list[str]]:
    """The commits in sessions: two commits of one file at most ``max_gap`` apart are in
    the same session, and a commit that changed several files joins their sessions."""
    when = activity.when
    by_path: dict[str, list[str]] = {}
    for sha, paths in activity.touched.items():
        for path in paths:
            by_path.setdefault(path, []).append(sha)

    # union-find over the commits: each session is the set of commits with one root
    parent: dict[str, str] = {sha: sha for sha in activity.touched}

    def root(sha: str) -> str:
        while parent[sha] != sha:
            parent[sha] = parent[parent[sha]]
            sha = parent[sha]
        return sha

    for shas in by_path.values():
        ordered = sorted(shas, key=when)
        for prev, sha in pairwise(ordered):
            if when(sha)[0] - when(prev)[0] <= max_gap:
                parent[root(sha)] = root(prev)

    groups: dict[str, list[str]] = {}
    for sha in activity.touched:
        groups.setdefault(root(sha), []).append(sha)
    return list(groups.values())


def _overlaps_joined(activity: _Activity, sessions: Iterable[list[str]]) -> list[list[str]]:
    """Sessions on different files that overlap in time are one session: a burst is
    maximal, and no two bursts overlap (one finding per burst, one automation verdict)."""
    when = activity.when
    by_start = sorted((sorted(m, key=when) for m in sessions), key=lambda m: when(m[0]))
    joined: list[list[str]] = []
    for members in by_start:
        if joined and when(members[0])[0] <= when(joined[-1][-1])[0]:
            joined[-1] = sorted([*joined[-1], *members], key=when)
        else:
            joined.append(members)
    return joined


def _burst(activity: _Activity, members: Sequence[str]) -> Burst:
    """One session as a burst, with its automation score."""
    commits, touched, merged_by = activity.commits, activity.touched, activity.merged_by
    ordered = sorted(members, key=activity.when)
    times = [commits[sha].authored_at for sha in ordered]
    gaps = _gaps(times)
    authors = dict.fromkeys(
        f"{commits[s].author.name} <{commits[s].author.email}>" for s in ordered
    )
    burst = Burst(
        commits=tuple(ordered),
        start=times[0],
        end=times[-1],
        authors=tuple(authors),
        paths=tuple(sorted({p for sha in ordered for p in touched[sha]})),
        median_gap_seconds=statistics.median(gaps) if gaps else 0.0,
        longest_gap_seconds=max(gaps, default=0.0),
        merges=tuple(dict.fromkeys(merged_by[s] for s in ordered if s in merged_by)),
    )
    score, signals = automation_score(burst, commits)
    return replace(burst, automation_score=score, signals=signals)


def duration_text(seconds: float) -> str:
    """``45s``, ``3m 20s``, ``2h 05m``: short spans as people say them."""
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m {seconds % 60:02d}s"
    return f"{seconds // 3600}h {seconds % 3600 // 60:02d}m"


def automation_score(
    burst: Burst, commits: Mapping[str, CommitRecord]
) -> tuple[float, tuple[str, ...]]:
    """How machine-like a burst looks, from 0 to 1, and one sentence per signal found:
    cadence (most gaps under 3 minutes, regular gaps), templated messages (a shared prefix,
    the same sentence with another verb, the same revision id in every subject), tool
    markers (a ``Co-Authored-By`` naming a bot or AI assistant, "Generated with"), and a
    single author."""
    records = [commits[s] for s in burst.commits if s in commits]
    n = len(records)
    if n < 2:
        return 0.0, ()
    score = 0.0
    signals: list[str] = []
    gaps = _gaps([r.authored_at for r in records])

    fast = sum(1 for g in gaps if g < FAST_GAP_SECONDS)
    if fast / len(gaps) >= 0.6:
        score += 0.3
        signals.append(
            f"{fast} of {len(gaps)} gaps between commits are under 3 minutes "
            f"(median {duration_text(statistics.median(gaps))})"
        )
    mean = statistics.fmean(gaps)
    if len(gaps) >= 3 and mean > 0 and statistics.pstdev(gaps) / mean <= 0.35:
        score += 0.15
        signals.append(
            f"the commits come at a regular pace: every {duration_text(mean)} on average, "
            f"varying by only {statistics.pstdev(gaps) / mean:.0%}"
        )

    subjects = [r.subject for r in records]
    template_score, template_signals = _templated(subjects)
    score += template_score
    signals += template_signals

    marked = [r for r in records if _tool_marker(r)]
    if marked:
        names = sorted({name for r in marked for name in _tool_marker(r)})
        score += 0.3 if len(marked) * 2 >= n else 0.2
        signals.append(f"{len(marked)} of {n} commits carry a tool marker: {', '.join(names)}")

    if len(burst.authors) == 1:
        score += 0.1
        signals.append(f"all {n} commits are by one author, {burst.authors[0]}")
    return round(min(score, 1.0), 2), tuple(signals)


def _templated(subjects: Sequence[str]) -> tuple[float, list[str]]:
    n = len(subjects)
    score, signals = 0.0, list[str]()
    if n < 3:
        return score, signals
    prefixes = Counter(
        m.group(1).lower() for s in subjects if (m := _PREFIX.match(s)) and m.group(1)
    )
    if prefixes:
        prefix, count = prefixes.most_common(1)[0]
        if count / n >= 0.7:
            score += 0.1
            signals.append(f"{count} of {n} subjects start with {prefix!r}")

    tails: Counter[str] = Counter()
    verbs: dict[str, set[str]] = {}
    for subject in subjects:
        words = _PREFIX.sub("", subject, count=1).split() if ":" in subject else subject.split()
        if len(words) >= 3:
            tail = " ".join(words[1:]).lower()
            tails[tail] += 1
            verbs.setdefault(tail, set()).add(words[0].lower())
    if tails:
        tail, count = tails.most_common(1)[0]
        if count / n >= 0.5 and len(verbs[tail]) >= 2:
            score += 0.2
            signals.append(
                f"{count} of {n} subjects are the same sentence with another verb "
                f"({', '.join(sorted(verbs[tail]))}): '… {tail}'"
            )

    shared = set.intersection(*(set(_REVISION_ID.findall(s)) for s in subjects))
    if shared:
        score += 0.15
        signals.append(f"every subject names revision {', '.join(sorted(shared))}")
    return score, signals


def _tool_marker(record: CommitRecord) -> list[str]:
    """What marks a commit as made by a tool: trailers naming a bot or AI assistant, a
    "Generated with" line, or a bot author."""
    found = []
    for key, value in record.trailers:
        if key.lower() == "co-authored-by" and _ASSISTANT.search(value):
            found.append(f"Co-Authored-By {value.split('<')[0].strip() or value}")
    if _GENERATED.search(record.message):
        found.append("a 'Generated with' line")
    if _ASSISTANT.search(record.author.name) or "[bot]" in record.author.email:
        found.append(f"author {record.author.name}")
    return found


def migration_edits(
    changes: Iterable[MigrationChange], commits: Mapping[str, CommitRecord] | None = None
) -> dict[str, int]:
    """Edits after creation per migration path: the non-merge commits that changed the file
    other than adding or deleting it. Every path seen counts, with 0 when never edited."""
    edits: dict[str, set[str]] = {}
    for change in changes:
        seen = edits.setdefault(change.path, set())
        if change.kind in (ChangeKind.ADDED, ChangeKind.DELETED):
            continue
        for sha in change.authors or (change.commit,):
            if commits is None or not (sha in commits and commits[sha].is_merge):
                seen.add(sha)
    return {path: len(shas) for path, shas in edits.items()}


def percentile(values: Sequence[float], pct: float) -> float:
    """The ``pct`` percentile with linear interpolation (numpy's and pandas' default)."""
    ordered = sorted(values)
    if not ordered:
        return 0.0
    pos = (len(ordered) - 1) * pct / 100
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def churn(
    changes: Iterable[MigrationChange],
    commits: Mapping[str, CommitRecord] | None = None,
    *,
    min_edits: int = 5,
    pct: float = 95.0,
) -> list[tuple[str, int, float]]:
    """``(path, edits, cut)`` for migrations edited more than ``min_edits`` times after
    their creation and more than ``cut``, the ``pct`` percentile over all migrations."""
    edits = migration_edits(changes, commits)
    cut = percentile(list(edits.values()), pct)
    found = [(p, n, cut) for p, n in edits.items() if n > min_edits and n > cut]
    return sorted(found, key=lambda row: (-row[1], row[0]))
