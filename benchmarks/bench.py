"""``make bench``: a synthetic 30,000-commit repository built with ``git fast-import`` in
seconds, and the four speed and size figures of DESIGN.md.

    .venv/bin/python -m benchmarks.bench [--commits 30000] [--repo DIR [--reuse]] [--skip-naive]

The repository has about 150 Alembic migrations in ``migrations/versions/`` (with
``alembic.ini`` and ``env.py``), feature branches merged with real merge commits (and merge
revisions in the migration graph), bursts of templated commits on one migration, authors in
several time zones and ordinary code commits in between.

Each measured run is a fresh process (start-up and imports included) of ``forensics analyze``
or ``forensics audit`` writing all four formats. A first run starts with no mining
cache (and, for audit, no findings store); its second run reuses them. The naive PyDriller
walks (``modified_files`` on every commit) are timed in this process, imports excluded; the
full-history one takes a minute or two (``--skip-naive`` skips both).
"""

from __future__ import annotations

import argparse
import compileall
import hashlib
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

ZONES = ("+0000", "+0530", "-0800", "+0100", "-0500", "+0900")
PEOPLE = [("Ann", "ann"), ("Bob", "bob"), ("Chen", "chen"), ("Dudley", "dudley"), ("Eve", "eve")]
START = int(datetime(2023, 1, 2, tzinfo=UTC).timestamp())
ENV = {
    **{k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "TMPDIR")},
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "HOME": tempfile.gettempdir(),
}

ALEMBIC_INI = b"[alembic]\nscript_location = migrations\n"
ENV_PY = b"from alembic import context\n\n\ndef run_migrations_online():\n    pass\n"


def revision_id(n: int) -> str:
    return hashlib.sha1(f"rev{n}".encode()).hexdigest()[:12]


def migration_text(
    rev: str, down: str | tuple[str, ...] | None, table: str, edit: int = 0
) -> bytes:
    return (
        f'"""{table}\n\nRevision ID: {rev}\n"""\n'
        "from alembic import op\nimport sqlalchemy as sa\n\n"
        f"revision = {rev!r}\ndown_revision = {down!r}\nbranch_labels = None\n"
        "depends_on = None\n\n\n"
        f"def upgrade():\n    op.create_table({table!r}, sa.Column('id', sa.Integer))\n"
        f"    # edit {edit}\n\n\n"
        f"def downgrade():\n    op.drop_table({table!r})\n"
    ).encode()


