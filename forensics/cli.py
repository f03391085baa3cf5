"""The command line (typer): parses options, calls the pipeline, prints, exits.

One function per command on the module-level ``app``. ``main()`` is the entry point: a
``ForensicsError`` or a bad option ends the run with ``error: <message>`` on one line and
exit code 2; anything unexpected too (``internal error: ...``), never with a traceback.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import gc
import inspect
import logging
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

import typer

from forensics import __version__, api, pipeline
from forensics.config import (
    AnalyzeConfig,
    Policy,
    Settings,
    hidden_by,
    load_settings,
    parse_when,
    read_baseline,
    write_baseline,
)
from forensics.detectors import all_rules
from forensics.errors import (
    Diagnostics,
    ForensicsError,
    InputError,
    RedactingFilter,
    UsageError,
    describe_bug,
)
from forensics.model.deploys import Deploy
from forensics.model.findings import Severity
from forensics.model.guard import GuardMode, GuardResult
from forensics.model.report import AuditDiff, Report
from forensics.model.text import for_terminal
from forensics.output import append_text, check_stem, write_reports
from forensics.render import OutputFormat, parse_formats
from forensics.render.graph import dag_json, dag_mermaid, dag_text, history_json, history_text
from forensics.render.json import dumps

app = typer.Typer(
    name="forensics",
    help="Reconstructs what happened to a service's database migrations.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

RepoOption = typer.Option(Path("."), "--repo", help="The git repository to analyse.")
RevOption = typer.Option("HEAD", "--rev", help="The commit treated as 'now'.")
MigrationsOption = typer.Option(
    [], "--migrations", help="A migrations folder (repeatable); replaces discovery."
)
ConfigOption = typer.Option(
    None, "--config", help="TOML settings file (default: \\[tool.forensics] of pyproject.toml)."
)
FailOnOption = typer.Option(
    None, "--fail-on", help="Exit 1 at: critical, high, medium, low, info or none."
)


def _version(value: bool) -> None:
    if value:
        print(f"forensics {__version__}")
        raise typer.Exit(0)


@app.callback()
def _options(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Reconstructs what happened to a service's database migrations."""


class DagFormat(StrEnum):
    text = "text"
    json = "json"
    mermaid = "mermaid"


class HistoryFormat(StrEnum):
    text = "text"
    json = "json"


def _print(text: str) -> None:
    """Standard output: everything printed passes through ``for_terminal``."""
    sys.stdout.write(for_terminal(text))


def _print_json(document: dict[str, Any]) -> None:
    _print(dumps(document))


def _complain(message: str) -> None:
    """One line on standard error."""
    print(for_terminal(message, one_line=True), file=sys.stderr)


@app.command()
def dag(
    repo: Path = RepoOption,
    rev: str = RevOption,
    migrations: list[str] = MigrationsOption,
    format: DagFormat = typer.Option(DagFormat.text, "--format", help="text, json or mermaid."),
    fail_on: str | None = FailOnOption,
    config: Path | None = ConfigOption,
) -> None:
    """Show the migration graph at --rev, with its heads, branches and problems."""
    settled = Settled.of(repo, config, fail_on, "none")
    graph = api.dag(repo, rev=rev, migrations=migrations or settled.settings.migrations)
    sha, states = graph.rev, graph.states
    if format is DagFormat.json:
        _print_json(dag_json(sha, states))
    elif format is DagFormat.mermaid:
        _print(dag_mermaid(sha, states))
    else:
        _print(dag_text(sha, states))
    problems = [p for state in states for p in state.problems]
    shown = [p.severity for p in problems if not hidden_by(settled.policy, p.rule, p.path)]
    _exit_at(settled.threshold, shown)


@app.command()
def history(
    repo: Path = RepoOption,
    rev: str = RevOption,
    since: str | None = typer.Option(None, "--since", help="ISO date/time or span (7d)."),
    until: str | None = typer.Option(None, "--until", help="ISO date/time or span."),
    migrations: list[str] = MigrationsOption,
    format: HistoryFormat = typer.Option(HistoryFormat.text, "--format", help="text or json."),
    fail_on: str | None = FailOnOption,
    config: Path | None = ConfigOption,
) -> None:
    """Show when the migration graph broke and which commit repaired it."""
    settled = Settled.of(repo, config, fail_on, "none")
    found = api.history(
        repo,
        rev=rev,
        migrations=migrations or settled.settings.migrations,
        since=since,
        until=until,
    )
    sha = found.rev
    events = [e for e in found.events if not hidden_by(settled.policy, e.rule, e.path)]
    severities = [e.rule.rule.severity for e in events]
    if format is HistoryFormat.json:
        _print_json(history_json(sha, events))
    else:
        _print(history_text(sha, events, found.history.points))
    _exit_at(settled.threshold, severities)


