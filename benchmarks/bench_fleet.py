"""``make bench-fleet``: the fleet audit of 100 small generated repositories on a Dask
LocalCluster of 1 and then 2 worker processes.

    .venv/bin/python -m benchmarks.bench_fleet [--repos 100] [--workers 1,2]

Each repository (``benchmarks/fleet_repos.py``) has 11 commits, 5 migrations, 7 deploys of
which 2 failed, and their logs. Each run starts its own cluster and an empty SQLite store
(so that nothing is skipped as done), and writes every report (md, html, json) as
``forensics fleet audit`` does. Printed per run: wall time, repositories per second, the
time the audits themselves took (summed over tasks), and what the fleet adds per
repository beyond its audit (scheduling, transfers, recording and writing the reports in
the client), with the cluster's start-up reported apart. Then Dask's own scheduling cost,
from 500 tasks that do nothing, and the speed-up from 1 to 2 workers.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import time
from pathlib import Path

from benchmarks.fleet_repos import END, build_service, write_manifest
from forensics.fleet import FleetOptions, read_manifest, run_fleet
from forensics.model.fleet import RepoStatus

WORK = Path(__file__).parent / ".work" / "fleet"


def _nothing(value: int) -> int:
    return value


def _scheduling(workers: int, tasks: int = 500) -> float:
    """Dask's own seconds per task, from tasks that do nothing."""
    from distributed import Client, LocalCluster, wait

    cluster = LocalCluster(
        n_workers=workers,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        silence_logs=50,
    )
    client = Client(cluster)
    try:
        client.wait_for_workers(workers)
        begun = time.perf_counter()
        wait([client.submit(_nothing, i, pure=False) for i in range(tasks)])
        return (time.perf_counter() - begun) / tasks
    finally:
        client.close()
        cluster.close()


def _build(count: int) -> Path:
    if WORK.exists():
        shutil.rmtree(WORK)
    started = time.perf_counter()
    services = [build_service(WORK / "repos", f"svc{i:03d}") for i in range(count)]
    manifest = write_manifest(WORK / "repos", services)
    print(f"built {count} repositories in {time.perf_counter() - started:.1f} s")
    return manifest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repos", type=int, default=100)
    parser.add_argument("--workers", default="1,2")
    args = parser.parse_args()
    counts = [int(w) for w in args.workers.split(",")]
    manifest = _build(args.repos)
    entries = read_manifest(manifest)
    print(f"machine: {os.cpu_count()} cores")
    rates: dict[int, float] = {}
    for workers in counts:
        per_noop = _scheduling(workers)
        started = time.perf_counter()
        report = run_fleet(
            entries,
            FleetOptions(
                workers=workers,
                workdir=WORK / f"work-{workers}",  # each run with cold mining caches
                store=str(WORK / f"store-{workers}.db"),
                out=WORK / f"out-{workers}",
                until=END,
                now=END,
            ),
        )
        wall = time.perf_counter() - started
        rows = report.repositories
        failed = sum(1 for r in rows if r.status is RepoStatus.FAILED)
        audit_s = [r.seconds for r in rows]
        running = wall - report.cluster_seconds
        rates[workers] = len(rows) / running
        beyond = max(0.0, running * workers - sum(audit_s)) / len(rows)
        print(
            f"{workers} worker(s): {len(rows)} repositories ({failed} failed) in {wall:.1f} s, "
            f"of which {report.cluster_seconds:.1f} s starting the cluster; "
            f"{rates[workers]:.2f} repos/s once started ({len(rows) / wall:.2f} with start-up)"
        )
        print(
            f"    audit per repository: mean {statistics.mean(audit_s):.2f} s, median "
            f"{statistics.median(audit_s):.2f} s; fleet overhead per repository "
            f"{beyond * 1000:.0f} ms (worker time not spent auditing: scheduling, transfers, "
            f"waiting for the client); Dask scheduling per no-op task {per_noop * 1000:.1f} ms"
        )
    if len(rates) > 1:
        first, last = counts[0], counts[-1]
        print(f"speed-up {first} -> {last} workers: {rates[last] / rates[first]:.2f}x")


if __name__ == "__main__":
    main()
