"""Hostile or absurd input ends in a one-line error that says what to do, or a warning and a
result: never an internal error. Ctrl-C says "interrupted" and exits 130."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from forensics.demo import DemoScenario
from forensics.gitbuild import RepoBuilder
from tests.conftest import DEMO_UNTIL as UNTIL
from tests.conftest import Run, migration


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--since", "99999999999d"),
        ("--since", "99999999999999999999999w"),
        ("--until", "0001-01-01T00:00:00"),
        ("--until", "0001-01-01T00:00:00+05:00"),
        ("--since", "1969-12-31"),
        ("--until", "9999-12-31T23:59:59-05:00"),
    ],
)
def test_times_outside_the_bounds_are_usage_errors(
    demo: DemoScenario, run: Run, tmp_path: Path, option: str, value: str
) -> None:
    for command in ("analyze", "audit", "history"):
        extra = ["--out", str(tmp_path)] if command != "history" else []
        code, _out, err = run(command, "--repo", str(demo.repo), option, value, *extra)
        assert code == 2, (command, err)
        assert err.startswith("error: ") and "outside 1970-01-01" in err, err


def test_times_inside_the_bounds_still_work(demo: DemoScenario, run: Run) -> None:
    code, _out, err = run("history", "--repo", str(demo.repo), "--since", "1970-01-01")
    assert code == 0, err


@pytest.mark.parametrize(
    "argv",
    [
        ["--db-url", "postgresql://app:pw@db.internal:notaport/prod"],
        ["--db-url", "postgresql://app:p@ss@db.internal:99999/prod"],
    ],
)
def test_a_bad_database_port_is_a_clear_error(
    demo: DemoScenario, run: Run, tmp_path: Path, argv: list[str]
) -> None:
    code, _out, err = run("analyze", "--repo", str(demo.repo), *argv, "--out", str(tmp_path))
    assert code == 2 and "the port must be a number" in err, err
    assert "internal error" not in err and "pw" not in err and "p@ss" not in err


def test_a_bad_store_port_is_a_clear_error(demo: DemoScenario, run: Run, tmp_path: Path) -> None:
    code, _out, err = run(
        "audit", "--repo", str(demo.repo), "--store", "postgresql://u:pw@h:port/db",
        "--out", str(tmp_path),
    )  # fmt: skip
    assert code == 2 and "--store" in err and "the port must be a number" in err, err


def test_a_deploy_file_that_never_ends_is_bounded(
    demo: DemoScenario, run: Run, tmp_path: Path
) -> None:
    code, _out, err = run(
        "analyze", "--repo", str(demo.repo), "--deploys", "render:/dev/zero",
        "--out", str(tmp_path),
    )  # fmt: skip
    assert code == 2 and "larger than 64 MiB" in err, err


def test_a_deeply_nested_cache_file_is_rebuilt(
    demo: DemoScenario, run: Run, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    argv = ["analyze", "--repo", str(demo.repo), "--since", "2025-11-13", "--until", UNTIL,
            "--cache-dir", str(cache), "--format", "json", "--out", "-"]  # fmt: skip
    code, first, err = run(*argv)
    assert code == 0, err
    files = [p for p in cache.rglob("*.json") if p.is_file()]
    assert files
    for path in files:
        path.write_text("[" * 200_000 + "]" * 200_000)
    code, second, err = run(*argv)
    assert code == 0, err
    assert "nested too deeply" in err
    assert json.loads(second)["findings"] == json.loads(first)["findings"]


def test_a_versions_symlink_is_skipped_with_a_warning(
    git_repo: Callable[..., RepoBuilder], run: Run
) -> None:
    repo = git_repo()
    repo.write("alembic.ini", "[alembic]\nscript_location = alembic\n")
    repo.write("alembic/env.py", "# env\n")
    repo.write("alembic/versions/a1_base.py", migration("a1", None))
    (repo.path / "alembic/versions/b2_link.py").symlink_to("/etc/passwd")
    repo.commit("migrations and a link", "2025-11-10T10:00:00+00:00")
    assert "120000" in repo.git("ls-files", "-s", "alembic/versions/b2_link.py")
    code, out, err = run("dag", "--repo", str(repo.path), "--format", "json")
    assert code == 0, err
    assert "b2_link.py is a symbolic link" in err
    env = json.loads(out)["environments"][0]
    assert env["problems"] == [] and list(env["revisions"]) == ["a1"]
    code, _out, err = run("guard", "--repo", str(repo.path))
    assert code == 0 and "symbolic link" in err, err
    code, out, err = run("history", "--repo", str(repo.path), "--format", "json")
    assert code == 0 and json.loads(out)["graph_events"] == [], err
    code, out, err = run(
        "analyze", "--repo", str(repo.path), "--since", "2025-11-01", "--until",
        "2025-11-11T00:00:00Z", "--no-cache", "--format", "json", "--out", "-",
    )  # fmt: skip
    doc = json.loads(out)
    assert code == 0 and doc["graph_events"] == [] and doc["findings"] == [], err


@pytest.fixture
def silent_server() -> Iterator[tuple[str, threading.Event]]:
    """A loopback server that accepts connections and never answers; the event is set when
    a client has connected."""
    connected = threading.Event()
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    held: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            held.append(conn)
            connected.set()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}", connected
    finally:
        server.close()
        for conn in held:
            conn.close()


def test_ctrl_c_says_interrupted_and_exits_130(
    demo: DemoScenario, silent_server: tuple[str, threading.Event], tmp_path: Path
) -> None:
    url, connected = silent_server
    env = {**os.environ, "RENDER_API_KEY": "rnd_INTERRUPT_0123", "FORENSICS_RENDER_API_URL": url}
    process = subprocess.Popen(
        [sys.executable, "-m", "forensics", "analyze", "--repo", str(demo.repo),
         "--deploys", "render-api:srv-abc", "--out", str(tmp_path)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
    )  # fmt: skip
    try:
        assert connected.wait(timeout=60), "the run never reached the API"
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130
    assert err.decode().strip().splitlines()[-1] == "error: interrupted"
    assert out == b"" and b"Traceback" not in err