SinceOption = typer.Option(None, "--since", help="Start: ISO date/time (UTC) or span (90m, 7d).")
UntilOption = typer.Option(None, "--until", help="End: ISO date/time (UTC) or span; default now.")
DeploysOption = typer.Option(
    [],
    "--deploys",
    help="Deploy source, repeatable: render:FILE, render-api:ID, github:FILE, "
    "github-api:OWNER/REPO[@ENV], github-actions:OWNER/REPO[:WORKFLOW], github-actions:FILE, "
    "csv:FILE, jsonl:FILE, tags:PATTERN.",
)
DeployLogsOption = typer.Option(
    [],
    "--deploy-logs",
    help="Deploy logs, repeatable: dir:PATH (<deploy-id>.log files), render-logs:SERVICE_ID "
    "or github-actions:OWNER/REPO (failed jobs' logs; implied by --deploys github-actions:).",
)
ProdOption = typer.Option([], "--prod-revision", help="Revision production is at (repeatable).")
DbOption = typer.Option(None, "--db-url", help="Production database URL (read-only probe).")
HealthOption = typer.Option(None, "--health-url", help="Health endpoint to GET once.")
OutOption = typer.Option(Path("reports"), "--out", help="Output folder, or - for stdout.")
StemOption = typer.Option(None, "--stem", help="File name stem of the outputs.")
AllOption = typer.Option(False, "--all-commits", help="Every commit, not only first-parent.")
CacheOption = typer.Option(None, "--cache-dir", help="Mining cache folder.")
NoCacheOption = typer.Option(False, "--no-cache", help="Neither read nor write the cache.")
BaselineOption = typer.Option(
    None, "--baseline", help="Hide the findings whose fingerprints this file lists."
)
WriteBaselineOption = typer.Option(
    None, "--write-baseline", help="Write today's findings to this baseline file."
)
LinkBaseOption = typer.Option(
    None,
    "--link-base",
    help="Web address of the repository (https://github.com/OWNER/REPO or a GitLab one) that "
    "the report links commits and files to; default: origin's, when on GitHub or GitLab.",
)
ReportFormatOption = typer.Option("md,html,json", "--format", help="md,html,json,sarif,summary")
StoreOption = typer.Option(
    "reports/forensics.db", "--store", help="Findings store URL or SQLite path."
)
SEVERITY_CHOICES = "critical, high, medium, low, info or none"


def _fail_on(text: str | None, settings: Settings, default: str) -> Severity | None:
    """The --fail-on threshold: the option, else the settings' ``fail-on``, else ``default``."""
    chosen = text or settings.fail_on or default
    if chosen.strip().lower() == "none":
        return None
    try:
        return Severity.parse(chosen)  # type: ignore[return-value]
    except ValueError:
        raise UsageError(f"--fail-on {chosen!r}: use {SEVERITY_CHOICES}") from None


def _exit_at(threshold: Severity | None, severities: list[Severity]) -> None:
    if threshold is not None and any(s >= threshold for s in severities):
        raise typer.Exit(1)


def _policy(settings: Settings, baseline: Path | None, writing: Path | None = None) -> Policy:
    """What to hide: the settings' rules and paths, and the baseline (the option's file,
    else the settings' one; none at all while a new baseline is being written)."""
    known = {r.id for r in all_rules()}
    unknown = sorted(set(settings.ignore) - known)
    if unknown:
        raise UsageError(
            f"{settings.origin}: unknown rule {unknown[0]!r} in 'ignore'; "
            "the rules are listed in the README"
        )
    source = None if writing else baseline or settings.baseline
    return Policy(
        ignore=frozenset(settings.ignore),
        exclude=settings.exclude,
        baseline=read_baseline(source) if source else frozenset(),
        baseline_name=str(source) if source else None,
    )


