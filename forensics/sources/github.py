"""GitHub deployments: ``github:FILE`` and ``github-api:OWNER/REPO[@ENV]``.

A deployment's state is its latest status. ``success`` is live and ``inactive`` was live
until a newer deployment replaced it (GitHub marks older successes of an environment
inactive by itself); ``failure`` and ``error`` failed; ``pending``, ``queued`` and
``in_progress`` (and a deployment with no status yet) are in progress.

The file holds the deployments as ``GET /repos/{owner}/{repo}/deployments`` returns them,
each with either ``statuses`` (a list, newest first, as the statuses endpoint returns it)
or ``latest_status`` (one status object). The API reads the same endpoints with
``per_page=100`` and follows the ``Link`` header; the token comes from ``GITHUB_TOKEN``
(optional for public repositories) and the base URL from ``FORENSICS_GITHUB_API_URL``
(default ``https://api.github.com``).
"""

from __future__ import annotations

import os
import re
import urllib.parse
from collections.abc import Mapping

from forensics.errors import Diagnostics, InputError
from forensics.model.deploys import Deploy, DeployCategory
from forensics.sources.http import JsonClient, header, next_link, no_deploys_after_redirect
from forensics.sources.records import (
    GITHUB_STATES,
    BadRecord,
    categorize,
    parse_list,
    parse_time,
    read_deploy_file,
    required_id,
    required_time,
    text_field,
)

DEFAULT_API = "https://api.github.com"
MAX_PAGES = 50
_REPO = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
_SHAPE = "a list of GitHub deployment objects (each with `statuses` or `latest_status`)"
_FIX = "each deployment needs an id and a created_at time"


def _latest_status(item: Mapping[str, object]) -> Mapping[str, object] | None:
    latest = item.get("latest_status", item.get("status"))
    if isinstance(latest, Mapping):
        return latest
    statuses = item.get("statuses")
    if isinstance(statuses, list) and statuses and isinstance(statuses[0], Mapping):
        first: Mapping[str, object] = statuses[0]
        return first
    return None


def _deploy(item: object, source: str, diag: Diagnostics) -> Deploy:
    if not isinstance(item, Mapping):
        raise BadRecord("it is not a JSON object")
    status = _latest_status(item) or {}
    state = text_field(status, "state") or "pending"
    category = categorize(state, GITHUB_STATES, source, diag)
    finished = None
    if category is not DeployCategory.IN_PROGRESS:
        finished = parse_time(status.get("created_at") or status.get("updated_at"), "status time")
    return Deploy(
        id=required_id(item, "id"),
        status=state,
        category=category,
        created_at=required_time(item, "created_at"),
        source=source,
        commit_ref=text_field(item, "sha"),
        finished_at=finished,
        service=text_field(status, "environment") or text_field(item, "environment"),
        message=text_field(item, "description") or text_field(status, "description"),
        trigger=text_field(item, "task"),
    )


def parse(data: object, source: str, origin: str, diag: Diagnostics) -> list[Deploy]:
    return parse_list(data, origin, _SHAPE, _FIX, lambda item: _deploy(item, source, diag), diag)


def read_file(path: str, diag: Diagnostics) -> list[Deploy]:
    """``github:FILE``."""
    return read_deploy_file("github", path, _SHAPE, parse, diag)


def api_client(env: Mapping[str, str], access: str) -> JsonClient:
    """A client of the GitHub API; the token is optional for public repositories.
    ``access`` names what the token must be allowed to read, for the error message."""
    token = env.get("GITHUB_TOKEN", "").strip()
    headers = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return JsonClient(
        base_url=env.get("FORENSICS_GITHUB_API_URL") or DEFAULT_API,
        what="the GitHub API",
        headers=headers,
        secret=token or None,
        credential_hint=f"GITHUB_TOKEN (it needs read access to {access})",
    )


def _deployments(
    client: JsonClient, repo: str, environment: str, spec: str, diag: Diagnostics
) -> list[object]:
    """The raw deployment objects (of ``environment``, if given), following the ``Link``
    header for at most ``MAX_PAGES`` pages and never to another origin."""
    params: dict[str, str | int] = {"per_page": 100}
    if environment:
        params["environment"] = environment
    url: str | None = client.url(f"/repos/{repo}/deployments", params)
    items: list[object] = []
    for _page in range(MAX_PAGES):
        if url is None:
            break
        answer = client.get_json(url)
        if not isinstance(answer.data, list):
            raise InputError(
                f"the GitHub API sent something other than a list of deployments for {repo}"
            )
        items += answer.data
        if not items and answer.redirected:
            raise no_deploys_after_redirect(spec, answer)
        url = next_link(header(answer.headers, "Link"))
        if url is not None and not client.same_origin(url):
            diag.warn(f"{spec}: the API pointed the next page elsewhere; later pages not read")
            url = None
    else:
        if url is not None:
            diag.warn(f"{spec}: stopped after {MAX_PAGES} pages; older deployments are not read")
    return items


def _add_latest_statuses(client: JsonClient, repo: str, items: list[object]) -> None:
    """Gives each deployment with a usable id its newest status, as ``statuses``: the
    deployments endpoint does not carry their state."""
    for item in items:
        if isinstance(item, dict) and "id" in item and not isinstance(item["id"], bool):
            ident = urllib.parse.quote(str(item["id"]), safe="")
            statuses = client.get_json(
                client.url(f"/repos/{repo}/deployments/{ident}/statuses", {"per_page": 1})
            ).data
            item["statuses"] = statuses if isinstance(statuses, list) else []


def fetch(
    target: str,
    diag: Diagnostics,
    env: Mapping[str, str] | None = None,
    client: JsonClient | None = None,
) -> list[Deploy]:
    """``github-api:OWNER/REPO[@ENV]``: every deployment (of ENV) with its latest status."""
    env = os.environ if env is None else env
    spec = f"github-api:{target}"
    repo, _, environment = target.strip().partition("@")
    if not _REPO.match(repo):
        raise InputError(
            f"--deploys {spec!r}: name the repository as OWNER/REPO, optionally with @ENVIRONMENT"
        )
    if client is None:
        client = api_client(env, f"deployments of {repo}")
    items = _deployments(client, repo, environment, spec, diag)
    _add_latest_statuses(client, repo, items)
    return parse(items, spec, f"the GitHub deployments of {repo}", diag)
