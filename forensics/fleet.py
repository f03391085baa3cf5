"""The fleet audit: the weekly audit of every repository a manifest lists, one Dask task each.
The one module that owns Dask (``distributed``).

- **Manifest** (TOML): a ``[defaults]`` table and ``[[repo]]`` tables with ``name``, ``path``
  or ``url``, and the lists ``deploys``, ``migrations``, ``deploy_logs`` and ``tags`` (tag
  patterns, read as ``--deploys tags:PATTERN``), plus ``rev`` and ``timeout`` (seconds).
  Relative paths are relative to the manifest.
- **Cluster**: an embedded ``LocalCluster`` of worker processes (one per core unless
  ``workers`` says), or an existing scheduler at ``tcp://HOST:8786``.
- **Tasks** return plain data (``TaskOutcome``). With a SQLite store only this process
  writes to it, so a task hands back its report and the client records it and writes the
  reports; with PostgreSQL each task records its own audit and writes its own reports.
- **Failures** stay in their row: a repository that cannot be read, fetched or audited in
  time, or whose worker keeps dying (Dask retries a task whose worker died), is one failed
  row with a one-line reason, and the other repositories go on.
- **Restarts**: a repository whose audit of this week is already in the store is not
  audited again; its row comes from the store.
"""

from __future__ import annotations

import concurrent.futures
import os
import time
import tomllib
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from forensics import pipeline
from forensics.analysis.metrics import fleet_metrics
from forensics.config import AnalyzeConfig, Policy, load_settings, read_baseline, relative_source
from forensics.errors import (
    Diagnostics,
    ForensicsError,
    InputError,
    UsageError,
    describe_bug,
    redact,
)
from forensics.model.findings import Finding, Severity
from forensics.model.fleet import FleetReport, RepoResult, RepoStatus
from forensics.model.report import AuditDiff, Report
from forensics.output import check_stem, write_atomic, write_reports
from forensics.render import OutputFormat
from forensics.sources.git import fetch_repository
from forensics.store import FindingsStore, StoredAudit, audit_id_for, compare

REPO_KEYS = (
    "name",
    "path",
    "url",
    "rev",
    "deploys",
    "migrations",
    "deploy_logs",
    "tags",
    "timeout",
)
DEFAULT_KEYS = tuple(k for k in REPO_KEYS if k not in ("name", "path", "url"))
DEFAULT_TIMEOUT = 1800.0
# How often a task is tried again when the worker running it dies.
RETRIES = 2
AUDIT_SPAN = timedelta(days=7)

# done, failed, running (at most one per worker thread), total
Progress = Callable[[int, int, int, int], None]


@dataclass(frozen=True)
class RepoEntry:
    """One ``[[repo]]`` of the manifest, with the defaults applied and paths made absolute."""

    name: str
    path: Path | None = None
    url: str | None = None
    rev: str = "HEAD"
    deploys: tuple[str, ...] = ()
    migrations: tuple[str, ...] = ()
    deploy_logs: tuple[str, ...] = ()
    timeout: float = DEFAULT_TIMEOUT

    @property
    def key(self) -> str:
        """The repository's key in the store: its path, or its URL without credentials."""
        return str(self.path) if self.path is not None else redact(self.url or "")