@dataclass(frozen=True)
class Settled:
    """What the settings file and a command's options decide together: the --fail-on
    threshold (``None``: the command never fails on findings) and what to hide."""

    settings: Settings
    threshold: Severity | None
    policy: Policy

    @classmethod
    def of(
        cls,
        repo: Path,
        config: Path | None,
        fail_on: str | None,
        default: str | None,
        baseline: Path | None = None,
        writing: Path | None = None,
    ) -> Settled:
        """``default`` is the threshold without --fail-on or a setting; ``None`` for a
        command that has no threshold at all."""
        settings = load_settings(repo, config)
        threshold = None if default is None else _fail_on(fail_on, settings, default)
        return cls(settings, threshold, _policy(settings, baseline, writing))


@dataclass(frozen=True)
class ReportOptions:
    """The options of a command that writes an incident report (analyze, audit, watch) as
    typer gives them, converted and checked once, when the object is built: before the
    analysis spends any time. ``config()`` is the analysis they ask for."""

    repo: Path
    rev: str
    format: str
    out: Path
    stem: str | None
    config_file: Path | None
    fail_on: str | None = None
    fail_on_default: str | None = None
    baseline: Path | None = None
    write_baseline: Path | None = None
    since: str | None = None
    until: str | None = None
    default_span: str | None = None
    migrations: Sequence[str] = ()
    deploys: Sequence[str] = ()
    deploy_logs: Sequence[str] = ()
    prod_revisions: Sequence[str] = ()
    db_url: str | None = None
    health_url: str | None = None
    all_commits: bool = False
    cache_dir: Path | None = None
    no_cache: bool = False
    link_base: str | None = None
    formats: tuple[OutputFormat, ...] = field(init=False)
    settled: Settled = field(init=False)

    def __post_init__(self) -> None:
        formats = tuple(parse_formats(self.format))
        settled = Settled.of(
            self.repo,
            self.config_file,
            self.fail_on,
            self.fail_on_default,
            self.baseline,
            self.write_baseline,
        )
        _check_out(formats, self.out, self.stem)
        object.__setattr__(self, "formats", formats)
        object.__setattr__(self, "settled", settled)

    @property
    def threshold(self) -> Severity | None:
        return self.settled.threshold

    def file_stem(self, default: str) -> str:
        """--stem, else ``default``."""
        return default if self.stem is None else self.stem

    @property
    def deploy_specs(self) -> tuple[str, ...]:
        """--deploys, else the settings' deploys."""
        return tuple(self.deploys) or self.settled.settings.deploys

    def config(self) -> AnalyzeConfig:
        """The analysis asked for, with ``now`` read from the clock when this is called."""
        now = datetime.now(UTC)
        end = parse_when(self.until, now, "--until") if self.until else None
        start = parse_when(self.since, end or now, "--since") if self.since else None
        if start is None and self.default_span:
            start = parse_when(self.default_span, end or now, "--since")
        return AnalyzeConfig(
            repo=self.repo,
            now=now,
            rev=self.rev,
            since=start,
            until=end,
            migrations=tuple(self.migrations) or self.settled.settings.migrations,
            deploys=self.deploy_specs,
            deploy_logs=tuple(self.deploy_logs),
            prod_revisions=tuple(self.prod_revisions),
            db_url=self.db_url,
            health_url=self.health_url,
            all_commits=self.all_commits,
            cache_dir=self.cache_dir,
            use_cache=not self.no_cache,
            policy=self.settled.policy,
            link_base=self.link_base,
        )


def _analyse(cfg: AnalyzeConfig) -> Report:
    """The pipeline, with a progress line on standard error for the long stages when that is
    a terminal (in a log, a spinner is noise)."""
    if not sys.stderr.isatty():
        return pipeline.run(cfg, Diagnostics())
    from rich.console import Console

    console = Console(stderr=True)
    with console.status("analysing", spinner="dots") as status:
        return pipeline.run(cfg, Diagnostics(), progress=lambda step: status.update(step))


def _check_out(formats: Sequence[OutputFormat], out: Path, stem: str | None) -> None:
    """The output options, checked before the analysis spends any time."""
    if str(out) == "-" and len(formats) != 1:
        raise UsageError("--out - prints one format: pass a single --format (e.g. json)")
    if stem is not None:
        check_stem(stem)


def _write(report: Report, options: ReportOptions, default_stem: str) -> None:
    """Each format to ``out/stem.suffix`` (or the single format to standard output), the
    paths written on standard output; a one-line error when a report could not be written.
    ``default_stem`` is the file name stem without --stem."""
    formats, out, stem = options.formats, options.out, options.file_stem(default_stem)
    if str(out) == "-":
        _print(formats[0].render(report))
        return
    written, failed = write_reports(report, list(formats), out, stem)
    for path in written:
        _print(f"{path}\n")
    if failed is not None:
        raise ForensicsError(failed)


