"""CI runs as deploys: ``github-actions:OWNER/REPO[:WORKFLOW]`` and ``github-actions:FILE``.

Teams that deploy from CI have no deployment objects: each run of the deploy workflow is a
deploy of its ``head_sha``. A completed run's conclusion gives the category (``success``
live; ``failure``, ``timed_out`` and ``startup_failure`` failed; ``cancelled`` and
``skipped`` canceled); a run that has not completed is in progress.

The API is ``GET /repos/{owner}/{repo}/actions/workflows/{WORKFLOW}/runs`` (``WORKFLOW`` is
the file name, such as ``deploy.yml``, or the numeric id) or, without a workflow,
``GET /repos/{owner}/{repo}/actions/runs`` keeping the runs of workflows whose name or path
says "deploy". Pages of 100 follow the ``Link`` header. A run's log is the logs of its
failed jobs (``/actions/runs/{id}/jobs``, then ``/actions/jobs/{id}/logs``), streamed and
bounded like every deploy log, with GitHub's timestamp prefix removed. The token comes from
``GITHUB_TOKEN`` and the base URL from ``FORENSICS_GITHUB_API_URL``.

The file holds the runs API's JSON as saved: ``{"workflow_runs": [...]}``, a list of runs,
or a list of such pages.
"""

from __future__ import annotations

import os
import re
import urllib.parse
from collections.abc import Mapping, Sequence
from pathlib import Path

from forensics.errors import Diagnostics, InputError
from forensics.model.deploys import Deploy, DeployCategory, DeployLog
from forensics.sources.github import api_client
from forensics.sources.http import JsonClient, header, next_link
from forensics.sources.logtext import LineCollector
from forensics.sources.records import (
    BadRecord,
    parse_list,
    parse_time,
    read_deploy_file,
    required_id,
    required_time,
    text_field,
)

C = DeployCategory
MAX_PAGES = 20
MAX_JOB_LOGS = 5
_REPO = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
_TIMESTAMP = re.compile(r"^\ufeff?\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z ")
_SHAPE = 'the runs API\'s JSON: {"workflow_runs": [...]}, a list of runs, or a list of pages'
_FIX = "each run needs an id and a created_at time"

CONCLUSIONS: Mapping[str, DeployCategory] = {
    "success": C.LIVE,
    "failure": C.FAILED,
    "timed_out": C.FAILED,
    "startup_failure": C.FAILED,
    "cancelled": C.CANCELED,
    "skipped": C.CANCELED,
}


def is_file(argument: str) -> bool:
    """``github-actions:FILE`` rather than ``OWNER/REPO``: a file that exists, or a name
    that ends as a JSON file does."""
    return argument.lower().endswith(".json") or Path(argument).expanduser().is_file()


def _category(status: str, conclusion: str | None) -> DeployCategory:
    if status != "completed":
        return C.IN_PROGRESS
    return CONCLUSIONS.get((conclusion or "").lower(), C.IN_PROGRESS)


def _deploy(item: object, source: str) -> Deploy:
    if not isinstance(item, Mapping):
        raise BadRecord("it is not a JSON object")
    status = (text_field(item, "status") or "queued").lower()
    conclusion = text_field(item, "conclusion")
    category = _category(status, conclusion)
    finished = None
    if category is not C.IN_PROGRESS:
        finished = parse_time(item.get("updated_at"), "updated_at")
    return Deploy(
        id=required_id(item, "id"),
        status=conclusion if status == "completed" and conclusion else status,
        category=category,
        created_at=required_time(item, "run_started_at", "created_at"),
        source=source,
        commit_ref=text_field(item, "head_sha"),
        finished_at=finished,
        service=text_field(item, "name") or text_field(item, "path"),
        message=text_field(item, "display_title"),
        trigger=text_field(item, "event"),
    )


def _runs(data: object) -> object:
    """The runs of a saved file: one page, a list of pages, or a plain list."""
    if isinstance(data, Mapping):
        return data.get("workflow_runs")
    if isinstance(data, list) and data:
        pages = [p for p in data if isinstance(p, Mapping) and "workflow_runs" in p]
        if len(pages) == len(data):
            return [run for page in pages for run in page.get("workflow_runs") or []]
    return data


def parse(data: object, source: str, origin: str, diag: Diagnostics) -> list[Deploy]:
    return parse_list(_runs(data), origin, _SHAPE, _FIX, lambda i: _deploy(i, source), diag)


def read_file(path: str, diag: Diagnostics) -> list[Deploy]:
    """``github-actions:FILE``."""
    return read_deploy_file("github-actions", path, _SHAPE, parse, diag)


def client_for(target: str, env: Mapping[str, str]) -> JsonClient:
    return api_client(env, f"the Actions of {target}")


