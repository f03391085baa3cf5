"""The fleet audit on a real Dask LocalCluster of 2 worker processes, over generated
repositories, with a SQLite store (only the client writes) and a PostgreSQL one (workers
write): a broken repository is reported while the others complete, a worker killed in the
middle of a task loses no repository, and a run started again skips what is done."""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from benchmarks.fleet_repos import END, LEAD_P50_H
from forensics.fleet import FleetOptions, exit_code, read_manifest, run_fleet
from forensics.model.findings import Severity
from forensics.model.fleet import FleetReport, RepoStatus
from forensics.schemas import schema
from forensics.store import FindingsStore
from tests.conftest import Run
from tests.fleet.conftest import MakeFleet

UNTIL = "2025-11-14T12:00:00Z"
SECRET = "s3cret-token"


def _options(tmp_path: Path, store: str, **kwargs: Any) -> FleetOptions:
    return FleetOptions(
        workers=2,
        workdir=tmp_path / "work",
        store=store,
        out=tmp_path / "out",
        until=END,
        now=END,
        **kwargs,
    )


def _check_complete(report: FleetReport, names: list[str]) -> None:
    by_name = {r.name: r for r in report.repositories}
    for name in names:
        row = by_name[name]
        assert row.status is RepoStatus.AT_RISK, row  # applied edits not yet deployed
        assert row.error is None
        assert row.metrics[-1].lead_time_h_p50 == LEAD_P50_H
        assert row.report == f"{name}/audit-2025-W46.html"


def test_sqlite_fleet_with_a_broken_repository_and_a_url(
    make_fleet: MakeFleet, tmp_path: Path, run: Run
) -> None:
    manifest = make_fleet(
        3,
        broken=("not-a-repo",),
        extra=(
            '[[repo]]\nname = "by-url"\nurl = "file://{svc}"\n\n'
            '[[repo]]\nname = "unreachable"\n'
            f'url = "https://user:{SECRET}@127.0.0.1:9/org/x.git"\ntimeout = 30\n'
        ).replace("{svc}", str(tmp_path / "fleet" / "svc0")),
    )
    out = tmp_path / "out"
    store = tmp_path / "store.db"
    code, stdout, stderr = run(
        "fleet",
        "audit",
        "--manifest",
        str(manifest),
        "--workers",
        "2",
        "--store",
        str(store),
        "--out",
        str(out),
        "--until",
        UNTIL,
        "--workdir",
        str(tmp_path / "work"),
    )
    assert code == 1  # high findings, and failed repositories
    document = json.loads((out / "fleet-audit-2025-W46.json").read_text())
    jsonschema.validate(document, schema("fleet"))
    rows = {r["name"]: r for r in document["repositories"]}
    assert list(rows) == ["svc0", "svc1", "svc2", "not-a-repo", "by-url", "unreachable"]
    for name in ("svc0", "svc1", "svc2", "by-url"):
        assert rows[name]["error"] is None
        assert (out / name / "audit-2025-W46.html").is_file()
        assert (out / name / "audit-2025-W46.json").is_file()
    # applied migrations edited since the last live deploy: one open incident each
    assert all(
        (rows[f"svc{i}"]["status"], rows[f"svc{i}"]["new"], rows[f"svc{i}"]["incidents"])
        == ("at-risk", 7, 1)
        for i in range(3)
    )
    # the fetched copy is svc0 without its deploy history: nothing was checked
    assert rows["by-url"]["status"] == "unknown" and rows["by-url"]["rev"] == rows["svc0"]["rev"]
    assert rows["not-a-repo"]["status"] == "failed"
    assert "is not a git repository" in rows["not-a-repo"]["error"]
    assert rows["unreachable"]["status"] == "failed"
    assert rows["unreachable"]["error"].startswith("cannot fetch https://***@127.0.0.1:9/")
    fleet_week = document["metrics"][-1]
    assert (fleet_week["week"], fleet_week["deploys"], fleet_week["applied_edits"]) == (
        "2025-W46",
        3,
        3,
    )
    # credentials appear nowhere: output, reports, the fetched copy, the store
    assert SECRET not in stdout + stderr
    for path in [*out.rglob("*"), *(tmp_path / "work").rglob("config"), store]:
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path
    assert "unreachable: failed: cannot fetch" in stderr
    assert "4 repositories audited, 2 failed, of 6" in stderr
    if importlib.util.find_spec("bokeh") is not None:
        assert "Dask dashboard: http://127.0.0.1:" in stderr
    markdown = (out / "fleet-audit-2025-W46.md").read_text()
    assert "[report](svc1/audit-2025-W46.html)" in markdown
    assert "## Failed repositories" in markdown

    # started again the same week: the done repositories come from the store
    again = run_fleet(read_manifest(manifest), _options(tmp_path, str(store)))
    skipped = {r.name for r in again.repositories if r.skipped}
    assert skipped == {"svc0", "svc1", "svc2", "by-url"}
    assert {r.name for r in again.repositories if r.status is RepoStatus.FAILED} == {
        "not-a-repo",
        "unreachable",
    }
    _check_complete(again, ["svc0", "svc1", "svc2"])
    assert exit_code(again, None) == 0 and exit_code(again, Severity.CRITICAL) == 1