def _step_summary() -> Path | None:
    """The job summary file of a GitHub Actions run, when there is one."""
    target = os.environ.get("GITHUB_STEP_SUMMARY")
    return Path(target) if target else None


def _tell(report: Report, fail_on: Severity | None) -> None:
    """After each run: the headline and top findings on standard error; under GitHub Actions
    the first screen appended to the job summary and an annotation per finding at or above
    --fail-on."""
    from forensics.render.ci import finding_annotations, terminal_summary

    sys.stderr.write(for_terminal(terminal_summary(report)))
    summary_file = _step_summary()
    if summary_file is None:
        return
    append_text(summary_file, OutputFormat.SUMMARY.render(report) + "\n")
    if fail_on is not None:
        # The runner reads workflow commands on standard error too; standard output keeps
        # the paths written (or the report itself, with --out -).
        for line in finding_annotations(report, fail_on):
            sys.stderr.write(line + "\n")


def _finish(report: Report, options: ReportOptions) -> None:
    """The baseline when asked, what the settings hid, then the exit code."""
    log = logging.getLogger("forensics")
    fail_on, baseline = options.threshold, options.write_baseline
    if baseline is not None:
        write_baseline(baseline, report.findings)
        log.info("baseline of %d findings written to %s", len(report.findings), baseline)
    for why, count in report.suppressed:
        log.info("%d findings hidden (%s)", count, why)
    if fail_on is not None and any(f.severity >= fail_on for f in report.findings):
        raise typer.Exit(1)


def _report_parameters(
    repo: Path = RepoOption,
    rev: str = RevOption,
    since: str | None = SinceOption,
    until: str | None = UntilOption,
    migrations: list[str] = MigrationsOption,
    deploys: list[str] = DeploysOption,
    deploy_logs: list[str] = DeployLogsOption,
    prod_revisions: list[str] = ProdOption,
    db_url: str | None = DbOption,
    health_url: str | None = HealthOption,
    format: str = ReportFormatOption,
    out: Path = OutOption,
    stem: str | None = StemOption,
    fail_on: str | None = FailOnOption,
    all_commits: bool = AllOption,
    cache_dir: Path | None = CacheOption,
    no_cache: bool = NoCacheOption,
    config_file: Path | None = ConfigOption,
    baseline: Path | None = BaselineOption,
    write_baseline: Path | None = WriteBaselineOption,
    link_base: str | None = LinkBaseOption,
) -> None:
    """Never called: its parameters are the options of the commands that write an incident
    report, declared once, each named as its ``ReportOptions`` field."""


def _report_command(
    names: str, *, fail_on_default: str | None = None, default_span: str | None = None
) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """A command that writes an incident report, with the options ``names`` (parameter
    names separated by spaces) in that order: report options of ``_report_parameters`` and
    the command's own. The command takes the report options as one ``ReportOptions`` (its
    ``options`` parameter), built and checked before it runs, and its own options by name."""
    shared = inspect.signature(_report_parameters, eval_str=True).parameters

    def wrap(command: Callable[..., None]) -> Callable[..., None]:
        own = dict(inspect.signature(command, eval_str=True).parameters)
        del own["options"]
        order = names.split()
        assert set(own) <= set(order), f"{command.__name__}: name its own options too"
        parameters = [own.get(name) or shared[name] for name in order]

        @functools.wraps(command)
        def run(**given: Any) -> None:
            mine = {name: given.pop(name) for name in own}
            options = ReportOptions(
                **given, fail_on_default=fail_on_default, default_span=default_span
            )
            command(options, **mine)

        # typer reads the options from the signature, their types from the annotations.
        run.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
        run.__annotations__ = {p.name: p.annotation for p in parameters}
        return run

    return wrap


@app.command()
@_report_command(
    "repo rev since until migrations deploys deploy_logs prod_revisions db_url health_url "
    "format out stem fail_on all_commits cache_dir no_cache config_file baseline "
    "write_baseline link_base",
    fail_on_default="none",
)
def analyze(options: ReportOptions) -> None:
    """Write an incident report on what happened to the migrations in the window."""
    report = _analyse(options.config())
    _write(report, options, f"incident-{report.until:%Y%m%d-%H%M}")
    _tell(report, options.threshold)
    _finish(report, options)


