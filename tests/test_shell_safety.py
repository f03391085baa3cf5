"""The commands that reports and guard print are safe to paste: hostile revision ids and paths
from the analysed repository never run anything. Each command is checked with `bash -n` and
run by bash with stub `git` and `alembic` programs that record their arguments."""

from __future__ import annotations

import html
import json
import os
import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from forensics.analysis import shell
from forensics.gitbuild import RepoBuilder
from tests.conftest import Run, migration

A1 = "a1`touch pwned-a1`"
B2 = "b2$(touch pwned-b2)"
C3 = "c3;touch${IFS}pwned-c3"
EDITED_PATH = "backend/alembic/versions/b2 $(touch pwned-path) 'q'.py"
MARKERS = ("pwned-a1", "pwned-b2", "pwned-c3", "pwned-path", "pwned")


def deploy(number: int, commit: str, status: str, at: str) -> dict[str, object]:
    return {
        "deploy": {
            "id": f"dep-{number}",
            "commit": {"id": commit, "message": "deploy"},
            "status": status,
            "createdAt": at,
            "finishedAt": at,
        },
        "cursor": f"c{number}",
    }


@pytest.fixture
def hostile_repo(git_repo: Callable[..., RepoBuilder], tmp_path: Path) -> tuple[Path, Path, str]:
    """Migrations whose revision ids are shell code, one of them applied and then edited,
    and a second head: restore, revert, carry-forward, re-run and merge all have values to
    interpolate."""
    repo = git_repo()
    versions = "backend/alembic/versions"
    repo.write("backend/alembic.ini", "[alembic]\nscript_location = alembic\n")
    repo.write("backend/alembic/env.py", "# env\n")
    applied = repo.commit(
        "add migrations",
        "2025-11-10T10:00:00+00:00",
        files={
            f"{versions}/a0_base.py": migration("a0base000001", None),
            f"{versions}/a1_hostile.py": migration(A1, "a0base000001"),
            EDITED_PATH: migration(B2, A1),
        },
    )
    repo.commit(
        "edit the applied migration",
        "2025-11-11T10:00:00+00:00",
        files={EDITED_PATH: migration(B2, A1, body="    op.drop_table('t')")},
    )
    repo.commit(
        "a second head",
        "2025-11-11T11:00:00+00:00",
        files={f"{versions}/c3_hostile.py": migration(C3, A1)},
    )
    deploys = tmp_path / "deploys.json"
    deploys.write_text(
        json.dumps(
            [
                deploy(2, repo.head(), "update_failed", "2025-11-11T11:05:00Z"),
                deploy(1, applied, "live", "2025-11-10T10:05:00Z"),
            ]
        )
    )
    return repo.path, deploys, applied


@pytest.fixture
def stubs(tmp_path: Path) -> tuple[Path, Path]:
    """A folder with `git` and `alembic` that append their arguments (NUL-separated, one
    call per line) to a log, and the log."""
    folder = tmp_path / "stubs"
    folder.mkdir()
    log = tmp_path / "calls.log"
    for name in ("git", "alembic"):
        stub = folder / name
        stub.write_text(f'#!/bin/sh\nprintf "{name}" >> "{log}"\n'
                        f'for a in "$@"; do printf "\\0%s" "$a" >> "{log}"; done\n'
                        f'printf "\\n" >> "{log}"\n')  # fmt: skip
        stub.chmod(0o755)
    return folder, log


def run_pasted(script: str, stubs: tuple[Path, Path], where: Path) -> list[list[str]]:
    """``script`` checked by `bash -n`, then run as a user who pasted it would, with the stub
    programs first on PATH; the calls they recorded."""
    folder, log = stubs
    checked = subprocess.run(["bash", "-n"], input=script.encode(), capture_output=True)
    assert checked.returncode == 0, (script, checked.stderr)
    where.mkdir(parents=True, exist_ok=True)
    (where / "backend").mkdir(exist_ok=True)
    log.write_bytes(b"")
    env = {"PATH": f"{folder}:{os.environ['PATH']}", "HOME": str(where)}
    subprocess.run(["bash"], input=script.encode(), cwd=where, env=env, capture_output=True)
    for name in MARKERS:
        assert not list(where.rglob(f"{name}*")), (script, name)
    return [line.split("\0") for line in log.read_text().splitlines() if line]


