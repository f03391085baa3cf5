"""The analysed repository's own git configuration can start no program, in any command;
a repository owned by another user gets its own error."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from forensics.demo import DemoScenario, build_demo_repo
from forensics.sources.git import safe_command
from tests.conftest import DEMO_UNTIL as UNTIL
from tests.conftest import Run


@pytest.fixture
def hostile(tmp_path: Path) -> tuple[DemoScenario, Path]:
    """The demo repository with a .git/config that names a marker-writing program for every
    setting git could start one from, and a staged edit for `guard --staged`."""
    demo = build_demo_repo(tmp_path / "demo")
    target = demo.repo / demo.migration_path
    target.write_text(target.read_text() + "\n# staged edit\n")
    subprocess.run(["git", "-C", str(demo.repo), "add", demo.migration_path], check=True)
    markers = tmp_path / "markers"
    markers.mkdir()
    script = tmp_path / "evil.sh"
    script.write_text(f'#!/bin/sh\ntouch "{markers}/$$"\ncat >/dev/null 2>&1 </dev/null\n')
    script.chmod(0o755)
    hooks = demo.repo / ".git" / "hooks"
    for hook in ("pre-commit", "post-checkout", "reference-transaction", "post-index-change"):
        (hooks / hook).write_text(script.read_text())
        (hooks / hook).chmod(0o755)
    settings = {
        "core.fsmonitor": str(script),
        "core.pager": str(script),
        "diff.external": str(script),
        "diff.evil.textconv": str(script),
        "diff.evil.command": str(script),
        "log.showSignature": "true",
        "gpg.program": str(script),
        "core.sshCommand": str(script),
        "credential.helper": f"!{script}",
    }
    for key, value in settings.items():
        subprocess.run(["git", "-C", str(demo.repo), "config", key, value], check=True)
    (demo.repo / ".git" / "info" / "attributes").write_text("* diff=evil\n")
    return demo, markers


def test_the_hostile_config_does_start_programs_under_plain_git(
    hostile: tuple[DemoScenario, Path],
) -> None:
    """The fixture is a real attack: plain git runs the planted programs."""
    demo, markers = hostile
    subprocess.run(["git", "-C", str(demo.repo), "ls-files"], capture_output=True, check=False)
    subprocess.run(
        ["git", "-C", str(demo.repo), "log", "-p", "-2"], capture_output=True, check=False
    )
    assert list(markers.iterdir())


def test_no_command_starts_a_program_from_the_repository_config(
    hostile: tuple[DemoScenario, Path], run: Run, tmp_path: Path
) -> None:
    demo, markers = hostile
    repo = str(demo.repo)
    window = ["--since", "2025-11-13", "--until", UNTIL]
    deploys = ["--deploys", f"render:{demo.deploys_file}"]
    # A cache folder inside the repository makes the cache check run `git ls-files`.
    cache = ["--cache-dir", str(demo.repo / ".forensics-cache")]
    out = str(tmp_path / "out")
    commands = [
        ("analyze", "--repo", repo, *window, *deploys, *cache, "--out", out),
        ("audit", "--repo", repo, *window, *deploys, *cache, "--out", out, "--fail-on", "none",
         "--store", str(tmp_path / "store.db")),
        ("guard", "--repo", repo, "--staged", *deploys),
        ("guard", "--repo", repo, *deploys),
        ("dag", "--repo", repo),
        ("history", "--repo", repo, "--format", "json"),
    ]  # fmt: skip
    for argv in commands:
        code, _out, err = run(*argv)
        assert code in (0, 1), (argv, err)
        assert not list(markers.iterdir()), argv
    report = (tmp_path / "out").glob("*.md")
    assert any("git restore" in path.read_text() for path in report)


def test_diffing_subcommands_get_the_drivers_switched_off() -> None:
    assert safe_command(["git", "log", "--raw"]) == [
        "git", "log", "--no-ext-diff", "--no-textconv", "--raw",
    ]  # fmt: skip
    assert safe_command(["git", "diff", "a", "b"])[2:4] == ["--no-ext-diff", "--no-textconv"]
    assert safe_command(["git", "ls-tree", "-r", "HEAD"]) == ["git", "ls-tree", "-r", "HEAD"]
    # PyDriller's SZZ blames through the same runner; blame honours textconv drivers too.
    blame = safe_command(["git", "blame", "-w", "abc^", "--", "f.py"])
    assert blame[2:4] == ["--no-ext-diff", "--no-textconv"]


@pytest.mark.skipif(os.geteuid() != 0, reason="changing a repository's owner needs root")
def test_a_repository_of_another_user_gets_its_own_error(tmp_path: Path, run: Run) -> None:
    demo = build_demo_repo(tmp_path / "demo")
    for root, dirs, files in os.walk(demo.repo):
        for name in (*dirs, *files):
            os.lchown(Path(root) / name, 54321, 54321)
    os.lchown(demo.repo, 54321, 54321)
    plain = subprocess.run(["git", "-C", str(demo.repo), "rev-parse", "HEAD"], capture_output=True)
    assert b"dubious ownership" in plain.stderr  # what git 2.39 really does, even for root
    for argv in (("dag",), ("history",), ("guard",), ("analyze", "--out", str(tmp_path / "o"))):
        code, _out, err = run(*argv, "--repo", str(demo.repo))
        assert code == 2, (argv, err)
        assert "belongs to another user" in err and "safe.directory" in err, err
        assert "unknown revision" not in err