@app.command()
@_report_command(
    "repo rev since until migrations deploys deploy_logs prod_revisions db_url health_url "
    "format out stem store fail_on all_commits cache_dir no_cache config_file baseline "
    "write_baseline link_base",
    fail_on_default="high",
    default_span="7d",
)
def audit(options: ReportOptions, store: str = StoreOption) -> None:
    """The weekly audit: the last 7 days, compared with the previous audit in the store."""
    # SQLAlchemy and Alembic load only for the command that needs them.
    from forensics.store import FindingsStore, audit_id_for

    cfg = options.config()
    report = _analyse(cfg)
    audit_id = audit_id_for(report.until)

    def publish(diff: AuditDiff) -> None:
        nonlocal report
        report = dataclasses.replace(report, audit=diff, title="Weekly migration audit")
        _write(report, options, audit_id)

    # The reports are written before the store commits: an audit that could not be
    # reported is not stored, and the next run sees its findings as new again.
    out = options.out
    name = options.file_stem(audit_id)
    shown = out / f"{name}{options.formats[0].suffix}" if str(out) != "-" else None
    with FindingsStore.open(store) as findings_store:
        findings_store.record_audit(
            str(Path(options.repo).resolve()),
            audit_id,
            report.rev,
            cfg.now,
            report.findings,
            publish,
            metrics=report.metrics,
            status=report.status,
            report=str(shown) if shown else None,
        )
    _tell(report, options.threshold)
    _finish(report, options)


@app.command()
def guard(
    repo: Path = RepoOption,
    base: str | None = typer.Option(
        None,
        "--base",
        help="Start of the range (default: merge-base with upstream, else the parent of --rev).",
    ),
    rev: str = RevOption,
    staged: bool = typer.Option(False, "--staged", help="Check the staged index instead."),
    deploys: list[str] = DeploysOption,
    lock: Path | None = typer.Option(None, "--lock", help="Lock file of applied migrations."),
    strict: bool = typer.Option(False, "--strict", help="Fail on cosmetic edits too."),
    write_lock: bool = typer.Option(False, "--write-lock", help="Write the lock file."),
    force: bool = typer.Option(False, "--force", help="With --write-lock: re-lock changes."),
) -> None:
    """Fail (exit 1) when a change edits, rewires or removes an applied migration."""

    from forensics.render.guard_text import format_result

    if (write_lock or force) and lock is None:
        raise UsageError("--write-lock and --force need --lock FILE (for example forensics.lock)")
    if force and not write_lock:
        raise UsageError("--force only applies to --write-lock: add --write-lock")
    if write_lock and lock is not None:
        result = api.write_lock(repo, lock, rev=rev, deploys=deploys, force=force)
    else:
        mode = GuardMode.STAGED if staged else GuardMode.RANGE
        result = api.guard(
            repo, mode=mode, base=base, rev=rev, deploys=deploys, lock=lock, strict=strict
        )
    _print(format_result(result))
    _tell_guard(result)
    raise typer.Exit(result.exit_code)


def _tell_guard(result: GuardResult) -> None:
    """Under GitHub Actions: an annotation per violation, on the file and the line of its
    revision, and the verdict in the job summary."""
    from forensics.render.ci import annotation
    from forensics.render.markdown import escape

    summary_file = _step_summary()
    if summary_file is None:
        return
    for f in result.violations:
        title = f"forensics guard: {f.rule} {f.name}"
        sys.stderr.write(annotation(f.detail, file=f.path, line=f.line, title=title) + "\n")
    verdict = (
        f"**BLOCKED** · {len(result.violations)} change(s) to applied migrations"
        if result.violations
        else "**OK** · no change to an applied migration"
    )
    lines = [f"# forensics guard: {verdict}", ""]
    lines += [f"- {escape(f.detail)}" for f in result.violations[:50]]
    append_text(summary_file, "\n".join(lines) + "\n\n")


