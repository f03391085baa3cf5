"""Deploys from Render (render.com, the hosting provider; not the report renderers of
``forensics.render``): ``render:FILE`` (the list-deploys JSON) and ``render-api:SERVICE_ID``.

The API is ``GET {base}/v1/services/{id}/deploys?limit=100&cursor=...``, with the key from
``RENDER_API_KEY`` and the base URL from ``FORENSICS_RENDER_API_URL`` (for tests and
proxies; default ``https://api.render.com``). Unknown fields are ignored.
"""

from __future__ import annotations

import os
import urllib.parse
from collections.abc import Mapping

from forensics.errors import Diagnostics, InputError
from forensics.model.deploys import Deploy
from forensics.sources.http import JsonClient, no_deploys_after_redirect
from forensics.sources.records import (
    RENDER_STATUSES,
    BadRecord,
    categorize,
    parse_list,
    parse_time,
    read_deploy_file,
    required_id,
    required_time,
    status_field,
    text_field,
)

DEFAULT_API = "https://api.render.com"
PAGE_SIZE = 100
MAX_PAGES = 200
_SHAPE = 'a list of {"deploy": {...}, "cursor": ...} items or a list of deploy objects'
_FIX = "each deploy needs an id and a createdAt time"


def _deploy(item: object, source: str, service: str | None, diag: Diagnostics) -> Deploy:
    if isinstance(item, Mapping) and isinstance(item.get("deploy"), Mapping):
        item = item["deploy"]
    if not isinstance(item, Mapping):
        raise BadRecord("it is not a JSON object")
    commit = item.get("commit")
    commit_ref = message = None
    if isinstance(commit, Mapping):
        commit_ref, message = text_field(commit, "id"), text_field(commit, "message")
    elif isinstance(commit, str) and commit.strip():
        commit_ref = commit.strip()
    status = status_field(item, "status", source, diag)
    return Deploy(
        id=required_id(item, "id"),
        status=status,
        category=categorize(status, RENDER_STATUSES, source, diag),
        created_at=required_time(item, "createdAt", "startedAt"),
        source=source,
        commit_ref=commit_ref,
        finished_at=parse_time(item.get("finishedAt"), "finishedAt"),
        service=service,
        message=message,
        trigger=text_field(item, "trigger"),
    )


def parse(
    data: object, source: str, origin: str, diag: Diagnostics, service: str | None = None
) -> list[Deploy]:
    """Deploys from decoded list-deploys JSON; ``origin`` names the file or URL in messages."""
    return parse_list(
        data, origin, _SHAPE, _FIX, lambda item: _deploy(item, source, service, diag), diag
    )


def read_file(path: str, diag: Diagnostics) -> list[Deploy]:
    """``render:FILE``."""
    return read_deploy_file("render", path, _SHAPE, parse, diag)


def api_client(env: Mapping[str, str], option: str, credential_hint: str) -> JsonClient:
    """A client of the Render API, or a one-line error naming ``option`` (the flag and its
    value) when no key is set."""
    key = env.get("RENDER_API_KEY", "").strip()
    if not key:
        raise InputError(
            f"{option} needs a Render API key: set RENDER_API_KEY "
            "(Render dashboard → Account settings → API keys)"
        )
    return JsonClient(
        base_url=env.get("FORENSICS_RENDER_API_URL") or DEFAULT_API,
        what="the Render API",
        headers={"Authorization": f"Bearer {key}", "Accept": "application/json"},
        secret=key,
        credential_hint=credential_hint,
    )


def _pages(client: JsonClient, service_id: str, spec: str, diag: Diagnostics) -> list[Deploy]:
    """The service's deploys, page by page through the cursor of each page's last item,
    until a short page, a repeated cursor or ``MAX_PAGES``."""
    path = f"/v1/services/{urllib.parse.quote(service_id.strip(), safe='')}/deploys"
    deploys: list[Deploy] = []
    cursor: str | None = None
    seen: set[str] = set()
    for _page in range(MAX_PAGES):
        params: dict[str, str | int] = {"limit": PAGE_SIZE}
        if cursor:
            params["cursor"] = cursor
        answer = client.get_json(client.url(path, params))
        items = answer.data
        deploys += (
            parse(items, spec, f"the Render API page for {service_id}", diag, service_id)
            if items
            else []
        )
        if not deploys and answer.redirected:
            raise no_deploys_after_redirect(spec, answer)
        if not isinstance(items, list) or len(items) < PAGE_SIZE:
            return deploys
        last = items[-1]
        cursor = text_field(last, "cursor") if isinstance(last, Mapping) else None
        if cursor is None or cursor in seen:
            return deploys
        seen.add(cursor)
    diag.warn(f"{spec}: stopped after {MAX_PAGES} pages of deploys; older deploys are not read")
    return deploys


def fetch(
    service_id: str,
    diag: Diagnostics,
    env: Mapping[str, str] | None = None,
    client: JsonClient | None = None,
) -> list[Deploy]:
    """``render-api:SERVICE_ID``: every page of the service's deploys, newest first."""
    env = os.environ if env is None else env
    spec = f"render-api:{service_id}"
    if not service_id.strip():
        raise InputError("--deploys render-api: needs a service id, as in render-api:srv-abc123")
    if client is None:
        hint = "RENDER_API_KEY (is the key valid for this service?)"
        client = api_client(env, f"--deploys {spec}", hint)
    return _pages(client, service_id, spec, diag)
