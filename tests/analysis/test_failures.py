"""The failure catalogue against real output: ``alembic upgrade head`` on projects broken in
each way (SQLite and PostgreSQL), pip and Python failures, and platform lines.

The outputs are kept in ``failure_logs/`` (regenerate with ``FORENSICS_UPDATE_GOLDEN=1``);
each test also runs the real tool again and classifies what it printed now.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forensics.analysis.failures import SIGNATURES, classify, excerpt, rerank, window_causes
from forensics.model.deploys import DeployLog, FailureCause, FailureClass, FailureWindow, Suspect
from forensics.model.migrations import (
    ChangeKind,
    GraphEvent,
    GraphHistory,
    MigrationChange,
    MigrationFile,
)
from tests.analysis.broken_alembic import CASES, Case, normalise, run_case

FIXTURES = Path(__file__).parent / "failure_logs"
UPDATE = os.environ.get("FORENSICS_UPDATE_GOLDEN") == "1"
F = FailureClass
T = datetime(2025, 11, 12, tzinfo=UTC)


def _log(text: str, deploy: str = "dep-1") -> DeployLog:
    return DeployLog(deploy=deploy, lines=tuple(text.splitlines()), source="test")


def _check(case_name: str, output: str, expected: FailureClass, subject: str | None) -> None:
    fixture = FIXTURES / f"{case_name}.log"
    if UPDATE:
        FIXTURES.mkdir(exist_ok=True)
        fixture.write_text(output, encoding="utf-8")
    cause = classify(_log(output))
    assert cause.failure_class is expected, (cause, output[-2000:])
    if subject is not None:
        assert cause.subject is not None and cause.subject.endswith(subject), cause
    saved = classify(_log(fixture.read_text(encoding="utf-8")))
    assert saved.failure_class is expected
    assert saved.line in output.replace("\t", " ") or saved.line.endswith("…")


def _sqlite_cases() -> list[Case]:
    return [c for c in CASES if c.engine in ("sqlite", "refused")]


def _postgres_cases() -> list[Case]:
    return [c for c in CASES if c.engine.startswith("postgres")]


@pytest.mark.parametrize("case", _sqlite_cases(), ids=lambda c: c.name)
def test_real_alembic_failures_without_a_server(case: Case, tmp_path: Path) -> None:
    output = run_case(case, tmp_path, lambda: "")
    _check(case.name, output, case.expected, case.subject)


@pytest.mark.postgres
@pytest.mark.parametrize("case", _postgres_cases(), ids=lambda c: c.name)
def test_real_alembic_failures_on_postgres(
    case: Case, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    def database() -> str:
        url: str = request.getfixturevalue("postgres_url")
        return url

    output = run_case(case, tmp_path, database)
    _check(case.name, output, case.expected, case.subject)


def _run(args: list[str], tmp_path: Path, **extra: object) -> str:
    done = subprocess.run(
        args,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=120,
        **extra,  # type: ignore[call-overload]
    )
    assert done.returncode != 0
    return normalise(str(done.stdout), tmp_path)


def test_real_pip_failure_is_a_build_failure(tmp_path: Path) -> None:
    output = _run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-index",
            "--find-links",
            str(tmp_path),
            "orders-sdk-that-does-not-exist==2.1",
        ],
        tmp_path,
        env={**os.environ, "PIP_FIND_LINKS": "", "PIP_NO_INPUT": "1"},
    )
    output = "\n".join(line for line in output.splitlines() if "Looking in links" not in line)
    _check("pip-missing-dependency", output + "\n", F.BUILD_FAILED, None)


def test_real_memory_error_is_out_of_memory(tmp_path: Path) -> None:
    script = (
        "import resource\n"
        "resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))\n"
        "x = bytearray(1 << 31)\n"
    )
    (tmp_path / "grow.py").write_text(script)
    output = _run([sys.executable, "grow.py"], tmp_path)
    _check("python-memory-error", output, F.OUT_OF_MEMORY, None)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("platform-out-of-memory", F.OUT_OF_MEMORY),
        ("platform-health-check", F.HEALTH_CHECK_FAILED),
        ("platform-missing-setting", F.BUILD_FAILED),
        ("platform-unknown", F.UNKNOWN),
    ],
)
def test_platform_logs(name: str, expected: FailureClass) -> None:
    """Platform lines (no platform runs here): written in the platforms' own shape."""
    cause = classify(_log((FIXTURES / f"{name}.log").read_text(encoding="utf-8")))
    assert cause.failure_class is expected