@app.command()
@_report_command(
    "repo rev deploys deploy interval timeout deploy_logs migrations prod_revisions db_url "
    "health_url format out stem config_file"
)
def watch(
    options: ReportOptions,
    deploy: str | None = typer.Option(None, "--deploy", help="The deploy id (default: newest)."),
    interval: float = typer.Option(15.0, "--interval", help="Seconds between polls."),
    timeout: float = typer.Option(1800.0, "--timeout", help="Seconds before giving up."),
) -> None:
    """Follow a deploy until it is live (exit 0) or failed (exit 1, incident report written)."""
    from forensics.sources.git import GitSource
    from forensics.watch import Outcome, follow

    diag = Diagnostics()
    say = _StatusPrinter()
    git = GitSource(options.repo, diag)
    try:
        with say.spinner("waiting for the deploy") as update:

            def changed(found: Deploy, before: str | None) -> None:
                commit = (found.commit_ref or "?")[:8]
                move = f"{before} → {found.status}" if before else found.status
                say.line(f"deploy {found.id} of {commit}: {move}")
                update(f"deploy {found.id}: {found.status}")

            specs, rev = list(options.deploy_specs), options.rev
            result = follow(specs, git, rev, deploy, interval, timeout, changed, diag)
    finally:
        git.close()
    if result.outcome is Outcome.LIVE:
        say.line(f"deploy {result.deploy.id} is live")
        return
    if result.outcome is Outcome.TIMED_OUT:
        raise InputError(
            f"deploy {result.deploy.id} is still {result.deploy.status} after "
            f"{result.waited:.0f}s: run watch again, or raise --timeout"
        )
    if result.outcome is Outcome.CANCELED:
        raise InputError(f"deploy {result.deploy.id} was canceled: nothing to report")
    say.line(f"deploy {result.deploy.id} failed ({result.deploy.status}); writing the report")
    report = _analyse(options.config())
    _write(report, options, f"incident-{report.until:%Y%m%d-%H%M}")
    _tell(report, None)
    raise typer.Exit(1)


class _StatusPrinter:
    """Status lines on standard error, and a spinner while waiting when that is a terminal."""

    def __init__(self) -> None:
        from rich.console import Console

        self.console = Console(stderr=True, highlight=False)

    def line(self, text: str) -> None:
        # Deploy ids and statuses come from the provider: one plain line, no control codes.
        self.console.print(for_terminal(text, one_line=True), markup=False, soft_wrap=True)

    @contextlib.contextmanager
    def spinner(self, text: str) -> Iterator[Callable[[str], None]]:
        if not self.console.is_terminal:
            yield lambda _text: None
            return
        with self.console.status(text, spinner="dots") as status:
            yield lambda update: status.update(update)


@app.command()
def demo(
    out: Path = typer.Option(Path("reports/demo"), "--out", help="Where to write the reports."),
) -> None:
    """Build a repository that replays the seed incident, analyse it, write the reports."""
    from forensics.demo import run_demo

    written, report = run_demo(out)
    for path in written:
        _print(f"{path}\n")
    _tell(report, None)


fleet_app = typer.Typer(
    help="Audit every repository of an organisation on Dask.", no_args_is_help=True
)
app.add_typer(fleet_app, name="fleet")


@fleet_app.command("audit")
def fleet_audit(
    manifest: Path = typer.Option(..., "--manifest", help="TOML list of repositories."),
    workers: int | None = typer.Option(
        None,
        "--workers",
        min=1,
        help="Worker processes of the local cluster (default: one per core).",
    ),
    scheduler: str | None = typer.Option(
        None, "--scheduler", help="An existing Dask scheduler, tcp://HOST:8786."
    ),
    workdir: Path = typer.Option(
        Path(".forensics-fleet"), "--workdir", help="Where URL repositories are fetched."
    ),
    store: str = StoreOption,
    format: str = typer.Option("md,html,json", "--format", help="md,html,json"),
    out: Path = typer.Option(Path("reports"), "--out", help="Output folder."),
    fail_on: str | None = FailOnOption,
    until: str | None = UntilOption,
) -> None:
    """The weekly audit of every repository in --manifest, one Dask task each."""
    from forensics.fleet import FleetOptions, exit_code, read_manifest, run_fleet
    from forensics.render.fleet import fleet_formats

    if workers is not None and scheduler is not None:
        raise UsageError("--workers sizes the local cluster: leave it out with --scheduler")
    if str(out) == "-":
        raise UsageError("the fleet audit writes several reports: pass --out with a folder")
    formats = parse_formats(format)
    report_formats = fleet_formats([f.label for f in formats])
    threshold = _fail_on(fail_on, Settings(), "high")
    entries = read_manifest(manifest)
    now = datetime.now(UTC)
    end = parse_when(until, now, "--until") if until else None
    say = _StatusPrinter()
    with _fleet_progress(say, len(entries)) as progress:
        report = run_fleet(
            entries,
            FleetOptions(
                workers=workers,
                scheduler=scheduler,
                workdir=workdir,
                store=store,
                out=out,
                formats=tuple(f.label for f in formats),
                until=end,
                now=now,
                progress=progress,
                announce=say.line,
            ),
        )
    from forensics.output import write_atomic

    out.mkdir(parents=True, exist_ok=True)
    for fmt in report_formats:
        target = out / f"fleet-{report.audit_id}{fmt.suffix}"
        try:
            write_atomic(target, fmt.render(report))
        except OSError as exc:
            raise ForensicsError(
                f"the fleet {fmt.label} report could not be written to {out} ({exc.strerror}): "
                "pass another --out"
            ) from None
        _print(f"{target}\n")
    for row in report.repositories:
        if row.error:
            say.line(f"{row.name}: failed: {row.error}")
    raise typer.Exit(exit_code(report, threshold))