@dataclass
class Builder:
    """Writes a fast-import stream; keeps the clock, the marks and the migration graph."""

    commits_wanted: int
    rng: random.Random = field(default_factory=lambda: random.Random(7))
    out: list[bytes] = field(default_factory=list)
    mark: int = 0
    clock: int = START
    count: int = 0
    tips: dict[str, int] = field(default_factory=dict)
    # revision -> (path, down_revision)
    migrations: dict[str, tuple[str, str | tuple[str, ...] | None]] = field(default_factory=dict)
    head: str | None = None
    made: int = 0
    merges: int = 0
    bursts: int = 0

    def commit(
        self,
        branch: str,
        message: str,
        files: dict[str, bytes],
        *,
        step: tuple[int, int] = (300, 5400),
        merge: int | None = None,
        person: tuple[str, str] | None = None,
    ) -> int:
        self.clock += self.rng.randint(*step)
        self.mark += 1
        self.count += 1
        name, login = person or self.rng.choice(PEOPLE)
        zone = self.rng.choice(ZONES)
        who = f"{name} <{login}@example.com> {self.clock} {zone}".encode()
        data = message.encode()
        parts = [
            f"commit refs/heads/{branch}\nmark :{self.mark}\n".encode(),
            b"author " + who + b"\ncommitter " + who + b"\n",
            f"data {len(data)}\n".encode() + data + b"\n",
        ]
        if branch in self.tips:
            parts.append(f"from :{self.tips[branch]}\n".encode())
        if merge is not None:
            parts.append(f"merge :{merge}\n".encode())
        for path, content in files.items():
            parts.append(f"M 100644 inline {path}\ndata {len(content)}\n".encode())
            parts.append(content + b"\n")
        parts.append(b"\n")
        self.out.append(b"".join(parts))
        self.tips[branch] = self.mark
        return self.mark

    def code(self, branch: str, changed: dict[str, bytes] | None = None) -> int:
        path = f"src/pkg/mod_{self.rng.randrange(300)}.py"
        content = f"VALUE = {self.count}\n\n\ndef f():\n    return VALUE * 2\n".encode()
        if changed is not None:
            changed[path] = content
        return self.commit(branch, f"work on {path.rsplit('/', 1)[1]}", {path: content})

    def add_migration(
        self, branch: str, down: str | tuple[str, ...] | None, changed: dict[str, bytes] | None
    ) -> str:
        self.made += 1
        rev = revision_id(self.made)
        path = f"migrations/versions/{rev}_step_{self.made}.py"
        text = migration_text(rev, down, f"table_{self.made}")
        self.migrations[rev] = (path, down)
        if changed is not None:
            changed[path] = text
        self.commit(branch, f"add migration {rev}", {path: text})
        return rev

    def burst(self, branch: str, rev: str, changed: dict[str, bytes] | None = None) -> None:
        """Ten templated commits one or two minutes apart on one migration."""
        self.bursts += 1
        path, down = self.migrations[rev]
        for i, verb in enumerate(
            [
                "cleanup",
                "finalize",
                "rewrite",
                "refactor",
                "tidy",
                "harden",
                "fix",
                "polish",
                "restore",
                "simplify",
            ]
        ):
            text = migration_text(rev, down, f"table_{rev}", edit=i + 1)
            if changed is not None:
                changed[path] = text
            self.commit(
                branch,
                f"fix: {verb} alembic guard helpers for {rev}\n\n"
                "Co-Authored-By: Claude <noreply@anthropic.com>\n",
                {path: text},
                step=(50, 130),
                person=("Dudley", "dudley"),
            )

    def feature(self, number: int, with_migration: bool, with_burst: bool) -> None:
        """A branch off main with a few commits, main moving on meanwhile, then a merge."""
        branch = f"feature-{number}"
        self.tips[branch] = self.tips["main"]
        changed: dict[str, bytes] = {}
        base = self.head
        new_branch_rev = None
        for _ in range(self.rng.randint(2, 6)):
            self.code(branch, changed)
        if with_migration:
            new_branch_rev = self.add_migration(branch, base, changed)
            if with_burst:
                self.burst(branch, new_branch_rev, changed)
        main_rev = None
        for _ in range(self.rng.randint(1, 3)):
            self.code("main")
        if with_migration:
            main_rev = self.add_migration("main", base, None)
        self.merges += 1
        self.commit("main", f"Merge branch '{branch}'", changed, merge=self.tips[branch])
        if new_branch_rev and main_rev:
            self.head = self.add_migration("main", (main_rev, new_branch_rev), None)

    def build(self) -> bytes:
        self.commit(
            "main",
            "initial layout",
            {"alembic.ini": ALEMBIC_INI, "migrations/env.py": ENV_PY, "README.md": b"bench\n"},
        )
        self.head = self.add_migration("main", None, None)
        target = self.commits_wanted
        feature = 0
        while self.count < target - 40:
            roll = self.rng.random()
            if roll < 0.0045 and self.made < 146:
                feature += 1
                self.feature(feature, with_migration=feature % 3 == 0, with_burst=feature == 9)
            elif roll < 0.0095 and self.made < 146:
                self.head = self.add_migration("main", self.head, None)
            elif roll < 0.0099 and self.bursts < 6 and self.made > 3:
                self.burst("main", self.rng.choice(list(self.migrations)))
            else:
                self.code("main")
        while self.count < target:
            self.code("main")
        return b"".join(self.out)