def test_every_class_but_unknown_has_a_signature_and_a_fixture() -> None:
    covered = {s.failure_class for s in SIGNATURES}
    assert covered == set(FailureClass) - {F.UNKNOWN}
    seen = {
        classify(_log(p.read_text(encoding="utf-8"))).failure_class for p in FIXTURES.glob("*.log")
    }
    assert seen == set(FailureClass)


def test_specific_line_beats_the_platform_summary() -> None:
    text = (
        "==> Running 'alembic upgrade head'\n"
        'psycopg.errors.DuplicateTable: relation "documents" already exists\n'
        "==> Build failed 😞\n"
    )
    cause = classify(_log(text))
    assert cause.failure_class is F.OBJECT_EXISTS
    assert cause.subject == "documents"
    assert cause.line_number == 2


def test_unknown_quotes_the_last_error_line_and_redacts() -> None:
    text = (
        "starting\nError: upstream sync failed for postgresql://app:s3cret@db/prod\n"
        "Traceback (most recent call last):\ndone\n"
    )
    cause = classify(_log(text))
    assert cause.failure_class is F.UNKNOWN
    assert cause.line_number == 2
    assert "s3cret" not in cause.line and "***" in cause.line


def test_excerpt_trims_and_strips_colour_codes() -> None:
    line = "\x1b[31mERROR\x1b[0m " + "x" * 1000
    shown = excerpt(line)
    assert shown.startswith("ERROR x") and len(shown) <= 240 and shown.endswith("…")


def test_empty_log_is_unknown_without_a_line() -> None:
    cause = classify(_log(""))
    assert cause.failure_class is F.UNKNOWN and cause.line == "" and cause.line_number is None


def _window(*causes: FailureCause, suspects: tuple[Suspect, ...] = ()) -> FailureWindow:
    from datetime import UTC, datetime

    at = datetime(2025, 11, 13, tzinfo=UTC)
    return FailureWindow(
        start=at,
        end=at,
        count=len(causes),
        first_failed=causes[0].deploy,
        last_failed=causes[-1].deploy,
        last_live_before=None,
        recovered_by=None,
        deploys=tuple(c.deploy for c in causes),
        suspects=suspects,
        causes=causes,
    )


def _change(
    commit: str, path: str, kind: ChangeKind, revision: str, down: str = "a1"
) -> MigrationChange:
    from datetime import UTC, datetime

    file = MigrationFile(path=path, revision=revision, down_revisions=(down,))
    return MigrationChange(
        commit=commit,
        at=datetime(2025, 11, 12, tzinfo=UTC),
        path=path,
        kind=kind,
        revision=revision,
        before=file,
        after=None if kind is ChangeKind.DELETED else file,
    )


def test_window_mixing_two_classes_counts_both() -> None:
    logs = {
        "d1": _log("FAILED: Multiple head revisions are present for given argument 'head'", "d1"),
        "d2": _log("==> Out of memory (used over 512Mi)", "d2"),
        "d3": _log("FAILED: Multiple head revisions are present for given argument 'head'", "d3"),
    }
    base = _window(*(FailureCause(d, F.UNKNOWN, "", "", "") for d in ("d1", "d2", "d3", "d4")))
    (window,) = window_causes([base], logs)
    assert [c.deploy for c in window.causes] == ["d1", "d2", "d3"]
    assert window.class_counts == ((F.MULTIPLE_HEADS, 2), (F.OUT_OF_MEMORY, 1))