# -- the manifest ---------------------------------------------------------------------------
def read_manifest(path: Path) -> list[RepoEntry]:
    """The repositories of a manifest. Raises ``UsageError`` with one line that says what to
    fix."""
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(f"cannot read --manifest {path}: {exc.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(f"--manifest {path} is not valid TOML ({exc}): fix it") from None
    unknown = sorted(set(document) - {"defaults", "repo"})
    if unknown:
        raise UsageError(f"{path}: unknown table {unknown[0]!r}; use [defaults] and [[repo]]")
    defaults = document.get("defaults", {})
    repos = document.get("repo", [])
    if not isinstance(defaults, dict):
        raise UsageError(f"{path}: [defaults] must be a table")
    if not isinstance(repos, list) or not repos or not all(isinstance(r, dict) for r in repos):
        raise UsageError(f"{path}: list the repositories as [[repo]] tables (none found)")
    _check_keys(defaults, DEFAULT_KEYS, f"{path} [defaults]")
    folder = path.resolve().parent
    entries: list[RepoEntry] = []
    for number, table in enumerate(repos, 1):
        where = f"{path} [[repo]] #{number}"
        _check_keys(table, REPO_KEYS, where)
        entries.append(_entry({**defaults, **table}, folder, where))
    names = [e.name for e in entries]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise UsageError(f"{path}: repository name {twice[0]!r} is used twice; names must differ")
    return entries


def _check_keys(table: dict[str, Any], allowed: Sequence[str], where: str) -> None:
    unknown = sorted(set(table) - set(allowed))
    if unknown:
        raise UsageError(f"{where}: unknown key {unknown[0]!r}; the keys are {', '.join(allowed)}")


def _entry(table: dict[str, Any], folder: Path, where: str) -> RepoEntry:
    def text(key: str) -> str | None:
        value = table.get(key)
        if value is not None and (not isinstance(value, str) or not value.strip()):
            raise UsageError(f"{where}: '{key}' must be a non-empty string")
        return value

    def strings(key: str) -> tuple[str, ...]:
        value = table.get(key, [])
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise UsageError(f"{where}: '{key}' must be a list of strings")
        return tuple(value)

    name = text("name")
    if name is None:
        raise UsageError(f"{where}: give each repository a 'name'")
    try:
        check_stem(name)
    except UsageError:
        raise UsageError(
            f"{where}: name {name!r} must be a plain file name (its reports go in a folder "
            "of that name)"
        ) from None
    path, url = text("path"), text("url")
    if (path is None) == (url is None):
        raise UsageError(f"{where} ({name}): give either 'path' or 'url'")
    timeout = table.get("timeout", DEFAULT_TIMEOUT)
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
        raise UsageError(f"{where} ({name}): 'timeout' must be a number of seconds")
    deploys = tuple(relative_source(s, folder) for s in strings("deploys"))
    deploys += tuple(f"tags:{pattern}" for pattern in strings("tags"))
    return RepoEntry(
        name=name,
        path=(folder / path).resolve() if path is not None else None,
        url=url,
        rev=text("rev") or "HEAD",
        deploys=deploys,
        migrations=strings("migrations"),
        deploy_logs=tuple(_relative_log(s, folder) for s in strings("deploy_logs")),
        timeout=float(timeout),
    )


def _relative_log(spec: str, folder: Path) -> str:
    prefix, _sep, value = spec.partition(":")
    if prefix.strip().lower() == "dir" and value and not Path(value).is_absolute():
        return f"{prefix}:{folder / value}"
    return spec


# -- one repository: the task ----------------------------------------------------------------
@dataclass(frozen=True)
class Job:
    """What one task needs: the repository, where to work, and whether it writes to the
    store itself (``store`` is set then)."""

    entry: RepoEntry
    workdir: Path
    out: Path
    formats: tuple[str, ...]
    now: datetime
    until: datetime
    store: str | None = None
    # With SQLite: the previous audit's id and findings, read by the client beforehand.
    previous: tuple[str | None, dict[str, Finding]] | None = None


@dataclass(frozen=True)
class TaskOutcome:
    """What a task hands back: the row and, when the client is to record the audit, the
    report and its rendered texts by format label."""

    result: RepoResult
    report: Report | None = None
    texts: tuple[tuple[str, str], ...] = ()


def audit_task(job: Job) -> TaskOutcome:
    """One repository's weekly audit, on a worker. Never raises for a problem of the
    repository: that is a failed row with its reason. A time limit ends the wait for the
    audit (the thread doing it is left to finish on its own: Python cannot stop it)."""
    started = time.monotonic()
    pool = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix=f"audit-{job.entry.name}")
    try:
        outcome = pool.submit(_audit, job).result(timeout=job.entry.timeout)
    except concurrent.futures.TimeoutError:
        outcome = _failed(job.entry, f"timed out after {job.entry.timeout:g} s")
    except ForensicsError as exc:
        outcome = _failed(job.entry, exc.message)
    except Exception as exc:  # a bug of ours, in one repository: its row says which
        outcome = _failed(job.entry, f"internal error: {describe_bug(exc)}")
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    result = replace(outcome.result, seconds=round(time.monotonic() - started, 3))
    return replace(outcome, result=result)