@contextlib.contextmanager
def _fleet_progress(
    say: _StatusPrinter, total: int
) -> Iterator[Callable[[int, int, int, int], None]]:
    """A rich progress bar of repositories done, failed and running (a terminal only; a
    log gets one line at the end)."""
    if not say.console.is_terminal:
        counts = [0, 0, 0, total]

        def remember(done: int, failed: int, running: int, of: int) -> None:
            counts[:] = [done, failed, running, of]

        yield remember
        say.line(f"{counts[0]} repositories audited, {counts[1]} failed, of {counts[3]}")
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    bar = Progress(
        TextColumn("fleet audit"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[counts]}"),
        console=say.console,
        transient=False,
    )
    with bar:
        task = bar.add_task("fleet", total=total, counts="")

        def update(done: int, failed: int, running: int, of: int) -> None:
            counts = f"done {done} · failed {failed} · running {running}"
            bar.update(task, completed=done + failed, total=of, counts=counts)

        yield update


class _TerminalFormatter(logging.Formatter):
    """Log lines name paths, revisions and messages of the analysed repository: each record
    is one line through ``for_terminal``."""

    def format(self, record: logging.LogRecord) -> str:
        return for_terminal(super().format(record), one_line=True)


def _configure_logging() -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_TerminalFormatter("%(levelname)s: %(message)s"))
    handler.addFilter(RedactingFilter())
    logger = logging.getLogger("forensics")
    logger.handlers[:] = [handler]
    logger.setLevel(logging.INFO)
    logger.propagate = False


_INTERRUPTED = 130


def _interrupted() -> None:
    print("error: interrupted", file=sys.stderr)
    sys.exit(_INTERRUPTED)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``forensics`` console script and ``python -m forensics``."""
    _configure_logging()
    try:
        code = app(args=argv, prog_name="forensics", standalone_mode=False)
    except ForensicsError as exc:
        _complain(f"error: {exc.message}")
        sys.exit(exc.exit_code)
    except typer.TyperException as exc:  # bad options and arguments
        if exc.format_message():  # empty after the help text of a bare `forensics`
            _complain(f"error: {exc.format_message()}")
        sys.exit(2)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        _interrupted()
    except Exception as exc:  # a bug of ours: one line that names it, never a traceback
        _complain(f"internal error: {describe_bug(exc)}")
        sys.exit(2)
    if code == _INTERRUPTED:
        # typer turns Ctrl-C into a silent exit code 130 (no command of ours uses it).
        _interrupted()
    sys.exit(code if isinstance(code, int) else 0)


def entry() -> None:
    """The ``forensics`` console script and ``python -m forensics``: ``main()``, then an
    exit that skips the interpreter's teardown. With SQLAlchemy and GitPython loaded that
    teardown takes a few hundredths of a second, a tenth of a cached run, and by then every
    output file, the cache and the store are written and closed.

    The cyclic garbage collector is off: a run's objects live until it ends, and the
    collector would only walk the growing heap again and again (a tenth of a run, for
    nothing to free). ``watch`` collects between its polls."""
    gc.disable()
    try:
        main()
        code: object = 0
    except SystemExit as exc:
        code = exc.code
    if code is not None and not isinstance(code, int):
        print(code, file=sys.stderr)
        code = 1
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        # A reader that went away (`| head`) or a closed stream: nothing left to tell.
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(code or 0)
