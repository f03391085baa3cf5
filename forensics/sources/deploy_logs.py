"""Deploy logs: ``--deploy-logs dir:PATH`` and ``--deploy-logs render-logs:SERVICE_ID``.

Logs are read only for the deploys asked for (the pipeline asks for the failed deploys of
each failure window), and every log is bounded (``logtext``). ``github-actions:OWNER/REPO``
reads the failed jobs' logs of CI runs (``github_actions``).

- ``dir:PATH``: one file per deploy id, ``PATH/<deploy-id>.log`` or ``.txt``. A deploy
  without a file simply has no log.
- ``render-logs:SERVICE_ID``: Render's logs API, ``GET {base}/v1/logs?ownerId=...&resource=
  SERVICE_ID&startTime=...&endTime=...&direction=forward&limit=100``, between each deploy's
  creation and its end (or the next deploy). A page with ``hasMore`` gives the next page's
  ``nextStartTime``/``nextEndTime``. The workspace id comes from ``RENDER_OWNER_ID`` or, when
  unset, from ``GET /v1/services/SERVICE_ID``; the key from ``RENDER_API_KEY``; the base URL
  from ``FORENSICS_RENDER_API_URL``.
"""

from __future__ import annotations

import os
import re
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path

from forensics.errors import Diagnostics, InputError, UsageError
from forensics.model.deploys import Deploy, DeployLog
from forensics.sources import github_actions, render_com
from forensics.sources.http import JsonClient
from forensics.sources.logtext import MAX_LINE_BYTES, LineCollector, read_file
from forensics.sources.records import text_field

RENDER_PAGE = 100
RENDER_MAX_LINES = 5000
# A deploy with no end time: its logs are looked for this long after it started.
OPEN_DEPLOY_SPAN = timedelta(hours=1)
_SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:@-]{0,199}$")


def from_dir(folder: str, deploys: Sequence[Deploy], diag: Diagnostics) -> dict[str, DeployLog]:
    """``dir:PATH``: the saved log of each deploy that has one."""
    root = Path(folder).expanduser()
    spec = f"dir:{folder}"
    if not folder:
        raise UsageError("--deploy-logs dir: names no folder: write it as dir:PATH")
    if not root.is_dir():
        raise InputError(
            f"--deploy-logs {spec}: {root} is not a folder; name the folder that holds "
            "<deploy-id>.log files"
        )
    logs: dict[str, DeployLog] = {}
    for deploy in deploys:
        # The id comes from the provider: never let it name a path outside the folder.
        if not _SAFE_ID.match(deploy.id) or ".." in deploy.id:
            continue
        for suffix in (".log", ".txt"):
            path = root / f"{deploy.id}{suffix}"
            if path.is_file():
                try:
                    logs[deploy.id] = read_file(path, deploy.id, spec)
                except OSError as exc:
                    diag.warn(f"--deploy-logs {spec}: cannot read {path.name} ({exc.strerror})")
                break
    if deploys and not logs:
        diag.warn(
            f"--deploy-logs {spec}: none of the {len(deploys)} failed deploy(s) has a log "
            f"there (expected files such as {deploys[0].id}.log)"
        )
    return logs


def _render_client(env: Mapping[str, str], spec: str) -> JsonClient:
    hint = "RENDER_API_KEY (may the key read this service's logs?)"
    return render_com.api_client(env, f"--deploy-logs {spec}", hint)


def _owner(client: JsonClient, service: str, env: Mapping[str, str]) -> str:
    owner = env.get("RENDER_OWNER_ID", "").strip()
    if owner:
        return owner
    quoted = urllib.parse.quote(service, safe="")
    answer = client.get_json(client.url(f"/v1/services/{quoted}")).data
    found = text_field(answer, "ownerId") if isinstance(answer, Mapping) else None
    if found is None:
        raise InputError(
            f"the Render API did not say which workspace owns {service}: set RENDER_OWNER_ID"
        )
    return found


