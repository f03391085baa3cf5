"""`forensics analyze`, `audit` and `demo` as a user runs them, on the demo repository."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from forensics.demo import DemoScenario
from tests.conftest import DEMO_UNTIL as UNTIL
from tests.conftest import Run, demo_analyze


def analyze(demo: DemoScenario, *extra: str) -> list[str]:
    return demo_analyze(demo, *extra, deploys=demo.deploys_file)


def test_analyze_writes_every_format_with_the_default_stem(
    demo: DemoScenario, run: Run, tmp_path: Path
) -> None:
    code, out, _err = run(*analyze(demo, "--format", "md,html,json,sarif", "--out", str(tmp_path)))
    assert code == 0
    names = sorted(Path(line).name for line in out.split())
    assert names == [f"incident-20251116-1725.{s}" for s in ("html", "json", "md", "sarif")]
    doc = json.loads((tmp_path / "incident-20251116-1725.json").read_text())
    assert doc["production"]["source"] == "deploy"
    assert doc["window"]["until"] == UNTIL


def test_analyze_prints_one_format_to_stdout_and_logs_to_stderr(
    demo: DemoScenario, run: Run
) -> None:
    code, out, _err = run(*analyze(demo, "--format", "json", "--out", "-"))
    assert code == 0
    assert json.loads(out)["schema"] == "forensics.report/1"


def test_fail_on_sets_the_exit_code(demo: DemoScenario, run: Run, tmp_path: Path) -> None:
    assert run(*analyze(demo, "--out", str(tmp_path), "--fail-on", "high"))[0] == 1
    assert run(*analyze(demo, "--out", str(tmp_path), "--fail-on", "critical"))[0] == 0


def test_the_console_entry_keeps_exit_codes_and_output(demo: DemoScenario, tmp_path: Path) -> None:
    """``python -m forensics`` ends without the interpreter's teardown: the exit codes, the
    piped output and the written files must be those of ``main``."""

    def process(*argv: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "forensics", *argv]
        return subprocess.run(command, capture_output=True, text=True, check=False)

    printed = process(*analyze(demo, "--format", "json", "--out", "-"))
    assert printed.returncode == 0
    assert json.loads(printed.stdout)["schema"] == "forensics.report/1"
    written = process(*analyze(demo, "--out", str(tmp_path), "--fail-on", "high"))
    assert written.returncode == 1
    assert [Path(p).name for p in written.stdout.split()] == [
        f"incident-20251116-1725.{s}" for s in ("md", "html", "json")
    ]
    assert json.loads((tmp_path / "incident-20251116-1725.json").read_text())["findings"]
    failed = process("analyze", "--repo", str(tmp_path / "nowhere"))
    assert failed.returncode == 2
    assert failed.stderr.strip().count("\n") == 0 and failed.stderr.startswith("error: ")


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (("--since", "last tuesday"), "is not a date"),
        (("--since", "2025-11-17", "--until", "2025-11-16"), "before --since"),
        (("--format", "pdf"), "pdf"),
        (("--fail-on", "loud"), "--fail-on"),
        (("--format", "md,json", "--out", "-"), "one format"),
        (("--deploys", "nosuch:thing"), "nosuch"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    demo: DemoScenario, run: Run, extra: tuple[str, ...], message: str
) -> None:
    code, _out, err = run(*analyze(demo), *extra)
    assert code == 2
    assert message in err and len(err.strip().splitlines()) == 1, err
    assert "Traceback" not in err


def test_an_empty_window_gives_an_empty_report(
    demo: DemoScenario, run: Run, tmp_path: Path
) -> None:
    code, out, _err = run(
        "analyze",
        "--repo",
        str(demo.repo),
        "--since",
        "2024-01-01",
        "--until",
        "2024-01-02",
        "--format",
        "json",
        "--out",
        "-",
        "--no-cache",
    )
    assert code == 0
    doc = json.loads(out)
    assert doc["bursts"] == [] and doc["graph_events"] == []


def test_not_a_repository(run: Run, tmp_path: Path) -> None:
    code, _out, err = run("analyze", "--repo", str(tmp_path), "--out", str(tmp_path))
    assert code == 2 and "not a git repository" in err


def audit(demo: DemoScenario, store: str, out: Path, rev: str) -> list[str]:
    return [
        "audit",
        "--repo",
        str(demo.repo),
        "--rev",
        rev,
        "--until",
        UNTIL,
        "--store",
        store,
        "--out",
        str(out),
        "--format",
        "json",
        "--fail-on",
        "none",
    ]


def _audit_doc(out: Path) -> dict[str, object]:
    data: dict[str, object] = json.loads((out / "audit-2025-W46.json").read_text())
    return data


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_audits_report_new_still_open_and_resolved(
    demo: DemoScenario, run: Run, tmp_path: Path, backend: str, request: pytest.FixtureRequest
) -> None:
    store = (
        str(tmp_path / "store.db")
        if backend == "sqlite"
        else request.getfixturevalue("postgres_url")
    )
    two_heads = f"{demo.head}~1"  # the merge revision that joins the heads comes next
    assert run(*audit(demo, store, tmp_path, two_heads))[0] == 0
    first = _audit_doc(tmp_path)
    assert first["audit"]["previous"] is None  # type: ignore[index]
    fx101 = [f["fingerprint"] for f in first["findings"] if f["rule"] == "FX101"]  # type: ignore[attr-defined]
    assert fx101

    assert run(*audit(demo, store, tmp_path, two_heads))[0] == 0
    second = _audit_doc(tmp_path)["audit"]
    assert second["previous"] == "audit-2025-W46"  # type: ignore[index]
    assert second["new"] == []  # type: ignore[index]
    assert sorted(second["still_open"]) == sorted(first["audit"]["new"])  # type: ignore[index]

    assert run(*audit(demo, store, tmp_path, demo.head))[0] == 0
    third = _audit_doc(tmp_path)["audit"]
    assert set(fx101) <= set(third["resolved"])  # type: ignore[index]
    report = (tmp_path / "audit-2025-W46.json").read_text()
    assert "postgres@" not in report


def test_demo_writes_the_four_reports(run: Run, tmp_path: Path) -> None:
    code, out, _err = run("demo", "--out", str(tmp_path / "demo"))
    assert code == 0
    written = sorted(Path(line).name for line in out.split())
    assert written == ["incident.html", "incident.json", "incident.md", "incident.sarif"]


def test_deploys_after_until_are_not_yet_known(demo: DemoScenario, run: Run) -> None:
    argv = analyze(demo, "--format", "json", "--out", "-")
    argv[argv.index(UNTIL)] = "2025-11-16T15:30:00Z"
    code, out, _err = run(*argv)
    assert code == 0
    created = [d["created_at"] for d in json.loads(out)["deploys"]]
    assert created and max(created) <= "2025-11-16T15:30:00Z"
