"""``make bench``: repositories in the shapes of real histories, built with
``git fast-import`` in seconds, and the speed and size figures of DESIGN.md.

    .venv/bin/python -m benchmarks.bench [--commits 30000] [--chains 750,1500,3000]
                                         [--skip-naive]

- **merge-shaped**: every change reaches main through a merge commit whose second parent
  carries it (30,000 commits, about 150 migrations and 600 commits touching them, formatter
  sweeps over every migration merged together with a real edit of another one);
- **tag-shaped**: the same kind of history with a release tag after each new migration
  (150 tags, annotated and lightweight in turn), analysed with ``--deploys tags:v*``;
- **linear chains** of 750, 1,500 and 3,000 commits each adding one migration, timed with
  ``forensics history`` to show that its cost grows linearly.

Each measured run is a fresh process (start-up and imports included). ``analyze`` writes all
four formats over the whole history; a cold run starts without the mining cache, the warm
run after it reuses it. Both are compared with ``git log --name-status`` over the same
history, the floor. The naive PyDriller walks (``modified_files`` on every commit) are timed
in this process, imports excluded; they take a minute or two (``--skip-naive`` skips them).
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
from typing import Any

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


# The literal style of the migrations, era by era: Python 2 ``u''`` strings until a
# pyupgrade sweep, then black's double quotes, then a sweep back to single quotes.
STYLES = (("u", "'"), ("", "'"), ("", '"'), ("", "'"))


def migration_text(
    rev: str, down: str | tuple[str, ...] | None, table: str, edits: int = 0, style: int = 0
) -> bytes:
    prefix, quote = STYLES[style]

    def lit(text: str) -> str:
        return f"{prefix}{quote}{text}{quote}"

    columns = "".join(
        f"    op.add_column({lit(table)}, sa.Column({lit(f'c{i}')}, sa.Text))\n"
        for i in range(edits)
    )
    return (
        f'"""{table}\n\nRevision ID: {rev}\n"""\n'
        "from alembic import op\nimport sqlalchemy as sa\n\n"
        f"revision = {rev!r}\ndown_revision = {down!r}\nbranch_labels = None\n"
        "depends_on = None\n\n\n"
        f"def upgrade():\n    op.create_table({lit(table)}, sa.Column({lit('id')}, sa.Integer))\n"
        f"{columns}\n\ndef downgrade():\n    op.drop_table({lit(table)})\n"
    ).encode()


@dataclass
class Builder:
    """Writes a fast-import stream; keeps the clock, the marks and the migration graph."""

    commits_wanted: int
    seed: int = 7
    rng: random.Random = field(init=False)
    out: list[bytes] = field(default_factory=list)
    mark: int = 0
    clock: int = START
    count: int = 0
    tips: dict[str, int] = field(default_factory=dict)
    # revision -> [path, down_revision, edits]
    migrations: dict[str, list[Any]] = field(default_factory=dict)
    style: int = 0
    head: str | None = None
    made: int = 0
    merges: int = 0
    touching: int = 0
    sweeps: int = 0
    tags: int = 0

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    def commit(
        self,
        branch: str,
        message: str,
        files: dict[str, bytes],
        *,
        start: int | None = None,
        merge: int | None = None,
    ) -> int:
        self.clock += self.rng.randint(60, 2400)
        self.mark += 1
        self.count += 1
        name, login = self.rng.choice(PEOPLE)
        zone = self.rng.choice(ZONES)
        who = f"{name} <{login}@example.com> {self.clock} {zone}".encode()
        data = message.encode()
        parts = [
            f"commit refs/heads/{branch}\nmark :{self.mark}\n".encode(),
            b"author " + who + b"\ncommitter " + who + b"\n",
            f"data {len(data)}\n".encode() + data + b"\n",
        ]
        if start is not None:
            parts.append(f"from :{start}\n".encode())
        if merge is not None:
            parts.append(f"merge :{merge}\n".encode())
        for path, content in files.items():
            parts.append(f"M 100644 inline {path}\ndata {len(content)}\n".encode())
            parts.append(content + b"\n")
        parts.append(b"\n")
        self.out.append(b"".join(parts))
        self.tips[branch] = self.mark
        if any(p.startswith("migrations/versions/") for p in files) and merge is None:
            self.touching += 1
        return self.mark

    def text(self, rev: str) -> bytes:
        _path, down, edits = self.migrations[rev]
        return migration_text(rev, down, f"table_{rev}", edits, self.style)

    # -- the changes a side branch can carry, each one commit ---------------------------------
    def code(self) -> tuple[str, dict[str, bytes]]:
        path = f"src/pkg/mod_{self.rng.randrange(300)}.py"
        content = f"VALUE = {self.count}\n\n\ndef f():\n    return VALUE * 2\n".encode()
        return f"work on {path.rsplit('/', 1)[1]}", {path: content}

    def add(self) -> tuple[str, dict[str, bytes]]:
        self.made += 1
        rev = revision_id(self.made)
        path = f"migrations/versions/{rev}_step_{self.made}.py"
        self.migrations[rev] = [path, self.head, 0]
        self.head = rev
        return f"add migration {rev}", {path: self.text(rev)}

    def edit(self) -> tuple[str, dict[str, bytes]]:
        rev = self.rng.choice(list(self.migrations))
        self.migrations[rev][2] += 1
        return f"fix: add a column to {rev}", {self.migrations[rev][0]: self.text(rev)}

    def sweep(self) -> tuple[str, dict[str, bytes]]:
        """A formatter over every migration (pyupgrade, then black, then ruff format)."""
        self.sweeps += 1
        self.style = min(self.style + 1, len(STYLES) - 1)
        tool = ("pyupgrade --py3-plus", "black", "ruff format")[(self.sweeps - 1) % 3]
        files = {m[0]: self.text(rev) for rev, m in self.migrations.items()}
        return f"style: {tool} over migrations", files

    def merge(self, changes: list[tuple[str, dict[str, bytes]]], number: int) -> None:
        """A side branch off main carrying ``changes``, merged with a merge commit."""
        base = self.tips["main"]
        brought: dict[str, bytes] = {}
        tip = base
        for message, files in changes:
            tip = self.commit("topic", message, files, start=tip)
            brought.update(files)
        self.merges += 1
        self.commit("main", f"Merge pull request #{number} from topic", brought, merge=tip)

    def tag(self, annotated: bool) -> None:
        self.tags += 1
        name = f"v1.{self.tags}.0"
        if annotated:
            self.clock += 60
            data = f"release {name}".encode()
            self.out.append(
                f"tag {name}\nfrom :{self.tips['main']}\n".encode()
                + f"tagger Rel <rel@example.com> {self.clock} +0000\n".encode()
                + f"data {len(data)}\n".encode()
                + data
                + b"\n"
            )
        else:
            self.out.append(f"reset refs/tags/{name}\nfrom :{self.tips['main']}\n\n".encode())

    def build(self, migrations: int = 150, edits: int = 450, tags: bool = False) -> bytes:
        """Every change through a merge: ``migrations`` adds and ``edits`` edits spread over
        the history, three pyupgrade sweeps each merged together with a real edit of another
        migration, ordinary code changes in between; with ``tags``, a release tag (annotated
        or lightweight in turn) after each new migration."""
        self.commit(
            "main",
            "initial layout",
            {"alembic.ini": ALEMBIC_INI, "migrations/env.py": ENV_PY, "README.md": b"bench\n"},
        )
        expected = self.commits_wanted // 2.2
        plan: dict[int, str] = {}
        for n in range(migrations):
            plan[int(5 + n * (expected - 10) / migrations)] = "add"
        sweep_at = {int(expected * f) for f in (0.4, 0.6, 0.8)}
        first_add = min(plan)
        for at in self.rng.sample(range(first_add + 1, int(expected)), edits + 20):
            plan.setdefault(at, "edit")
        number = 0
        while self.count < self.commits_wanted - 3:
            number += 1
            action = plan.get(number, "code")
            if number in sweep_at:
                changes = [self.sweep(), self.edit()]
            elif action == "add":
                changes = [self.add()]
            elif action == "edit":
                changes = [self.edit()]
            else:
                roll = self.rng.random()
                changes = [
                    self.code() for _ in range(1 if roll < 0.85 else 2 if roll < 0.95 else 3)
                ]
            self.merge(changes, number)
            if tags and action == "add":
                self.tag(annotated=self.tags % 2 == 0)
        return b"".join(self.out)


def chain_stream(commits: int) -> bytes:
    """A linear history of ``commits`` commits, each adding one migration to the chain."""
    builder = Builder(commits)
    builder.commit("main", "layout", {"alembic.ini": ALEMBIC_INI, "migrations/env.py": ENV_PY})
    while builder.count < commits:
        message, files = builder.add()
        builder.commit("main", message, files)
    return b"".join(builder.out)


def build_repo(path: Path, stream: bytes) -> float:
    """A repository from a fast-import stream; the seconds it took."""
    started = time.perf_counter()
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    git(path, "init", "-q", "-b", "main")
    subprocess.run(["git", "fast-import", "--quiet"], cwd=path, input=stream, env=ENV, check=True)
    git(path, "reset", "-q", "--hard", "main")
    return time.perf_counter() - started


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


def analyze_cmd(repo: Path, since: str, *extra: str) -> list[str]:
    return [
        *(sys.executable, "-m", "forensics", "analyze", "--repo", str(repo), "--since", since),
        *("--format", "md,html,json,sarif", "--out", str(OUT / "analyze"), *extra),
    ]


def audit_cmd(repo: Path, until: str, store: Path) -> list[str]:
    """The weekly audit as CI runs it: its default window, the 7 days up to ``until``."""
    return [
        *(sys.executable, "-m", "forensics", "audit", "--repo", str(repo), "--until", until),
        *("--format", "md,html,json,sarif", "--out", str(OUT / "audit")),
        *("--store", str(store), "--fail-on", "none"),
    ]


def history_cmd(repo: Path) -> list[str]:
    return [sys.executable, "-m", "forensics", "history", "--repo", str(repo)]


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


def first_stamp(repo: Path) -> str:
    stamps = sorted(int(s) for s in git(repo, "log", "--format=%ct").split())
    return datetime.fromtimestamp(stamps[0], UTC).strftime("%Y-%m-%dT%H:%M:%S")


def describe(builder: Builder) -> str:
    parts = [
        f"{builder.count:,} commits ({builder.merges:,} merges)",
        f"{builder.made} migrations",
        f"{builder.touching} commits touching them",
        f"{builder.sweeps} formatter sweeps",
    ]
    if builder.tags:
        parts.append(f"{builder.tags} release tags")
    return ", ".join(parts)


def measure_shape(
    name: str, repo: Path, cwd: Path, extra: Sequence[str] = ()
) -> tuple[list[tuple[str, str]], Pairs]:
    """Cold and warm ``analyze`` over the whole history against the floor,
    ``git log --name-status`` of the same history."""
    run(["git", "log", "--name-status"], repo)  # warm the page cache
    floor, _ = median_runs(["git", "log", "--name-status"], repo, None)
    since = first_stamp(repo)
    pairs = first_and_second(analyze_cmd(repo, since, *extra), cwd, [repo / ".forensics-cache"])
    cold, warm = statistics.median(pairs.first), statistics.median(pairs.second)
    rows = [
        (f"{name}: git log --name-status (the floor, median of 3)", f"{floor:.2f} s"),
        (
            f"{name}: analyze, cold cache (median of 3)",
            f"{cold:.2f} s = {cold / floor:.2f}x the floor (target <= 2.0x)",
        ),
        (
            f"{name}: analyze, warm cache (median of 3)",
            f"{warm:.2f} s = {warm / floor:.2f}x the floor (target <= 0.5x)",
        ),
        (f"{name}: peak memory of analyze", f"{pairs.peak:.0f} MB (target < 400 MB)"),
    ]
    return rows, pairs


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--commits", type=int, default=30_000)
    parser.add_argument("--slice", type=int, default=3_000)
    parser.add_argument(
        "--chains", default="750,1500,3000", help="lengths of the linear chains for history"
    )
    parser.add_argument("--skip-naive", action="store_true", help="skip the slow PyDriller walks")
    args = parser.parse_args(argv)

    workdir = Path(tempfile.mkdtemp(prefix="forensics-bench-"))
    cwd = Path(__file__).resolve().parent.parent
    # Bytecode first, as an installed package has it (PYTHONDONTWRITEBYTECODE would otherwise
    # make every run compile the modules changed since the last write).
    compileall.compile_dir(cwd / "forensics", quiet=1)
    rows: list[tuple[str, str]] = [
        ("measured", "fresh processes of forensics, analyze writing md,html,json,sarif")
    ]

    merged = Builder(args.commits, seed=7)
    merged_repo = workdir / "merges"
    built = build_repo(merged_repo, merged.build())
    rows.append(("merge-shaped: repository", describe(merged)))
    rows.append(("merge-shaped: build (fast-import)", f"{built:.1f} s"))
    shape_rows, pairs = measure_shape("merge-shaped", merged_repo, cwd)
    rows += shape_rows
    cold = statistics.median(pairs.first)

    tagged = Builder(args.commits, seed=11)
    tagged_repo = workdir / "tags"
    built = build_repo(tagged_repo, tagged.build(tags=True))
    rows.append(("tag-shaped: repository", describe(tagged)))
    rows.append(("tag-shaped: build (fast-import)", f"{built:.1f} s"))
    rows += measure_shape("tag-shaped", tagged_repo, cwd, ("--deploys", "tags:v*"))[0]

    last = git(merged_repo, "log", "-1", "--format=%cI").strip()
    store = workdir / "forensics.db"
    audits = first_and_second(
        audit_cmd(merged_repo, last, store), cwd, [merged_repo / ".forensics-cache", store]
    )
    rows.append(
        ("merge-shaped: second audit (last 7 days), unchanged repository", audits.describe())
    )
    stamps = sorted(int(s) for s in git(merged_repo, "log", "--format=%ct").split())
    slice_start = datetime.fromtimestamp(stamps[-min(args.slice, len(stamps))], UTC)
    sliced, _ = median_runs(
        analyze_cmd(merged_repo, slice_start.strftime("%Y-%m-%dT%H:%M:%S")),
        cwd,
        merged_repo / ".forensics-cache",
    )
    rows.append(
        (f"merge-shaped: analyze, last {args.slice:,} commits, cold cache", f"{sliced:.2f} s")
    )
    if not args.skip_naive:
        seconds, count = naive_pydriller(merged_repo, None)
        rows.append(
            (
                f"naive PyDriller modified_files, full history ({count} commits)",
                f"{seconds:.1f} s = {seconds / cold:.0f}x analyze (target >= 50x)",
            )
        )
        seconds, count = naive_pydriller(merged_repo, slice_start)
        rows.append(
            (
                f"naive PyDriller modified_files, those {count} commits",
                f"{seconds:.1f} s = {seconds / sliced:.0f}x analyze of the slice",
            )
        )

    per_commit = []
    for length in [int(n) for n in args.chains.split(",") if n.strip()]:
        chain = workdir / f"chain-{length}"
        build_repo(chain, chain_stream(length))
        seconds, _ = median_runs(history_cmd(chain), cwd, None, runs=1)
        per_commit.append(seconds / length)
        rows.append(
            (
                f"history, linear chain of {length:,} single-migration commits",
                f"{seconds:.2f} s = {1000 * seconds / length:.2f} ms per commit",
            )
        )
    if len(per_commit) > 1:
        growth = per_commit[-1] / per_commit[0]
        rows.append(
            (
                "history: cost per commit, longest chain / shortest",
                f"{growth:.2f} (linear: about 1; quadratic: the ratio of the lengths)",
            )
        )
    rows.append(
        (
            "machine",
            f"{platform.machine()}, {os.cpu_count()} cores, {platform.system()} "
            f"{platform.release()}, Python {platform.python_version()}, "
            f"{git(merged_repo, 'version').strip()}",
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