def test_cant_locate_revision_ranks_the_commit_that_removed_it_first() -> None:
    cause = classify(_log("FAILED: Can't locate revision identified by '774225e563ca'"))
    suspects = (
        Suspect("new", 0.5, ("it added the migration m/versions/x.py",)),
        Suspect("removal", 0.1, ("it changed no migration file",)),
    )
    history = GraphHistory(
        changes=(
            _change(
                "removal", "m/versions/774225e563ca_deals.py", ChangeKind.DELETED, "774225e563ca"
            ),
            _change("new", "m/versions/x.py", ChangeKind.ADDED, "x1"),
        )
    )
    ranked = rerank(_window(cause, suspects=suspects), history)
    assert [s.commit for s in ranked] == ["removal", "new"]
    assert "removed revision 774225e563ca" in ranked[0].reasons[0]


def test_syntax_error_ranks_the_commit_that_broke_that_file_first() -> None:
    text = (FIXTURES / "syntax-error.log").read_text(encoding="utf-8")
    cause = classify(_log(text))
    assert cause.subject == "/srv/app/migrations/versions/b1_broken.py"
    suspects = (
        Suspect("other", 0.7, ("it edited migrations/versions/a1_base.py",)),
        Suspect("breaker", 0.5, ("it added the migration",)),
    )
    broken = "migrations/versions/b1_broken.py"
    history = GraphHistory(
        changes=(
            _change("breaker", broken, ChangeKind.PARSE_ERROR, "b1"),
            _change("later", broken, ChangeKind.CODE, "b1"),
            _change("other", "migrations/versions/a1_base.py", ChangeKind.CODE, "a1"),
        ),
        events=(GraphEvent("parse-error", "FX105", "breaker", T, "does not parse", path=broken),),
    )
    ranked = rerank(_window(cause, suspects=(*suspects, Suspect("later", 0.7, ("x",)))), history)
    assert [s.commit for s in ranked] == ["breaker", "other", "later"]
    assert "unloadable (parse-error)" in ranked[0].reasons[0]


def test_out_of_memory_window_demotes_migration_suspects() -> None:
    cause = classify(_log("==> Out of memory (used over 512Mi)"))
    suspects = (Suspect("edit", 0.7, ("it edited an applied migration",)),)
    ranked = rerank(_window(cause, suspects=suspects), GraphHistory())
    assert ranked[0].score < 0.7
    assert "point away from migrations (out-of-memory)" in ranked[0].reasons[-1]


def test_agreeing_nothing_leaves_the_order_alone() -> None:
    cause = classify(
        _log("psycopg.errors.LockNotAvailable: canceling statement due to lock timeout")
    )
    suspects = (Suspect("a", 0.7, ("x",)), Suspect("b", 0.5, ("y",)))
    assert rerank(_window(cause, suspects=suspects), GraphHistory()) == suspects


def test_catalogue_ids_are_unique() -> None:
    ids = [s.id for s in SIGNATURES]
    assert len(ids) == len(set(ids))


def test_multiple_heads_ranks_the_commit_that_made_the_second_head_first() -> None:
    cause = classify(_log((FIXTURES / "multiple-heads.log").read_text(encoding="utf-8")))
    suspects = (
        Suspect("edit", 0.7, ("x",)),
        Suspect("fork", 0.5, ("y",)),
        Suspect("new", 0.5, ("z",)),
    )
    history = GraphHistory(
        changes=(
            _change("fork", "m/versions/b2.py", ChangeKind.ADDED, "b2"),
            _change("new", "m/versions/c1.py", ChangeKind.ADDED, "c1"),
        ),
        events=(GraphEvent("multiple-heads", "FX101", "fork", T, "2 heads"),),
    )
    ranked = rerank(_window(cause, suspects=suspects), history)
    assert [s.commit for s in ranked] == ["fork", "edit", "new"]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(max_size=300), max_size=30))
def test_any_text_gets_a_class_and_a_line_from_the_log(lines: list[str]) -> None:
    cause = classify(DeployLog("d", tuple(lines), "test"))
    assert cause.failure_class in FailureClass
    assert len(cause.line) <= 240
    if cause.line_number is not None:
        assert 1 <= cause.line_number <= len(lines)
