"""The demo scenario: a repository that replays the seed incident, with pinned dates.

``build_demo_repo(folder)`` writes ``folder/repo`` (a git repository with an Alembic chain,
a branch and merge revisions, and on 2025-11-16 a burst of edits to the applied migration
``774225e563ca``), ``folder/render-deploys.json`` (Render's list-deploys format: the live
deploy of the last good build, then one ``update_failed`` deploy per pushed commit) and
``folder/deploy-logs/<deploy id>.log``, the log of each failed deploy: what ``alembic upgrade
head`` prints for the graph as that commit left it (a file that does not parse, a file with
no revision id, several heads), or, where the graph was sound, the platform's failed health
check. Names, dates and ids are fixed, so every run builds the same commits.

The scenario itself (authors, commits and their files, the edits of the burst, the deploys'
statuses and timing, the log texts) is data, in ``demo_scenario.toml`` beside this module;
this module owns the builder that replays it and the analysis the ``demo`` command runs.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import tempfile
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

from forensics import pipeline
from forensics.config import AnalyzeConfig
from forensics.errors import Diagnostics, ForensicsError, log
from forensics.gitbuild import RepoBuilder
from forensics.model.migrations import GraphEventKind
from forensics.model.report import Report
from forensics.output import write_reports
from forensics.render import parse_formats
from forensics.sources.git import GitSource

SCENARIO = "demo_scenario.toml"


def scenario_data() -> dict[str, Any]:
    """The scenario as written in the package's ``demo_scenario.toml``."""
    text = resources.files("forensics").joinpath(SCENARIO).read_text(encoding="utf-8")
    return tomllib.loads(text)


@dataclass(frozen=True)
class DemoScenario:
    """What the demo built, and the facts the tests check the analysis against."""

    root: Path
    repo: Path
    deploys_file: Path
    logs_dir: Path
    applied_revision: str
    production_revision: str
    migration_path: str
    applied_commit: str
    applied_deploy: str
    live_deploy: str
    live_commit: str
    burst_commits: tuple[str, ...]
    message_only_commit: str
    markup_commit: str
    syntax_error_commit: str
    rewire_commit: str
    head: str
    since: datetime
    until: datetime


# -- migration texts ------------------------------------------------------------------------
_MERGE_BODY = "def upgrade():\n    pass\n\n\ndef downgrade():\n    pass\n"


def _migration(
    revision: str | None,
    down: str | tuple[str, ...] | None,
    message: str,
    created: str,
    body: str,
    *,
    style: str = "classic",
    named: str = "",
) -> str:
    """A revision file as ``alembic revision`` writes it; ``named``: the id its docstring
    gives when the ``revision`` variable is left out."""
    down_text = repr(down)
    rev_line = f"revision = {revision!r}\n" if revision else ""
    header = (
        f'"""{message}\n\nRevision ID: {revision or named}\n'
        f"Revises: {down if isinstance(down, str) else ', '.join(down or ())}\n"
        f'Create Date: {created}\n\n"""\n'
    )
    imports = "from alembic import op\nimport sqlalchemy as sa\n\n"
    if style == "black":
        imports = "import sqlalchemy as sa\nfrom alembic import op\n\n"
    meta = (
        "# revision identifiers, used by Alembic.\n"
        f"{rev_line}down_revision = {down_text}\nbranch_labels = None\ndepends_on = None\n\n\n"
    )
    text = header + imports + meta + body
    # What black and isort change: quote style and import order, nothing the AST sees.
    return text.replace("'", '"') if style == "black" else text


def _tables(*names: str) -> str:
    ups = "".join(
        f"    op.create_table(\n        {name!r},\n"
        "        sa.Column('id', sa.Integer(), primary_key=True),\n    )\n"
        for name in names
    )
    downs = "".join(f"    op.drop_table({name!r})\n" for name in reversed(names))
    return f"def upgrade():\n{ups}\n\ndef downgrade():\n{downs}"


def _down(value: str | list[str] | None) -> str | tuple[str, ...] | None:
    return tuple(value) if isinstance(value, list) else value


def _new_revision(spec: Mapping[str, Any]) -> str:
    tables = spec.get("tables")
    return _migration(
        spec["revision"],
        _down(spec.get("down")),
        spec["message"],
        spec["created"],
        _tables(*tables) if tables else _MERGE_BODY,
    )


