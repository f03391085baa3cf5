"""FX404: the seed's failure window with the failed deploys' own logs (``dir:`` source)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from forensics.analysis.failures import SCORE_LOG_AGREES
from forensics.gitbuild import RepoBuilder
from forensics.model.deploys import FailureClass, SuspectRole
from forensics.model.findings import Confidence, Severity
from tests.detectors.scenario import M_PATH, M, Seed, analyse, build_seed, by_rule

FIXTURES = Path(__file__).parents[1] / "analysis" / "failure_logs"


@pytest.fixture
def seed(git_repo: Callable[..., RepoBuilder], tmp_path: Path) -> Seed:
    return build_seed(git_repo(), tmp_path)


def _logs(folder: Path, logs: dict[str, str]) -> str:
    folder.mkdir()
    for ident, text in logs.items():
        (folder / f"{ident}.log").write_text(text, encoding="utf-8")
    return f"dir:{folder}"


def _syntax_log() -> str:
    """The real SyntaxError traceback of a broken versions file, moved to the seed's file."""
    text = (FIXTURES / "syntax-error.log").read_text(encoding="utf-8")
    return text.replace("/srv/app/migrations/versions/b1_broken.py", f"/srv/app/{M_PATH}")


MISSING_PARENT = (
    "INFO  [alembic.runtime.migration] Context impl PostgresqlImpl.\n"
    "/opt/venv/lib/python3/site-packages/alembic/script/revision.py:236: UserWarning: "
    f"Revision aaaa00000000 referenced from aaaa00000000 -> {M} (head), add deals is not "
    "present\n  util.warn(\nTraceback (most recent call last):\nKeyError: 'aaaa00000000'\n"
    "==> Pre-deploy has failed\n"
)


@pytest.mark.rule("FX404", fires=True)
def test_logs_classify_the_window_and_rerank_the_suspects(seed: Seed, tmp_path: Path) -> None:
    spec = _logs(
        tmp_path / "logs",
        {
            "dep-02": MISSING_PARENT,
            "dep-03": MISSING_PARENT,
            "dep-06": _syntax_log(),
            "dep-09": "==> Deploying...\n==> Out of memory (used over 512Mi)\n",
        },
    )
    ctx, findings = analyse(seed.repo.path, [f"render:{seed.deploys_file}"], deploy_logs=(spec,))
    (window,) = ctx.failure_windows
    assert dict(window.class_counts) == {
        FailureClass.UNKNOWN_REVISION: 2,
        FailureClass.MIGRATION_IMPORT_ERROR: 1,
        FailureClass.OUT_OF_MEMORY: 1,
    }
    (cause,) = by_rule(findings, "FX404")
    assert cause.severity is Severity.HIGH and cause.confidence is Confidence.HIGH
    assert cause.deploys == ("dep-02", "dep-03", "dep-06", "dep-09")
    assert cause.revision == "aaaa00000000"
    facts = dict(cause.facts)
    assert facts["classes"] == "unknown-revision (2), migration-import-error (1), out-of-memory (1)"
    syntax = next(v for k, v in cause.facts if k.startswith("migration-import-error: dep-06"))
    assert syntax.startswith("SyntaxError:")
    assert "not a migration incident" not in cause.title
    # The log agrees with git about the rewire to aaaa00000000 and the broken file, but
    # both came after the first failed deploy: they kept the deploys failing and stay
    # listed after the one commit that can have caused the window.
    agreeing = [s for s in window.suspects if " log " in s.reasons[0]]
    assert {s.commit for s in agreeing} == {seed.rewire, seed.syntax_error}
    assert all(s.role is SuspectRole.LATER and s.score < SCORE_LOG_AGREES for s in agreeing)
    rewire = next(s for s in agreeing if s.commit == seed.rewire)
    assert "pointed" in rewire.reasons[0] and "aaaa00000000" in rewire.reasons[0]
    assert window.suspects[0].commit == seed.edits[0]
    (suspects,) = by_rule(findings, "FX402")
    assert suspects.commits[0] == seed.edits[0]


@pytest.mark.rule("FX404", fires=True)
def test_out_of_memory_window_is_probably_not_a_migration_incident(
    seed: Seed, tmp_path: Path
) -> None:
    oom = (FIXTURES / "platform-out-of-memory.log").read_text(encoding="utf-8")
    spec = _logs(tmp_path / "logs", {f"dep-{n:02d}": oom for n in range(11)})
    ctx, findings = analyse(seed.repo.path, [f"render:{seed.deploys_file}"], deploy_logs=(spec,))
    (cause,) = by_rule(findings, "FX404")
    assert "probably not a migration incident" in cause.title
    assert "Out of memory (used over 512Mi)" in cause.detail
    (suspects,) = by_rule(findings, "FX402")
    assert suspects.confidence is Confidence.LOW
    assert all(
        "point away from migrations" in s.reasons[-1] for s in ctx.failure_windows[0].suspects
    )


@pytest.mark.rule("FX404", fires=False)
def test_no_logs_for_the_failed_deploys_no_finding(seed: Seed, tmp_path: Path) -> None:
    spec = _logs(tmp_path / "logs", {"dep-D": "==> Your service is live 🎉\n"})
    ctx, findings = analyse(seed.repo.path, [f"render:{seed.deploys_file}"], deploy_logs=(spec,))
    assert not by_rule(findings, "FX404")
    assert not ctx.failure_windows[0].causes


@pytest.mark.rule("FX404", fires=False)
def test_without_deploy_logs_nothing_changes(seed: Seed) -> None:
    ctx, findings = analyse(seed.repo.path, [f"render:{seed.deploys_file}"])
    assert not by_rule(findings, "FX404")
    assert all(s.score < SCORE_LOG_AGREES for s in ctx.failure_windows[0].suspects)


def test_hostile_log_lines_are_escaped_and_redacted_in_every_format(
    seed: Seed, tmp_path: Path
) -> None:
    from forensics import pipeline
    from forensics.config import AnalyzeConfig
    from forensics.render.html import render_html
    from forensics.render.json import render_json
    from forensics.render.markdown import render_markdown
    from forensics.render.sarif import render_sarif
    from tests.detectors.scenario import NOW

    line = (
        'psycopg.errors.DuplicateTable: relation "<script>alert(1)</script>|x" already exists '
        "(postgresql://deploy:hunter2secret@db.internal/app)"
    )
    spec = _logs(tmp_path / "logs", {"dep-00": f"==> Deploying...\n{line}\n"})
    cfg = AnalyzeConfig(
        repo=seed.repo.path,
        now=NOW,
        deploys=(f"render:{seed.deploys_file}",),
        deploy_logs=(spec,),
        use_cache=False,
    )
    report = pipeline.run(cfg)
    html, markdown = render_html(report), render_markdown(report)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>" not in markdown
    for text in (html, markdown, render_json(report), render_sarif(report)):
        assert "hunter2secret" not in text
        assert "FX404" in text