def _failed(entry: RepoEntry, reason: str) -> TaskOutcome:
    line = " ".join(redact(reason).split())
    return TaskOutcome(RepoResult(entry.name, RepoStatus.FAILED, entry.key, error=line))


def _audit(job: Job) -> TaskOutcome:
    entry = job.entry
    if entry.url is not None:
        repo = fetch_repository(entry.url, job.workdir / entry.name, timeout=entry.timeout)
    else:
        assert entry.path is not None
        repo = entry.path
        if not repo.is_dir():
            raise InputError(f"{repo} does not exist: fix the repository's 'path' in the manifest")
        if not (repo / ".git").exists() and not (repo / "HEAD").is_file():
            raise InputError(
                f"{repo} is not a git repository: fix the repository's 'path' in the manifest"
            )
    settings = load_settings(repo)
    cfg = AnalyzeConfig(
        repo=repo,
        now=job.now,
        rev=entry.rev,
        since=job.until - AUDIT_SPAN,
        until=job.until,
        migrations=entry.migrations or settings.migrations,
        deploys=entry.deploys or settings.deploys,
        deploy_logs=entry.deploy_logs,
        cache_dir=job.workdir / "cache" / entry.name,
        policy=Policy(
            ignore=frozenset(settings.ignore),
            exclude=settings.exclude,
            baseline=read_baseline(settings.baseline) if settings.baseline else frozenset(),
            baseline_name=str(settings.baseline) if settings.baseline else None,
        ),
    )
    report = pipeline.run(cfg, Diagnostics())
    report = replace(report, title="Weekly migration audit")
    if job.store is None:
        # The client records it; the reports are rendered here, where the cores are.
        prior, before = job.previous or (None, {})
        audit_id = audit_id_for(report.until)
        diff = compare(audit_id, prior, before, report.findings)
        audited = replace(report, audit=diff)
        chosen = [OutputFormat[f.upper()] for f in job.formats]
        texts = tuple((fmt.label, fmt.render(audited)) for fmt in chosen)
        link = f"{entry.name}/{audit_id}{_link_format(chosen).suffix}"
        return TaskOutcome(_row(entry, audited, diff, link), audited, texts)
    with FindingsStore.open(job.store) as store:
        row = record(store, entry, report, job.out, job.formats, job.now)
    return TaskOutcome(row)


def record(
    store: FindingsStore,
    entry: RepoEntry,
    report: Report,
    out: Path,
    formats: Sequence[str],
    now: datetime,
    texts: Sequence[tuple[str, str]] = (),
) -> RepoResult:
    """Store one repository's audit and write its reports into ``out/<name>/``, in the
    store's transaction (an audit whose reports could not be written is not stored).
    ``texts`` are the reports already rendered against ``report.audit``, written as they
    are when the store compares the audit the same way."""
    audit_id = audit_id_for(report.until)
    chosen = [OutputFormat[f.upper()] for f in formats]
    folder = out / entry.name
    link = f"{entry.name}/{audit_id}{_link_format(chosen).suffix}"
    written: dict[str, Report] = {}

    def publish(diff: AuditDiff) -> None:
        audited = replace(report, audit=diff)
        if texts and diff == report.audit:
            _write_texts(folder, audit_id, chosen, dict(texts))
        else:
            _written, failed = write_reports(audited, chosen, folder, audit_id)
            if failed is not None:
                raise ForensicsError(failed)
        written["report"] = audited

    diff = store.record_audit(
        entry.key,
        audit_id,
        report.rev,
        now,
        report.findings,
        publish,
        metrics=report.metrics,
        status=report.status,
        report=link,
    )
    return _row(entry, written.get("report", report), diff, link)


