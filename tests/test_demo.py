"""build_demo_repo: the seed incident replayed in a real repository, deterministically."""

from __future__ import annotations

import json
import subprocess
from datetime import timedelta
from pathlib import Path

from forensics.demo import build_demo_repo, run_demo
from forensics.errors import Diagnostics
from forensics.model.deploys import DeployCategory
from forensics.sources import render_com
from forensics.sources.git import GitSource
from tests.analysis.demo_states import state_at


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=repo, capture_output=True, text=True, check=True
    ).stdout


def test_demo_replays_the_seed_incident(tmp_path: Path) -> None:
    demo = build_demo_repo(tmp_path / "demo")
    git = GitSource(demo.repo)
    try:
        commits = {c.sha: c for c in git.log("HEAD", first_parent=False)}
    finally:
        git.close()
    burst = [commits[s] for s in demo.burst_commits]
    assert len(burst) == 11
    assert {(c.author.name, c.author.email) for c in burst} == {
        ("Dudley", "dudley@qamarketing.co.uk")
    }
    assert burst[-1].committed_at - burst[0].committed_at <= timedelta(minutes=20)
    assert all(demo.migration_path in c.paths for c in burst)
    assert all("774225e563ca" in c.subject for c in burst)

    message_only = commits[demo.message_only_commit]
    assert "migration" in message_only.subject
    assert message_only.paths and all(p.startswith("scripts/") for p in message_only.paths)
    assert "<script>alert(1)</script>" in commits[demo.markup_commit].subject
    assert "**bold** | pipe" in commits[demo.markup_commit].subject
    assert any(c.is_merge for c in commits.values())

    head = state_at(demo.repo, "HEAD")
    assert head.heads == ("9a90b381abd5",) and head.problems == ()
    chain = head.by_revision()
    assert chain["774225e563ca"].down_revisions == ("65e4b4ef883d",)
    assert chain["9a90b381abd5"].down_revisions == ("aae3309a2a8b", "3c4d5e6f7a8b")
    assert len(state_at(demo.repo, demo.rewire_commit).heads) == 2
    broken = state_at(demo.repo, demo.syntax_error_commit)
    assert any(p.kind == "parse-error" for p in broken.problems)
    two_heads = _git(demo.repo, "rev-parse", f"{demo.head}~1").strip()
    assert len(state_at(demo.repo, two_heads).heads) == 2
    assert commits[demo.head].committed_at - commits[two_heads].committed_at == timedelta(
        minutes=40
    )

    changed = [_git(demo.repo, "diff", "--name-only", f"{c.sha}~1", c.sha).split() for c in burst]
    assert changed == [[demo.migration_path]] * len(burst)
    dropped = _git(demo.repo, "show", f"{demo.burst_commits[7]}:{demo.migration_path}")
    assert "\nrevision = " not in dropped and "\ndown_revision = " in dropped


def test_demo_deploys_are_render_format_with_one_failure_per_push(tmp_path: Path) -> None:
    demo = build_demo_repo(tmp_path / "demo")
    raw = json.loads(demo.deploys_file.read_text())
    assert all(set(item) == {"deploy", "cursor"} for item in raw)
    deploys = render_com.read_file(str(demo.deploys_file), Diagnostics())
    by_commit = {d.commit_ref: d for d in deploys}
    assert by_commit[demo.live_commit].status == "live"
    assert by_commit[demo.live_commit].id == demo.live_deploy
    assert by_commit[demo.applied_commit].category is DeployCategory.SUPERSEDED
    assert by_commit[demo.applied_commit].id == demo.applied_deploy
    live_at = by_commit[demo.live_commit].created_at
    later = [d for d in deploys if d.created_at > live_at]
    assert later and all(d.status == "update_failed" for d in later)
    for sha in (*demo.burst_commits, demo.message_only_commit, demo.head):
        assert by_commit[sha].status == "update_failed"
    earlier = [d for d in deploys if d.created_at < live_at]
    assert earlier and all(d.status == "deactivated" for d in earlier)


def test_demo_is_deterministic(tmp_path: Path) -> None:
    one = build_demo_repo(tmp_path / "one")
    two = build_demo_repo(tmp_path / "two")
    assert one.burst_commits == two.burst_commits and one.head == two.head
    assert one.deploys_file.read_text() == two.deploys_file.read_text()


def test_two_demo_runs_write_the_same_files(tmp_path: Path) -> None:
    """The demo's temporary folder never reaches a report: every run writes the same bytes."""
    first, _ = run_demo(tmp_path / "a")
    second, _ = run_demo(tmp_path / "b")
    for a, b in zip(sorted(first), sorted(second), strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name