def test_a_repository_over_its_time_limit_fails_alone(
    make_fleet: MakeFleet, tmp_path: Path
) -> None:
    manifest = make_fleet(2)
    text = manifest.read_text().replace('name = "svc1"', 'name = "svc1"\ntimeout = 0.001')
    manifest.write_text(text)
    report = run_fleet(read_manifest(manifest), _options(tmp_path, str(tmp_path / "s.db")))
    rows = {r.name: r for r in report.repositories}
    assert rows["svc1"].status is RepoStatus.FAILED
    assert rows["svc1"].error == "timed out after 0.001 s"
    _check_complete(report, ["svc0"])


@pytest.mark.postgres
def test_postgres_fleet_workers_write_and_a_killed_worker_loses_nothing(
    make_fleet: MakeFleet, tmp_path: Path, postgres_url: str
) -> None:
    manifest = make_fleet(6, broken=("empty",), weeks=6)
    killed: list[str] = []

    def kill_a_busy_worker(client: Any) -> None:
        def kill() -> None:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                busy = {w: keys for w, keys in client.processing().items() if keys}
                if busy:
                    worker = sorted(busy)[0]
                    pids = client.run(os.getpid, workers=[worker])
                    os.kill(pids[worker], signal.SIGKILL)
                    killed.extend(str(k) for k in busy[worker])
                    return
                time.sleep(0.05)

        threading.Thread(target=kill, daemon=True).start()

    report = run_fleet(
        read_manifest(manifest),
        _options(tmp_path, postgres_url, on_submitted=kill_a_busy_worker),
    )
    assert killed, "no worker was busy: nothing was killed"
    names = [f"svc{i}" for i in range(6)]
    _check_complete(report, names)
    rows = {r.name: r for r in report.repositories}
    assert rows["empty"].status is RepoStatus.FAILED
    # the workers wrote every audit, with its figures, to the store
    with FindingsStore.open(postgres_url) as store:
        for row in report.repositories:
            if row.status is RepoStatus.FAILED:
                continue
            stored = store.stored_audit(row.repo, "audit-2025-W46")
            assert stored is not None and stored.record.status == "at-risk"
            assert stored.metrics == row.metrics
    for name in names:
        assert (tmp_path / "out" / name / "audit-2025-W46.md").is_file()


def test_an_existing_scheduler_runs_the_same_tasks(make_fleet: MakeFleet, tmp_path: Path) -> None:
    from distributed import LocalCluster

    manifest = make_fleet(2)
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=50
    ) as cluster:
        options = _options(tmp_path, str(tmp_path / "s.db"), scheduler=cluster.scheduler_address)
        options.workers = None
        report = run_fleet(read_manifest(manifest), options)
        assert cluster.scheduler_address in report.cluster
    _check_complete(report, ["svc0", "svc1"])


def test_an_unreachable_scheduler_is_one_line(
    run: Run, make_fleet: MakeFleet, tmp_path: Path
) -> None:
    manifest = make_fleet(1)
    code, _out, err = run(
        "fleet",
        "audit",
        "--manifest",
        str(manifest),
        "--scheduler",
        "tcp://127.0.0.1:9",
        "--store",
        str(tmp_path / "s.db"),
        "--out",
        str(tmp_path / "out"),
    )
    assert code == 2
    assert err.startswith("error: cannot reach the Dask scheduler tcp://127.0.0.1:9")
    assert err.count("\n") == 1