def _write_texts(
    folder: Path, stem: str, formats: Sequence[OutputFormat], texts: dict[str, str]
) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for fmt in formats:
            write_atomic(folder / f"{stem}{fmt.suffix}", texts[fmt.label])
    except OSError as exc:
        raise ForensicsError(
            f"the reports could not be written to {folder} ({exc.strerror}): check it, or "
            "pass another --out"
        ) from None


def _link_format(formats: Sequence[OutputFormat]) -> OutputFormat:
    """The report a fleet row links to: HTML when written, else the first format."""
    return OutputFormat.HTML if OutputFormat.HTML in formats else formats[0]


def _row(entry: RepoEntry, report: Report, diff: AuditDiff | None, link: str | None) -> RepoResult:
    tally: dict[str, int] = {}
    for finding in sorted(report.findings, key=lambda f: -f.severity):
        tally[finding.severity.label] = tally.get(finding.severity.label, 0) + 1
    return RepoResult(
        name=entry.name,
        status=RepoStatus(report.status),
        repo=entry.key,
        rev=report.rev,
        audit_id=diff.audit_id if diff else audit_id_for(report.until),
        findings=len(report.findings),
        incidents=sum(1 for i in report.incidents if i.open),
        severities=tuple(tally.items()),
        new=len(diff.new) if diff else 0,
        still_open=len(diff.still_open) if diff else 0,
        resolved=len(diff.resolved) if diff else 0,
        report=link,
        metrics=report.metrics,
    )


def _stored_row(entry: RepoEntry, stored: StoredAudit) -> RepoResult:
    tally: dict[str, int] = {}
    for label in stored.severities:
        tally[label] = tally.get(label, 0) + 1
    order = sorted(tally, key=lambda label: -Severity.parse(label))
    status = stored.record.status or RepoStatus.UNKNOWN.value
    return RepoResult(
        name=entry.name,
        status=RepoStatus(status)
        if status in RepoStatus.__members__.values()
        else RepoStatus.UNKNOWN,
        incidents=None,
        repo=entry.key,
        rev=stored.record.rev,
        audit_id=stored.record.audit_id,
        findings=stored.record.finding_count,
        severities=tuple((label, tally[label]) for label in order),
        new=stored.new,
        still_open=stored.still_open,
        resolved=stored.resolved,
        report=stored.record.report,
        metrics=stored.metrics,
        skipped=True,
    )


# -- the fleet: the client ---------------------------------------------------------------------
@dataclass
class FleetOptions:
    """How to run a fleet audit (the command line's options)."""

    workers: int | None = None
    scheduler: str | None = None
    workdir: Path = Path(".forensics-fleet")
    store: str = "reports/forensics.db"
    out: Path = Path("reports")
    formats: tuple[str, ...] = ("md", "html", "json")
    until: datetime | None = None
    now: datetime | None = None
    progress: Progress | None = None
    announce: Callable[[str], None] | None = None
    # a hook for the tests: called with the client once the tasks are submitted
    on_submitted: Callable[[Any], None] | None = field(default=None, repr=False)