def commands_in_markdown(text: str) -> list[str]:
    return [m.group(2) for m in re.finditer(r"(`{3,})bash\n(.*?)\n\1", text, re.DOTALL)]


def commands_in_html(text: str) -> list[str]:
    blocks = re.findall(r"<pre><code>(.*?)</code></pre>", text, re.DOTALL)
    return [html.unescape(b) for b in blocks if re.match(r"(git|alembic|cd) ", html.unescape(b))]


def test_reports_and_guard_commands_stay_inert(
    hostile_repo: tuple[Path, Path, str],
    stubs: tuple[Path, Path],
    run: Run,
    tmp_path: Path,
) -> None:
    repo, deploys, applied = hostile_repo
    out = tmp_path / "out"
    code, _out, err = run(
        "analyze", "--repo", str(repo), "--since", "2025-11-01", "--until",
        "2025-11-12T00:00:00Z", "--deploys", f"render:{deploys}", "--no-cache",
        "--format", "md,html,json", "--out", str(out), "--stem", "r",
    )  # fmt: skip
    assert code == 0, err
    doc = json.loads((out / "r.json").read_text())
    options = doc["remediations"]
    assert {"FX201", "FX101"} <= {f["rule"] for f in doc["findings"]}
    scripts = {
        "json": ["\n".join(o["commands"]) for o in options if o["commands"]],
        "md": commands_in_markdown((out / "r.md").read_text()),
        "html": commands_in_html((out / "r.html").read_text()),
    }
    assert scripts["json"] and scripts["md"] == scripts["json"] == scripts["html"]
    recorded = [
        call for script in scripts["json"] for call in run_pasted(script, stubs, tmp_path / "w")
    ]
    # The hostile path is allowed, quoted: git receives it as one literal argument.
    assert ["git", "restore", "--source", applied, "--", EDITED_PATH] in recorded
    # The hostile revision ids are refused, with a warning where the command would be.
    warnings = [w for o in options for w in o["warnings"]]
    print(scripts["json"], warnings)
    assert any("not a plausible revision id" in w for w in warnings)
    # A message that names one arrives as one literal argument too.
    assert ["git", "commit", "-m", f"Restore migration {B2} to its applied content"] in recorded

    code, guard_out, err = run(
        "guard", "--repo", str(repo), "--base", applied, "--deploys", f"render:{deploys}"
    )
    assert code == 1, err
    print(guard_out)
    guard_commands = re.findall(r"`((?:git|alembic) [^`]*)`", guard_out)
    assert any(c.startswith("git restore") for c in guard_commands), guard_out
    assert "no command: the revision id" in guard_out
    for command in guard_commands:
        run_pasted(command, stubs, tmp_path / "g")


HOSTILE = st.one_of(
    st.sampled_from(["$(touch pwned)", "`touch pwned`", ";touch pwned", "|touch pwned",
                     "&& touch pwned", "\ntouch pwned", "'$(touch pwned)'", '"; touch pwned"',
                     "\x1b]0;TITLE\x07\x1b[2J", "a\u2028touch pwned", "\ud800", "-rf",
                     "${IFS}touch${IFS}pwned", "$'\\x41'", "*", "~root"]),
    st.text(alphabet=st.characters(codec=None), max_size=20),
)  # fmt: skip


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(value=st.tuples(HOSTILE, HOSTILE).map("".join), kind=st.sampled_from(list(shell.ValueKind)))
def test_hostile_values_are_refused_or_arrive_as_one_argument(
    value: str, kind: shell.ValueKind, stubs: tuple[Path, Path], tmp_path: Path
) -> None:
    arg = shell.Arg(value, kind)
    try:
        command = shell.command("git", "restore", "--", arg)
    except shell.UnsafeValue as exc:
        assert not shell.plausible(arg) and exc.value == value
        return
    calls = run_pasted(command, stubs, tmp_path / "p")
    assert calls == [["git", "restore", "--", value]]