def _applied(applied: Mapping[str, Any], spec: Mapping[str, Any]) -> str:
    """A variant of the applied migration: its body with the replacements of variants 1 to
    ``variant``, then the step's own ``replace``."""
    body: str = applied["body"]
    for variant in applied["variants"][1 : spec["variant"] + 1]:
        for old, new in variant:
            body = body.replace(old, new)
    revision = applied["revision"]
    text = _migration(
        revision if spec.get("revision", True) else None,
        _down(spec["down"]),
        applied["message"],
        applied["created"],
        body,
        style=spec.get("style", "classic"),
        named=revision,
    )
    if "replace" in spec:
        old, new = spec["replace"]
        text = text.replace(old, new)
    return text


def _files(data: Mapping[str, Any], step: Mapping[str, Any]) -> dict[str, str | bytes]:
    files: dict[str, str | bytes] = dict(step.get("files", {}))
    versions = data["versions"]
    if "migration" in step:
        files[f"{versions}/{step['migration']['file']}"] = _new_revision(step["migration"])
    if "applied" in step:
        applied = data["applied"]
        files[f"{versions}/{applied['file']}"] = _applied(applied, step["applied"])
    return files


# -- deploy logs ----------------------------------------------------------------------------
def _deploy_log(repo: Path, sha: str, logs: Mapping[str, str]) -> str:
    """What the deploy of ``sha`` printed: Alembic's own message for the first problem it
    meets in the graph (files are loaded before heads are counted), else a health check
    that never passed."""
    diag = Diagnostics()
    git = GitSource(repo, diag)
    try:
        _envs, states = pipeline.load_graphs(git, sha, (), diag)
    finally:
        git.close()
    problems = {p.kind: p for state in states for p in state.problems}
    broken = problems.get(GraphEventKind.PARSE_ERROR)
    unnamed = problems.get(GraphEventKind.MISSING_REVISION)
    if broken is not None and broken.path:
        error = broken.detail.rsplit("does not parse: ", 1)[-1]
        said = logs["parse_error"].format(path=broken.path, line=broken.line or 1, error=error)
    elif unnamed is not None and unnamed.path:
        said = logs["missing_revision"].format(file=unnamed.path.rsplit("/", 1)[-1])
    elif "multiple-heads" in problems:
        said = logs["multiple_heads"]
    else:
        said = logs["health_check"]
    return logs["start"] + said


# -- deploys --------------------------------------------------------------------------------
def _deploy_id(n: int) -> str:
    return "dep-d4" + hashlib.sha1(f"demo-deploy-{n}".encode()).hexdigest()[:18]


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000000Z")


def _render_deploy(
    n: int, push: tuple[str, str, datetime], status: str, timing: Mapping[str, Any]
) -> dict[str, object]:
    sha, message, committed = push
    created = committed + timedelta(seconds=timing["created_after_commit_s"])
    finished = created + timedelta(seconds=timing["duration_s"])
    return {
        "deploy": {
            "id": _deploy_id(n),
            "commit": {"id": sha, "message": message, "createdAt": _stamp(committed)},
            "status": status,
            "trigger": timing["trigger"],
            "createdAt": _stamp(created),
            "startedAt": _stamp(created + timedelta(seconds=timing["started_after_created_s"])),
            "updatedAt": _stamp(finished),
            "finishedAt": _stamp(finished),
        },
        "cursor": f"cursor-{n:03d}",
    }


# -- the scenario ---------------------------------------------------------------------------
def _replay(
    b: RepoBuilder, data: Mapping[str, Any]
) -> tuple[list[tuple[str, str, datetime]], dict[str, list[str]]]:
    """Make the scenario's history in ``b``: the pushed commits (sha, message, time) in
    order, and the commits of each role."""
    pushes: list[tuple[str, str, datetime]] = []
    roles: dict[str, list[str]] = {}
    for step in data["history"]:
        if "checkout" in step:
            b.checkout(step["checkout"], create=step.get("create", False))
            continue
        name, email = data["authors"][step["author"]]
        if "merge" in step:
            b.merge(step["merge"], step["message"], step["at"], author=name)
            continue
        files = _files(data, step)
        sha = b.commit(step["message"], step["at"], author=name, email=email, files=files)
        if step.get("push", True):
            pushes.append((sha, step["message"], step["at"]))
        for role in step.get("roles", ()):
            roles.setdefault(role, []).append(sha)
    return pushes, roles