def default_workers() -> int:
    """One worker process per core this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on every platform
        return max(1, os.cpu_count() or 1)


@dataclass(frozen=True)
class _Run:
    """What the steps of one fleet run share."""

    options: FleetOptions
    now: datetime
    until: datetime
    audit_id: str
    # With PostgreSQL each task records its own audit; with SQLite only this process writes.
    workers_write: bool


def run_fleet(entries: Sequence[RepoEntry], options: FleetOptions) -> FleetReport:
    """Audit every repository on the cluster and gather the fleet report. Each finished
    repository is stored as soon as it finishes, so an interrupted run loses none."""
    now = options.now or datetime.now(UTC)
    until = options.until or now
    audit_id = audit_id_for(until)
    started = time.monotonic()
    announce = options.announce or (lambda _line: None)
    with FindingsStore.open(options.store) as store:
        run = _Run(options, now, until, audit_id, store.engine.dialect.name == "postgresql")
        rows, todo = _already_audited(store, entries, audit_id)
        if rows:
            announce(f"{len(rows)} repositories already audited this week ({audit_id}): skipped")
        client, cluster, where = _start_cluster(options)
        ready = time.monotonic()
        try:
            link = _dashboard(client)
            if link:
                announce(f"Dask dashboard: {link}")
            futures = _submit(client, _jobs(todo, store, run), audit_id)
            if options.on_submitted is not None:
                options.on_submitted(client)
            _gather(client, futures, store, run, rows, len(entries))
        finally:
            client.close()
            if cluster is not None:
                cluster.close()
    ordered = tuple(rows[e.name] for e in entries if e.name in rows)
    return FleetReport(
        generated_at=now,
        audit_id=audit_id,
        repositories=ordered,
        metrics=fleet_metrics(r.metrics for r in ordered if r.status is not RepoStatus.FAILED),
        cluster=where,
        elapsed_seconds=round(time.monotonic() - started, 3),
        cluster_seconds=round(ready - started, 3),
    )


def _already_audited(
    store: FindingsStore, entries: Sequence[RepoEntry], audit_id: str
) -> tuple[dict[str, RepoResult], list[RepoEntry]]:
    """The rows of the repositories whose audit of this week is in the store, by name, and
    the repositories still to audit (the restart of an interrupted run skips the former)."""
    rows: dict[str, RepoResult] = {}
    todo: list[RepoEntry] = []
    for entry in entries:
        stored = store.stored_audit(entry.key, audit_id)
        if stored is not None and stored.record.status is not None:
            rows[entry.name] = _stored_row(entry, stored)
        else:
            todo.append(entry)
    return rows, todo


def _start_cluster(options: FleetOptions) -> tuple[Any, Any, str]:
    """The client, the local cluster it runs (None on a scheduler of the user's), and a
    line saying where the tasks run."""
    from distributed import Client, LocalCluster

    if options.scheduler:
        client = _connect(Client, options.scheduler)
        return client, None, f"scheduler {redact(options.scheduler)}"
    count = options.workers or default_workers()
    cluster = LocalCluster(
        n_workers=count,
        threads_per_worker=1,
        processes=True,
        dashboard_address=":0" if _has_dashboard() else None,
        silence_logs=50,
    )
    return Client(cluster), cluster, f"local cluster of {count} worker process(es)"


def _jobs(todo: Sequence[RepoEntry], store: FindingsStore, run: _Run) -> dict[str, Job]:
    """One job per repository to audit, by name. With SQLite the previous audit is read
    here, since the tasks do not open the store."""
    options = run.options
    return {
        entry.name: Job(
            entry=entry,
            workdir=options.workdir.resolve(),
            out=options.out.resolve(),
            formats=options.formats,
            now=run.now,
            until=run.until,
            store=options.store if run.workers_write else None,
            previous=None
            if run.workers_write
            else store.previous_audit(entry.key, run.audit_id, run.until),
        )
        for entry in todo
    }


def _submit(client: Any, jobs: dict[str, Job], audit_id: str) -> dict[Any, RepoEntry]:
    """Submit a task per job; the futures map to their repositories."""
    return {
        client.submit(
            audit_task,
            job,
            # unique per run: two runs on one shared scheduler must not share tasks
            key=f"audit-{name}-{audit_id}-{uuid.uuid4().hex[:12]}",
            retries=RETRIES,
            pure=False,
        ): job.entry
        for name, job in jobs.items()
    }


def _gather(
    client: Any,
    futures: dict[Any, RepoEntry],
    store: FindingsStore,
    run: _Run,
    rows: dict[str, RepoResult],
    total: int,
) -> None:
    """Put each task's row into ``rows`` as it finishes, reporting progress as it goes."""
    from distributed import as_completed

    progress = run.options.progress or (lambda *_counts: None)
    done = sum(1 for r in rows.values() if r.status is not RepoStatus.FAILED)
    failed = len(rows) - done
    # a task runs on each worker thread; the rest wait for one
    slots = max(1, sum(client.nthreads().values()))
    progress(done, failed, min(len(futures), slots), total)
    for future in as_completed(list(futures)):
        entry = futures[future]
        row = _task_row(future, entry, store, run)
        rows[entry.name] = row
        if row.status is RepoStatus.FAILED:
            failed += 1
        else:
            done += 1
        progress(done, failed, min(total - done - failed, slots), total)


def _task_row(future: Any, entry: RepoEntry, store: FindingsStore, run: _Run) -> RepoResult:
    """The row of a finished task, recorded here when the task left that to the client. A
    task that failed or was cancelled is a failed row."""
    from distributed.client import FutureCancelledError

    try:
        outcome: TaskOutcome = future.result()
        if outcome.report is not None:
            return _record_here(store, entry, outcome, run.options, run.now)
        return outcome.result
    except FutureCancelledError:
        return _failed(entry, "the task was cancelled").result
    except Exception as exc:
        return _failed(entry, _task_error(exc)).result
    finally:
        future.release()


def _record_here(
    store: FindingsStore,
    entry: RepoEntry,
    outcome: TaskOutcome,
    options: FleetOptions,
    now: datetime,
) -> RepoResult:
    assert outcome.report is not None
    try:
        row = record(
            store,
            entry,
            outcome.report,
            options.out.resolve(),
            options.formats,
            now,
            outcome.texts,
        )
    except ForensicsError as exc:
        return _failed(entry, exc.message).result
    return replace(row, seconds=outcome.result.seconds)


def _task_error(exc: BaseException) -> str:
    """A task's failure on one line: a worker that kept dying, or what went wrong."""
    name = type(exc).__name__
    if name == "KilledWorker":
        return "its worker died while auditing it, and again on retry (Dask KilledWorker)"
    return f"the task failed: {describe_bug(exc)}"


def _connect(client_type: Any, address: str) -> Any:
    try:
        return client_type(address, timeout="10s")
    except (OSError, TimeoutError) as exc:
        raise UsageError(
            f"cannot reach the Dask scheduler {redact(address)} ({describe_bug(exc)}): start "
            "one with `dask scheduler`, or leave out --scheduler to run on this machine"
        ) from None


def _has_dashboard() -> bool:
    """Dask's dashboard needs bokeh, which forensics does not require."""
    import importlib.util

    return importlib.util.find_spec("bokeh") is not None


def _dashboard(client: Any) -> str | None:
    try:
        services = client.scheduler_info().get("services", {})
    except Exception:
        return None
    port = services.get("dashboard")
    if not port:
        return None
    address = str(client.scheduler.address)
    host = address.split("://", 1)[-1].rsplit(":", 1)[0]
    return f"http://{host}:{port}/status"


def exit_code(report: FleetReport, threshold: Severity | None) -> int:
    """1 when a repository's findings reach ``threshold`` or a repository could not be
    audited (unless the threshold is none), else 0."""
    if threshold is None:
        return 0
    for row in report.repositories:
        if row.status is RepoStatus.FAILED:
            return 1
        if any(Severity.parse(label) >= threshold for label, _n in row.severities):
            return 1
    return 0
