"""The table of commits and files as a pandas DataFrame: the one module that owns pandas.

pandas is imported when a table is first built, not with the module: the detectors and the
warm-cache run never pay for it unless a table is asked for (the timeline chart, ad-hoc
analyses).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

from forensics.model.commits import CommitRecord
from forensics.model.migrations import ChangeKind, MigrationChange

if TYPE_CHECKING:
    import pandas as pd

COMMIT_COLUMNS = (
    "sha",
    "author",
    "email",
    "authored_at",
    "committed_at",
    "subject",
    "path",
    "status",
    "is_merge",
    "first_parent",
)


def commits_frame(commits: Sequence[CommitRecord]) -> pd.DataFrame:
    """One row per commit and changed file (``path`` and ``status`` empty for a commit that
    changed none). Dates are UTC ``datetime64`` columns; ``status`` is git's letter."""
    import pandas as pd

    rows: list[tuple[object, ...]] = []
    for c in commits:
        base = (c.sha, c.author.name, c.author.email, c.authored_at, c.committed_at, c.subject)
        tail = (c.is_merge, c.first_parent)
        if not c.files:
            rows.append((*base, None, None, *tail))
        rows.extend((*base, f.path, f.status.value, *tail) for f in c.files)
    frame = pd.DataFrame.from_records(rows, columns=list(COMMIT_COLUMNS))
    for column in ("authored_at", "committed_at"):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    return frame


def changes_frame(
    changes: Iterable[MigrationChange], commits: Mapping[str, CommitRecord] | None = None
) -> pd.DataFrame:
    """One row per migration file and non-merge commit that really changed it: ``path``,
    ``sha`` (the author commit), ``commit`` (the first-parent commit), ``merge``, ``kind``,
    ``at`` (the first-parent commit's time)."""
    import pandas as pd

    rows = []
    for ch in changes:
        for sha in ch.authors or (ch.commit,):
            if commits is not None and sha in commits and commits[sha].is_merge:
                continue
            rows.append((ch.path, sha, ch.commit, ch.merge, ch.kind.value, ch.at))
    frame = pd.DataFrame.from_records(
        rows, columns=["path", "sha", "commit", "merge", "kind", "at"]
    )
    frame["at"] = pd.to_datetime(frame["at"], utc=True)
    return frame


def edits_per_path(
    changes: Iterable[MigrationChange], commits: Mapping[str, CommitRecord] | None = None
) -> pd.DataFrame:
    """Per migration path: ``edits`` after creation (adds and deletes are not edits), and
    the ``first_at``/``last_at`` of any change. Indexed by path, most edited first."""
    import pandas as pd

    frame = changes_frame(changes, commits)
    created = frame["kind"].isin([ChangeKind.ADDED.value, ChangeKind.DELETED.value])
    edits = frame[~created].groupby("path")["sha"].nunique()
    times = frame.groupby("path")["at"]
    table = pd.DataFrame({"first_at": times.min(), "last_at": times.max()})
    table["edits"] = edits.reindex(table.index, fill_value=0).astype(int)
    result: pd.DataFrame = table.sort_values("edits", ascending=False, kind="stable")
    return result