def split_target(target: str) -> tuple[str, str | None]:
    """``OWNER/REPO`` and the workflow, or a one-line error."""
    repo, _, workflow = target.strip().partition(":")
    if not _REPO.match(repo):
        raise InputError(
            f"github-actions:{target!r}: name the repository as OWNER/REPO, optionally with "
            ":WORKFLOW (deploy.yml), or give a saved runs JSON file"
        )
    return repo, workflow.strip() or None


def _pages(
    client: JsonClient, url: str | None, key: str, spec: str, diag: Diagnostics
) -> list[object]:
    items: list[object] = []
    for _page in range(MAX_PAGES):
        if url is None:
            return items
        answer = client.get_json(url)
        found = answer.data.get(key) if isinstance(answer.data, Mapping) else None
        if not isinstance(found, list):
            raise InputError(f"the GitHub API sent no {key} list for {spec}")
        items += found
        url = next_link(header(answer.headers, "Link"))
        if url is not None and not client.same_origin(url):
            diag.warn(f"{spec}: the API pointed the next page elsewhere; later pages not read")
            return items
    if url is not None:
        diag.warn(f"{spec}: stopped after {MAX_PAGES} pages; older runs are not read")
    return items


def _is_deploy_workflow(run: object) -> bool:
    if not isinstance(run, Mapping):
        return True
    names = f"{text_field(run, 'name') or ''} {text_field(run, 'path') or ''}".lower()
    return "deploy" in names


def fetch(
    target: str,
    diag: Diagnostics,
    env: Mapping[str, str] | None = None,
) -> list[Deploy]:
    """``github-actions:OWNER/REPO[:WORKFLOW]``: every run of the deploy workflow."""
    env = os.environ if env is None else env
    spec = f"github-actions:{target}"
    repo, workflow = split_target(target)
    client = client_for(repo, env)
    if workflow:
        quoted = urllib.parse.quote(workflow, safe="")
        path = f"/repos/{repo}/actions/workflows/{quoted}/runs"
    else:
        path = f"/repos/{repo}/actions/runs"
    runs = _pages(client, client.url(path, {"per_page": 100}), "workflow_runs", spec, diag)
    if not workflow:
        chosen = [r for r in runs if _is_deploy_workflow(r)]
        if chosen:
            runs = chosen
        elif runs:
            diag.warn(
                f"{spec}: no workflow is named for deploys, so every run counts as a deploy; "
                "name the deploy workflow as OWNER/REPO:deploy.yml"
            )
    return parse(runs, spec, f"the GitHub Actions runs of {repo}", diag)


def fetch_logs(
    target: str,
    deploys: Sequence[Deploy],
    diag: Diagnostics,
    env: Mapping[str, str] | None = None,
) -> dict[str, DeployLog]:
    """The logs of the failed jobs of each run in ``deploys`` (run ids), bounded."""
    env = os.environ if env is None else env
    if is_file(target):
        return {}
    spec = f"github-actions:{target}"
    repo, _workflow = split_target(target)
    client = client_for(repo, env)
    logs: dict[str, DeployLog] = {}
    for deploy in deploys:
        if not deploy.id.isdigit():
            continue
        url = client.url(f"/repos/{repo}/actions/runs/{deploy.id}/jobs", {"per_page": 100})
        jobs = _pages(client, url, "jobs", spec, diag)
        failed = [
            j
            for j in jobs
            if isinstance(j, Mapping)
            and text_field(j, "conclusion") in ("failure", "timed_out")
            and text_field(j, "id")
        ][:MAX_JOB_LOGS]
        if not failed:
            continue
        collector = LineCollector()
        read = False
        for job in failed:
            collector.add(f"== job {text_field(job, 'name') or text_field(job, 'id')} ==")
            try:
                _job_log(client, repo, str(text_field(job, "id")), collector)
                read = True
            except InputError as exc:
                # One unreadable job log leaves that run unexplained, not the report unwritten.
                diag.warn(f"{spec}: the log of run {deploy.id} was not read: {exc.message}")
        if read:
            logs[deploy.id] = collector.finish(deploy.id, spec)
    return logs


def _job_log(client: JsonClient, repo: str, job: str, collector: LineCollector) -> None:
    # A retried download starts over: each attempt collects into a fresh collector, and only
    # the last one's lines are kept.
    attempts: list[LineCollector] = []

    def sink() -> LineCollector:
        attempts.append(LineCollector())
        return attempts[-1]

    quoted = urllib.parse.quote(job, safe="")
    client.get_stream(
        client.url(f"/repos/{repo}/actions/jobs/{quoted}/logs"), lambda: sink().feed, hand_off=True
    )
    if attempts:
        for line in attempts[-1].finish(job, "").lines:
            collector.add(_TIMESTAMP.sub("", line))