def build_repo(path: Path, commits: int) -> dict[str, object]:
    started = time.perf_counter()
    builder = Builder(commits)
    stream = builder.build()
    generated = time.perf_counter() - started
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    git(path, "init", "-q", "-b", "main")
    subprocess.run(["git", "fast-import", "--quiet"], cwd=path, input=stream, env=ENV, check=True)
    git(path, "reset", "-q", "--hard", "main")
    return {
        "commits": builder.count,
        "migrations": builder.made,
        "merges": builder.merges,
        "bursts": builder.bursts,
        "generate_s": generated,
        "build_s": time.perf_counter() - started,
    }


def git(path: Path, *args: str) -> str:
    result = subprocess.run(
        ["git", *args], cwd=path, env=ENV, capture_output=True, check=True, text=True
    )
    return result.stdout


# -- measuring -------------------------------------------------------------------------------


def run(cmd: Sequence[str], cwd: Path) -> tuple[float, float]:
    """Wall seconds and peak resident MB of one process (its own, via ``wait4``)."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        list(cmd), cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=os.environ
    )
    assert proc.stderr is not None
    _pid, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - started
    err = proc.stderr.read().decode(errors="replace")
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{err[-2000:]}")
    return elapsed, usage.ru_maxrss / 1024


OUT = Path(tempfile.gettempdir()) / "forensics-bench-out"


def analyze_cmd(repo: Path, since: str) -> list[str]:
    return [
        *(sys.executable, "-m", "forensics", "analyze", "--repo", str(repo), "--since", since),
        *("--format", "md,html,json,sarif", "--out", str(OUT / "analyze")),
    ]


def audit_cmd(repo: Path, until: str, store: Path) -> list[str]:
    """The weekly audit as CI runs it: its default window, the 7 days up to ``until``."""
    return [
        *(sys.executable, "-m", "forensics", "audit", "--repo", str(repo), "--until", until),
        *("--format", "md,html,json,sarif", "--out", str(OUT / "audit")),
        *("--store", str(store), "--fail-on", "none"),
    ]


def naive_pydriller(repo: Path, since: datetime | None) -> tuple[float, int]:
    """What DESIGN.md warns against: ``modified_files`` on every commit (from ``since``)."""
    from pydriller import Repository

    started = time.perf_counter()
    n = 0
    for commit in Repository(str(repo), since=since).traverse_commits():
        commit.modified_files  # noqa: B018 - the cost being measured
        n += 1
    return time.perf_counter() - started, n


def median_runs(
    cmd: Sequence[str], cwd: Path, cache: Path | None, runs: int = 3
) -> tuple[float, float]:
    times, peaks = [], []
    for _ in range(runs):
        if cache is not None:
            shutil.rmtree(cache, ignore_errors=True)
        elapsed, peak = run(cmd, cwd)
        times.append(elapsed)
        peaks.append(peak)
    return statistics.median(times), max(peaks)


@dataclass
class Pairs:
    """First runs (nothing cached) and second runs, alternated so that a machine getting
    busier or quieter during the bench moves both alike."""

    first: list[float] = field(default_factory=list)
    second: list[float] = field(default_factory=list)
    peak: float = 0.0

    def describe(self) -> str:
        first, second = statistics.median(self.first), statistics.median(self.second)
        return (
            f"{second:.2f} s after {first:.2f} s = {second / first:.2f} of the first run "
            "(target < 0.33)"
        )


def first_and_second(cmd: Sequence[str], cwd: Path, fresh: Sequence[Path], runs: int = 3) -> Pairs:
    """``runs`` pairs: ``cmd`` after removing ``fresh`` (cache, store), then ``cmd`` again."""
    pairs = Pairs()
    for _ in range(runs):
        for path in fresh:
            if path.is_dir():
                shutil.rmtree(path)
            elif path.exists():
                path.unlink()
        for times in (pairs.first, pairs.second):
            elapsed, peak = run(cmd, cwd)
            times.append(elapsed)
            pairs.peak = max(pairs.peak, peak)
    return pairs


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--commits", type=int, default=30_000)
    parser.add_argument("--slice", type=int, default=3_000)
    parser.add_argument("--repo", type=Path, help="build here (default: a temporary folder)")
    parser.add_argument("--reuse", action="store_true", help="reuse --repo if it exists")
    parser.add_argument("--skip-naive", action="store_true", help="skip the slow PyDriller walks")
    args = parser.parse_args(argv)

    workdir = Path(tempfile.mkdtemp(prefix="forensics-bench-"))
    repo = args.repo or workdir / "repo"
    if args.reuse and (repo / ".git").exists():
        info: dict[str, object] = {"commits": int(git(repo, "rev-list", "--count", "--all"))}
    else:
        info = build_repo(repo, args.commits)
    stamps = [int(s) for s in git(repo, "log", "--all", "--format=%ct").split()]
    stamps.sort()
    first = datetime.fromtimestamp(stamps[0], UTC).strftime("%Y-%m-%dT%H:%M:%S")
    last = datetime.fromtimestamp(stamps[-1], UTC).strftime("%Y-%m-%dT%H:%M:%S")
    slice_start = datetime.fromtimestamp(stamps[-min(args.slice, len(stamps))], UTC)
    slice_text = slice_start.strftime("%Y-%m-%dT%H:%M:%S")
    cache = repo / ".forensics-cache"
    store = workdir / "forensics.db"
    cwd = Path(__file__).resolve().parent.parent
    full = analyze_cmd(repo, first)

    # Bytecode first, as an installed package has it (PYTHONDONTWRITEBYTECODE would otherwise
    # make every run compile the modules changed since the last write).
    compileall.compile_dir(cwd / "forensics", quiet=1)
    run(["git", "log", "--name-status", "--all"], repo)  # warm the page cache
    git_time, _ = median_runs(["git", "log", "--name-status", "--all"], repo, None)
    cold, peak = median_runs(full, cwd, cache)
    rerun = first_and_second(full, cwd, [cache])
    audits = first_and_second(audit_cmd(repo, last, store), cwd, [cache, store])
    sliced, _ = median_runs(analyze_cmd(repo, slice_text), cwd, cache)
    naive = naive_slice = None
    if not args.skip_naive:
        naive = naive_pydriller(repo, None)
        naive_slice = naive_pydriller(repo, slice_start)

    rows = [
        (
            "repository",
            f"{info.get('commits')} commits, {info.get('migrations', '?')} migrations, "
            f"{info.get('merges', '?')} merges, {info.get('bursts', '?')} bursts",
        ),
        ("build (fast-import)", f"{info.get('build_s', 0.0):.1f} s"),
        ("measured (fresh processes, all four formats)", "forensics analyze / audit"),
        ("git log --name-status (median of 3)", f"{git_time:.2f} s"),
        (
            "analyze, full history, cold cache (median of 3)",
            f"{cold:.2f} s = {cold / git_time:.2f}x git log (target <= 2x)",
        ),
    ]
    if naive is not None:
        seconds, count = naive
        rows.append(
            (
                f"naive PyDriller modified_files, full history ({count} commits)",
                f"{seconds:.1f} s = {seconds / cold:.0f}x analyze (target >= 50x)",
            )
        )
    rows.append(("peak memory of analyze", f"{max(peak, rerun.peak):.0f} MB (target < 400 MB)"))
    rows.append(("analyze rerun, warm cache (3 alternated pairs)", rerun.describe()))
    rows.append(("second audit (last 7 days), unchanged repository (3 pairs)", audits.describe()))
    rows.append((f"analyze, last {args.slice:,} commits, cold cache", f"{sliced:.2f} s"))
    if naive_slice is not None:
        seconds, count = naive_slice
        rows.append(
            (
                f"naive PyDriller modified_files, those {count} commits",
                f"{seconds:.1f} s = {seconds / sliced:.0f}x analyze of the slice",
            )
        )
    rows.append(
        (
            "machine",
            f"{platform.machine()}, {os.cpu_count()} cores, {platform.system()} "
            f"{platform.release()}, Python {platform.python_version()}, "
            f"{git(repo, 'version').strip()}",
        )
    )
    width = max(len(r[0]) for r in rows)
    print(f"| {'figure'.ljust(width)} | value |")
    print(f"| {'-' * width} | ----- |")
    for label, value in rows:
        print(f"| {label.ljust(width)} | {value} |")
    shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
