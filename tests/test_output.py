"""Writing the reports: valid UTF-8 from hostile deploy data, whole files or none, one failing
report never costing the others, and names that stay inside ``--out``."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from forensics.demo import DemoScenario
from forensics.errors import UsageError
from forensics.model.report import Report
from forensics.output import check_stem, write_atomic
from forensics.render import OutputFormat
from tests.conftest import Run, demo_analyze
from tests.hostile import controls

STEM = "incident-20251116-1725"
SUFFIXES = (".md", ".html", ".json", ".sarif")
# As saved by a team's own script from Render's API: double-encoded UTF-8 (mojibake of 🚨),
# an escaped lone surrogate, a real emoji; json.load accepts every one of them.
HOSTILE = " \u00f0\u0178\u0161\u00a8 \udc8f **ACTION** \U0001f6a8 caf\u00c3\u00a9"
CONTROLS = " \x1b]0;TITLE\x07\x1b[2J \u202eevil\u202c \u2028sep \x00nul \x85nel"


@pytest.fixture(scope="module")
def hostile_deploys(demo: DemoScenario, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo's Render deploy log with hostile commit messages, written with JSON escapes
    (``\\udc8f`` stays a six-character escape in the file)."""
    items = json.loads(demo.deploys_file.read_text())
    for n, item in enumerate(items):
        item["deploy"]["commit"]["message"] += HOSTILE if n % 2 else CONTROLS
    path = tmp_path_factory.mktemp("deploys") / "render-deploys.json"
    path.write_text(json.dumps(items, indent=2))
    assert "\\udc8f" in path.read_text()
    return path


def analyze(demo: DemoScenario, deploys: Path, out: Path | str, *extra: str) -> list[str]:
    return demo_analyze(
        demo, "--format", "md,html,json,sarif", "--out", str(out), *extra, deploys=deploys
    )


def leftovers(folder: Path) -> list[str]:
    """Temporary or empty files: what an interrupted or failed write would leave."""
    return sorted(
        p.name for p in folder.iterdir() if p.name.startswith(".") or not p.stat().st_size
    )


def test_hostile_render_messages_give_four_valid_utf8_reports(
    demo: DemoScenario, hostile_deploys: Path, run: Run, tmp_path: Path
) -> None:
    code, out, err = run(*analyze(demo, hostile_deploys, tmp_path))
    assert code == 0, err
    assert sorted(Path(line).name for line in out.split()) == sorted(STEM + s for s in SUFFIXES)
    texts = {s: (tmp_path / f"{STEM}{s}").read_bytes().decode("utf-8") for s in SUFFIXES}
    doc = json.loads(texts[".json"])
    messages = [d["message"] for d in doc["deploys"] if d["message"]]
    assert any("\ufffd **ACTION** \U0001f6a8 caf\u00c3\u00a9" in m for m in messages)
    assert any("\u202eevil" in m and "\x85nel" in m for m in messages)  # kept, escaped
    assert "\\u202e" in texts[".json"] and "\u202e" not in texts[".json"]
    assert json.loads(texts[".sarif"])["version"] == "2.1.0"
    assert not controls(texts[".md"]) and not controls(texts[".html"])
    assert leftovers(tmp_path) == []


