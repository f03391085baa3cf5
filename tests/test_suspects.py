"""Suspect ranking on real repositories: causality by ancestry, SZZ blame from later fixes,
failed fixes, and windows whose cause cannot be bounded."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from forensics.gitbuild import RepoBuilder
from forensics.model.deploys import SuspectRole
from tests.conftest import migration
from tests.detectors.scenario import T0, _render, analyse, by_rule

VERSIONS = "alembic/versions"
BASE, M = "1a2b3c4d5e6f", "774225e563ca"
M_PATH = f"{VERSIONS}/{M}_orders.py"


def _m(*steps: str, down: str = BASE) -> str:
    body = "\n".join(f"    op.execute('{step}')" for step in steps) or "    pass"
    return migration(M, down, message="orders", body=body)


def _start(repo: RepoBuilder) -> list[dict[str, object]]:
    """Two applied migrations, deployed live at T0 + 10 min."""
    live = repo.commit(
        "initial schema",
        T0,
        files={
            "alembic/env.py": "from alembic import context\n",
            f"{VERSIONS}/{BASE}_users.py": migration(BASE, None, message="users"),
            M_PATH: _m(),
        },
    )
    return [_render("dep-live", "live", live, T0 + timedelta(minutes=10))]


def _write(deploys: list[dict[str, object]], folder: Path) -> str:
    target = folder / "deploys.json"
    target.write_text(json.dumps(deploys))
    return f"render:{target}"


def test_szz_ranks_the_commit_whose_lines_the_fix_changed_first(
    git_repo: Callable[..., RepoBuilder], tmp_path: Path
) -> None:
    repo = git_repo()
    deploys = _start(repo)
    at = T0 + timedelta(hours=1)
    earlier = repo.commit("orders: add step a", at, files={M_PATH: _m("a")})
    broke = repo.commit(
        "orders: add step b", at + timedelta(minutes=5), files={M_PATH: _m("a", "b")}
    )
    deploys.append(_render("dep-1", "update_failed", broke, at + timedelta(minutes=6)))
    fix = repo.commit(
        "orders: fix step b", at + timedelta(minutes=20), files={M_PATH: _m("a", "c")}
    )
    deploys.append(_render("dep-2", "live", fix, at + timedelta(minutes=21)))

    ctx, findings = analyse(repo.path, [_write(deploys, tmp_path)])
    (window,) = ctx.failure_windows
    assert window.recovered_by == "dep-2"
    ranked = [s.commit for s in window.suspects]
    # Both edited the applied migration before the first failure, and the earlier one
    # would come first among equals; the fix changed only the later one's line.
    assert ranked == [broke, earlier, fix]
    top = window.suspects[0]
    assert top.role is SuspectRole.CAUSE and top.score > window.suspects[1].score
    assert any(f"a later fix, {fix[:8]}, changed lines of {M_PATH}" in r for r in top.reasons)
    assert not any("SZZ" in r for r in window.suspects[1].reasons)
    assert window.suspects[2].role is SuspectRole.LATER and not window.suspects[2].failed_fix
    (suspect,) = by_rule(findings, "FX402")
    assert suspect.commits[0] == broke and broke[:8] in suspect.title


def test_a_fix_that_breaks_the_graph_again_is_named_and_stays_below_the_cause(
    git_repo: Callable[..., RepoBuilder], tmp_path: Path
) -> None:
    repo = git_repo()
    deploys = _start(repo)
    at = T0 + timedelta(hours=1)
    cause = repo.commit("orders: change step", at, files={M_PATH: _m("a")})
    deploys.append(_render("dep-1", "update_failed", cause, at + timedelta(minutes=1)))
    # A commit hours later rewires the applied migration to a parent that does not exist:
    # it breaks the graph, which ranks highest of all, but it came after the failures began.
    attempt = repo.commit(
        "orders: try another parent",
        at + timedelta(hours=4),
        files={M_PATH: _m("a", down="f" * 12)},
    )
    deploys.append(_render("dep-2", "update_failed", attempt, at + timedelta(hours=4, minutes=1)))

    ctx, findings = analyse(repo.path, [_write(deploys, tmp_path)])
    (window,) = ctx.failure_windows
    first, second = window.suspects
    assert (first.commit, first.role, first.failed_fix) == (cause, SuspectRole.CAUSE, False)
    assert (second.commit, second.role, second.failed_fix) == (attempt, SuspectRole.LATER, True)
    assert second.score > first.score  # by its own evidence it looks worse, yet it is later
    assert second.reasons[0].startswith("a fix attempt that broke the migration graph")
    (suspect,) = by_rule(findings, "FX402")
    assert suspect.commits == (cause, attempt)
    assert cause[:8] in suspect.title
    assert f"{attempt[:8]} broke the migration graph again (a failed fix)" in suspect.detail


def test_without_a_good_deploy_the_cause_cannot_be_bounded(
    git_repo: Callable[..., RepoBuilder], tmp_path: Path
) -> None:
    repo = git_repo()
    _start(repo)
    at = T0 + timedelta(hours=1)
    edit = repo.commit("orders: change step", at, files={M_PATH: _m("a")})
    deploys = [_render("dep-1", "update_failed", edit, at + timedelta(minutes=1))]

    ctx, findings = analyse(repo.path, [_write(deploys, tmp_path)])
    (window,) = ctx.failure_windows
    assert window.last_live_before is None
    assert {s.role for s in window.suspects} == {SuspectRole.UNBOUNDED}
    (suspect,) = by_rule(findings, "FX402")
    assert "cannot be bounded" in suspect.title and "cannot be bounded" in suspect.detail


def test_a_failed_redeploy_of_the_good_commit_blames_no_commit(
    git_repo: Callable[..., RepoBuilder], tmp_path: Path
) -> None:
    repo = git_repo()
    deploys = _start(repo)
    live = str(deploys[0]["deploy"]["commit"]["id"])  # type: ignore[index]
    deploys.append(_render("dep-1", "update_failed", live, T0 + timedelta(hours=1)))
    later = repo.commit("orders: change step", T0 + timedelta(hours=2), files={M_PATH: _m("a")})
    deploys.append(_render("dep-2", "update_failed", later, T0 + timedelta(hours=2, minutes=1)))

    ctx, findings = analyse(repo.path, [_write(deploys, tmp_path)])
    (window,) = ctx.failure_windows
    assert [s.role for s in window.suspects] == [SuspectRole.LATER]
    (suspect,) = by_rule(findings, "FX402")
    assert "outside the code" in suspect.title