def _stamp(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _render_lines(
    client: JsonClient, owner: str, service: str, start: str, end: str, spec: str, diag: Diagnostics
) -> tuple[list[str], bool]:
    """The messages between ``start`` and ``end``, oldest first, and whether the line cap
    cut them short."""
    collector: list[str] = []
    for _page in range(RENDER_MAX_LINES // RENDER_PAGE + 1):
        params: dict[str, str | int] = {
            "ownerId": owner,
            "resource": service,
            "startTime": start,
            "endTime": end,
            "direction": "forward",
            "limit": RENDER_PAGE,
        }
        data = client.get_json(client.url("/v1/logs", params)).data
        if not isinstance(data, Mapping) or not isinstance(data.get("logs", []), list):
            diag.warn(f"--deploy-logs {spec}: a page of logs was not in the expected shape")
            return collector, False
        for entry in data.get("logs") or []:
            message = entry.get("message") if isinstance(entry, Mapping) else None
            if isinstance(message, str):
                collector += message.splitlines() or [""]
        if len(collector) >= RENDER_MAX_LINES:
            return collector[:RENDER_MAX_LINES], True
        next_start, next_end = data.get("nextStartTime"), data.get("nextEndTime")
        if data.get("hasMore") is not True or not isinstance(next_start, str):
            return collector, False
        if next_start == start:
            return collector, False
        start, end = next_start, next_end if isinstance(next_end, str) else end
    return collector, True


def from_render(
    service: str,
    deploys: Sequence[Deploy],
    diag: Diagnostics,
    env: Mapping[str, str] | None = None,
) -> dict[str, DeployLog]:
    """``render-logs:SERVICE_ID``: each deploy's lines from the logs API, bounded."""
    env = os.environ if env is None else env
    spec = f"render-logs:{service}"
    service = service.strip()
    if not service:
        raise UsageError("--deploy-logs render-logs: needs a service id, as in render-logs:srv-1")
    if not deploys:
        return {}
    client = _render_client(env, spec)
    owner = _owner(client, service, env)
    logs: dict[str, DeployLog] = {}
    for deploy in deploys:
        end = deploy.finished_at or deploy.created_at + OPEN_DEPLOY_SPAN
        lines, capped = _render_lines(
            client, owner, service, _stamp(deploy.created_at), _stamp(end), spec, diag
        )
        if capped:
            lines.append(f"[… more than {RENDER_MAX_LINES} lines: the rest was not read …]")
        collector = LineCollector()
        for line in lines:
            collector.add(line[:MAX_LINE_BYTES])
        if lines:
            logs[deploy.id] = collector.finish(deploy.id, spec)
    return logs


Env = Mapping[str, str] | None
LogReader = Callable[[str, Sequence[Deploy], Diagnostics, Env], dict[str, DeployLog]]

READERS: dict[str, LogReader] = {
    "dir": lambda arg, deploys, diag, _env: from_dir(arg, deploys, diag),
    "render-logs": from_render,
    "github-actions": github_actions.fetch_logs,
}


def load_logs(
    specs: Sequence[str], deploys: Sequence[Deploy], diag: Diagnostics, env: Env = None
) -> dict[str, DeployLog]:
    """The logs of ``deploys`` from every ``--deploy-logs`` source; the first source that
    has a deploy's log wins."""
    logs: dict[str, DeployLog] = {}
    for spec in specs:
        prefix, colon, argument = spec.partition(":")
        reader = READERS.get(prefix.strip().lower())
        if not colon or reader is None:
            raise UsageError(
                f"--deploy-logs {spec!r} has no known source prefix: use dir:PATH, "
                "render-logs:SERVICE_ID or github-actions:OWNER/REPO"
            )
        wanted = [d for d in deploys if d.id not in logs]
        for ident, log in reader(argument, wanted, diag, env).items():
            logs.setdefault(ident, log)
    return logs