def test_a_renderer_that_raises_costs_only_its_own_report(
    demo: DemoScenario,
    hostile_deploys: Path,
    run: Run,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    (tmp_path / f"{STEM}.html").write_text("yesterday's report")

    def broken(report: Report) -> str:
        return {"a": 1}[report.title]  # a bug: KeyError

    monkeypatch.setattr(OutputFormat.HTML, "renderer", broken)
    code, out, err = run(*analyze(demo, hostile_deploys, tmp_path))
    assert code == 2
    (line,) = err.strip().splitlines()[-1:]
    assert line.startswith("error: the html report could not be rendered (KeyError")
    assert "in forensics.render" in line and f"{STEM}.md, {STEM}.json, {STEM}.sarif written" in line
    assert sorted(Path(p).name for p in out.split()) == sorted(
        f"{STEM}{s}" for s in (".md", ".json", ".sarif")
    )
    assert json.loads((tmp_path / f"{STEM}.json").read_text())["schema"] == "forensics.report/1"
    assert json.loads((tmp_path / f"{STEM}.sarif").read_text())["runs"]
    assert (tmp_path / f"{STEM}.md").read_text().startswith("# ")
    # the previous report is left whole, not emptied
    assert (tmp_path / f"{STEM}.html").read_text() == "yesterday's report"
    assert leftovers(tmp_path) == []


def test_a_report_that_cannot_be_written_does_not_stop_the_others(
    demo: DemoScenario, hostile_deploys: Path, run: Run, tmp_path: Path
) -> None:
    (tmp_path / f"{STEM}.json").mkdir()  # a folder where the JSON report should go
    code, out, err = run(*analyze(demo, hostile_deploys, tmp_path))
    assert code == 2
    assert "the json report could not be written" in err and err.count("\n") == 1
    assert sorted(Path(p).name for p in out.split()) == sorted(
        f"{STEM}{s}" for s in (".md", ".html", ".sarif")
    )
    assert leftovers(tmp_path) == []


def test_a_symlink_in_out_is_replaced_never_followed(
    demo: DemoScenario, hostile_deploys: Path, run: Run, tmp_path: Path
) -> None:
    precious = tmp_path / "precious.txt"
    precious.write_text("keep me")
    out = tmp_path / "out"
    out.mkdir()
    (out / "x.md").symlink_to(precious)
    (out / "x.json").write_text("old")
    code, _out, err = run(*analyze(demo, hostile_deploys, out, "--stem", "x"))
    assert code == 0, err
    assert precious.read_text() == "keep me"
    assert not (out / "x.md").is_symlink() and (out / "x.md").read_text().startswith("# ")
    assert json.loads((out / "x.json").read_text())["schema"] == "forensics.report/1"
    assert leftovers(out) == []


@pytest.mark.parametrize(
    "stem", ["../../x", "/abs/x", "a/b", "a\\b", "", " ", ".", "..", "a\x00b", "r\x1b[2J"]
)
def test_a_stem_that_is_no_plain_name_is_a_usage_error(
    demo: DemoScenario, hostile_deploys: Path, run: Run, tmp_path: Path, stem: str
) -> None:
    out = tmp_path / "out"
    code, stdout, err = run(*analyze(demo, hostile_deploys, out, "--stem", stem))
    assert code == 2 and stdout == ""
    assert err.startswith("error: --stem") and err.count("\n") == 1 and "\x1b" not in err
    assert list(tmp_path.iterdir()) == []  # nothing analysed, nothing written


@pytest.mark.parametrize("stem", ["incident", "report-2025.v1", "café", "..x", "a b"])
def test_plain_stems_are_accepted(stem: str) -> None:
    assert check_stem(stem) == stem


def test_a_bad_stem_raises_usage_error() -> None:
    with pytest.raises(UsageError, match="plain file name"):
        check_stem("../x")


def test_write_atomic_leaves_nothing_behind_when_it_fails(tmp_path: Path) -> None:
    target = tmp_path / "r.json"
    target.mkdir()
    with pytest.raises(IsADirectoryError):
        write_atomic(target, "{}")
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]


def test_write_atomic_writes_valid_utf8_with_the_usual_permissions(tmp_path: Path) -> None:
    target = tmp_path / "r.md"
    write_atomic(target, "lone \udc8f surrogate, emoji \U0001f6a8\n")
    assert target.read_bytes().decode("utf-8") == "lone \ufffd surrogate, emoji \U0001f6a8\n"
    umask = os.umask(0)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask


def test_an_internal_error_is_one_line_that_names_where(
    demo: DemoScenario, hostile_deploys: Path, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(report: Report) -> str:
        raise ValueError(f"cannot show {report.title}\nsecond line \x1b[2J")

    monkeypatch.setattr(OutputFormat.JSON, "renderer", broken)
    args = analyze(demo, hostile_deploys, "-")
    args[args.index("md,html,json,sarif")] = "json"
    code, out, err = run(*args)
    assert code == 2 and out == ""
    last = err.split("\n")[-2]
    assert re.fullmatch(
        r"internal error: ValueError: cannot show Migration incident report in "
        r"forensics\.render\.render line \d+",
        last,
    ), err
