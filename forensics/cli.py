"""The command line (typer): parses options, calls the pipeline, prints, exits.

One function per command on the module-level ``app``. ``main()`` is the entry point: a
``ForensicsError`` or a bad option ends the run with ``error: <message>`` on one line and
exit code 2; anything unexpected too (``internal error: ...``), never with a traceback.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

import typer

from forensics.analysis.graph_history import events_between
from forensics.config import parse_when
from forensics.errors import Diagnostics, ForensicsError, UsageError, redact
from forensics.pipeline import load_graphs, load_history
from forensics.render.graph import dag_json, dag_mermaid, dag_text, history_json, history_text
from forensics.sources.git import GitSource

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


class DagFormat(StrEnum):
    text = "text"
    json = "json"
    mermaid = "mermaid"


class HistoryFormat(StrEnum):
    text = "text"
    json = "json"


def _print_json(document: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(document, indent=2, ensure_ascii=False) + "\n")


@app.command()
def dag(
    repo: Path = RepoOption,
    rev: str = RevOption,
    migrations: list[str] = MigrationsOption,
    format: DagFormat = typer.Option(DagFormat.text, "--format", help="text, json or mermaid."),
) -> None:
    """Show the migration graph at --rev, with its heads, branches and problems."""
    diag = Diagnostics()
    git = GitSource(repo, diag)
    try:
        sha = git.resolve(rev)
        _envs, states = load_graphs(git, sha, migrations, diag)
    finally:
        git.close()
    if format is DagFormat.json:
        _print_json(dag_json(sha, states))
    elif format is DagFormat.mermaid:
        sys.stdout.write(dag_mermaid(sha, states))
    else:
        sys.stdout.write(dag_text(sha, states))


@app.command()
def history(
    repo: Path = RepoOption,
    rev: str = RevOption,
    since: str | None = typer.Option(None, "--since", help="ISO date/time or span (7d)."),
    until: str | None = typer.Option(None, "--until", help="ISO date/time or span."),
    migrations: list[str] = MigrationsOption,
    format: HistoryFormat = typer.Option(HistoryFormat.text, "--format", help="text or json."),
) -> None:
    """Show when the migration graph broke and which commit repaired it."""
    now = datetime.now(UTC)
    start = parse_when(since, now, "--since") if since else None
    end = parse_when(until, now, "--until") if until else None
    if start and end and end < start:
        raise UsageError("--until is before --since: swap them or widen the window")
    diag = Diagnostics()
    git = GitSource(repo, diag)
    try:
        sha = git.resolve(rev)
        envs, _states = load_graphs(git, sha, migrations, diag)
        graph_history = load_history(git, sha, envs, diag)
    finally:
        git.close()
    events = events_between(graph_history.events, start, end)
    if format is HistoryFormat.json:
        _print_json(history_json(sha, events))
        return
    points = [
        p
        for p in graph_history.points
        if (start is None or p.at >= start) and (end is None or p.at <= end)
    ]
    sys.stdout.write(history_text(sha, events, points))


def _configure_logging() -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
    logger = logging.getLogger("forensics")
    logger.handlers[:] = [handler]
    logger.setLevel(logging.INFO)
    logger.propagate = False


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``forensics`` console script and ``python -m forensics``."""
    _configure_logging()
    try:
        code = app(args=argv, prog_name="forensics", standalone_mode=False)
    except ForensicsError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        sys.exit(exc.exit_code)
    except typer.TyperException as exc:  # bad options and arguments
        if exc.format_message():  # empty after the help text of a bare `forensics`
            print(f"error: {exc.format_message()}", file=sys.stderr)
        sys.exit(2)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        print("error: interrupted", file=sys.stderr)
        sys.exit(130)
    except Exception as exc:  # a bug of ours: one line, never a traceback
        message = redact(str(exc).splitlines()[0]) if str(exc) else ""
        print(f"internal error: {type(exc).__name__}: {message}", file=sys.stderr)
        sys.exit(2)
    sys.exit(code if isinstance(code, int) else 0)
