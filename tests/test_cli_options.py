"""The options of the report commands (analyze, audit, watch), declared once and shared:
each command keeps its flags, in its order, with their defaults."""

from __future__ import annotations

from pathlib import Path

import typer.main

from forensics.cli import app

REPORT = [
    ("--repo", Path(".")),
    ("--rev", "HEAD"),
    ("--since", None),
    ("--until", None),
    ("--migrations", []),
    ("--deploys", []),
    ("--deploy-logs", []),
    ("--prod-revision", []),
    ("--db-url", None),
    ("--health-url", None),
    ("--format", "md,html,json"),
    ("--out", Path("reports")),
    ("--stem", None),
]
TAIL = [
    ("--fail-on", None),
    ("--all-commits", False),
    ("--cache-dir", None),
    ("--no-cache", False),
    ("--config", None),
    ("--baseline", None),
    ("--write-baseline", None),
    ("--link-base", None),
]


def _options(name: str) -> list[tuple[str, object]]:
    command = typer.main.get_group(app).commands[name]
    return [(p.opts[0], p.default) for p in command.params]


def test_analyze_and_audit_take_the_same_options_audit_adds_the_store() -> None:
    assert _options("analyze") == REPORT + TAIL
    assert _options("audit") == [*REPORT, ("--store", "reports/forensics.db"), *TAIL]


def test_watch_takes_its_own_options_between_the_report_ones() -> None:
    assert _options("watch") == [
        *REPORT[:2],
        ("--deploys", []),
        ("--deploy", None),
        ("--interval", 15.0),
        ("--timeout", 1800.0),
        ("--deploy-logs", []),
        ("--migrations", []),
        *REPORT[7:],
        ("--config", None),
    ]