def build_demo_repo(folder: Path) -> DemoScenario:
    """Build the demo repository, its deploy file and deploy logs under ``folder`` (created
    if needed), as ``demo_scenario.toml`` describes them."""
    data = scenario_data()
    repo_path = folder / "repo"
    pushes, roles = _replay(RepoBuilder(repo_path), data)
    live_commit = roles["live"][0]
    good = next(n for n, push in enumerate(pushes, 1) if push[0] == live_commit)
    timing = data["deploys"]
    deploys = []
    for n, push in enumerate(pushes, 1):
        if n == good:
            status = timing["live"]
        else:
            status = timing["before_live"] if n < good else timing["after_live"]
        deploys.append(_render_deploy(n, push, status, timing))
    deploys.reverse()  # the API lists the newest first
    deploys_file = folder / "render-deploys.json"
    deploys_file.write_text(json.dumps(deploys, indent=2) + "\n", encoding="utf-8")
    logs_dir = folder / "deploy-logs"
    logs_dir.mkdir(exist_ok=True)
    for n, (sha, _message, _moment) in enumerate(pushes, 1):
        if n > good:
            log_text = _deploy_log(repo_path, sha, data["logs"])
            (logs_dir / f"{_deploy_id(n)}.log").write_text(log_text, encoding="utf-8")
    applied_commit = roles["applied"][0]
    applied_index = next(n for n, push in enumerate(pushes, 1) if push[0] == applied_commit)
    return DemoScenario(
        root=folder,
        repo=repo_path,
        deploys_file=deploys_file,
        logs_dir=logs_dir,
        applied_revision=data["applied"]["revision"],
        production_revision=data["production"],
        migration_path=f"{data['versions']}/{data['applied']['file']}",
        applied_commit=applied_commit,
        applied_deploy=_deploy_id(applied_index),
        live_deploy=_deploy_id(good),
        live_commit=live_commit,
        burst_commits=tuple(roles["burst"]),
        message_only_commit=roles["message-only"][0],
        markup_commit=roles["markup"][0],
        syntax_error_commit=roles["syntax-error"][0],
        rewire_commit=roles["rewire"][0],
        head=roles["head"][0],
        since=data["since"],
        until=data["until"],
    )


# -- the demo command -----------------------------------------------------------------------
DEMO_FORMATS = ("md", "html", "json", "sarif", "summary")


def demo_config(scenario: DemoScenario) -> AnalyzeConfig:
    """The analysis the seed's author would have run: the window of the incident, the Render
    deploy log and production's revision, with the report time pinned to the seed's."""
    return AnalyzeConfig(
        repo=scenario.repo,
        now=scenario.until,
        since=scenario.since,
        until=scenario.until,
        deploys=(f"render:{scenario.deploys_file}",),
        deploy_logs=(f"dir:{scenario.logs_dir}",),
        prod_revisions=(scenario.production_revision,),
        use_cache=False,
    )


def demo_report(scenario: DemoScenario) -> Report:
    """The demo's report. The repository lives in a temporary folder, so the report names it
    by a fixed label: the output is the same on every machine."""
    report = pipeline.run(demo_config(scenario))
    label = "demo-repo"
    root = str(scenario.root)
    return dataclasses.replace(
        report,
        repo_path=label,
        warnings=tuple(w.replace(root, label) for w in report.warnings),
        deploys=tuple(
            dataclasses.replace(d, source=d.source.replace(root, label)) for d in report.deploys
        ),
    )


def run_demo(out: Path) -> tuple[list[Path], Report]:
    """Build the scenario in a temporary folder, analyse it, and write ``out/incident.*``:
    the files written, and the report."""
    root = Path(tempfile.mkdtemp(prefix="forensics-demo-"))
    scenario = build_demo_repo(root)
    log.info("demo repository: %s", scenario.repo)
    report = demo_report(scenario)
    written, failed = write_reports(report, parse_formats(",".join(DEMO_FORMATS)), out, "incident")
    if failed is not None:
        raise ForensicsError(failed)
    return written, report
