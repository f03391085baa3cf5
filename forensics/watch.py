"""``forensics watch``: follow one deploy until it is live or failed.

Each poll reads the ``--deploys`` sources again and picks the deploy to follow: ``--deploy
ID``, or the newest one at the first poll. Every change of its status is reported; the
watch ends when the deploy succeeds (live), fails, is canceled, or the timeout passes. The
command line turns a failure into the incident report, as ``analyze`` would write it.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from forensics.errors import Diagnostics, InputError, UsageError
from forensics.model.deploys import Deploy, DeployCategory
from forensics.sources.deploys import read_spec
from forensics.sources.git import GitSource


class Outcome(StrEnum):
    LIVE = "live"
    FAILED = "failed"
    CANCELED = "canceled"
    TIMED_OUT = "timed-out"


@dataclass(frozen=True)
class WatchResult:
    """How the watch ended, and the deploy as last seen."""

    outcome: Outcome
    deploy: Deploy
    waited: float


def _poll(specs: Sequence[str], git: GitSource, rev: str, diag: Diagnostics) -> list[Deploy]:
    found: list[Deploy] = []
    for spec in specs:
        found += read_spec(spec, git, rev, diag)
    return found


def _pick(deploys: Sequence[Deploy], wanted: str | None) -> Deploy | None:
    if wanted is not None:
        return next((d for d in deploys if d.id == wanted), None)
    return max(deploys, key=lambda d: (d.created_at, d.id), default=None)


def follow(
    specs: Sequence[str],
    git: GitSource,
    rev: str,
    deploy_id: str | None,
    interval: float,
    timeout: float,
    on_status: Callable[[Deploy, str | None], None],
    diag: Diagnostics,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> WatchResult:
    """Polls until the deploy ends or ``timeout`` seconds pass. ``on_status(deploy,
    previous_status)`` is called at the first sight and at every change."""
    if not specs:
        raise UsageError("watch needs --deploys SOURCE (render-api:SERVICE_ID, github-actions:…)")
    if interval <= 0 or timeout <= 0:
        raise UsageError("--interval and --timeout must be positive numbers of seconds")
    started = clock()
    wanted = deploy_id
    seen: str | None = None
    while True:
        deploy = _pick(_poll(specs, git, rev, diag), wanted)
        if deploy is None:
            where = ", ".join(specs)
            raise InputError(
                f"deploy {wanted} is not in {where}: check --deploy"
                if wanted
                else f"{where} lists no deploy yet: push first, or pass --deploy ID"
            )
        wanted = deploy.id
        if deploy.status != seen:
            on_status(deploy, seen)
            seen = deploy.status
        waited = clock() - started
        if deploy.category.succeeded:
            return WatchResult(Outcome.LIVE, deploy, waited)
        if deploy.category is DeployCategory.FAILED:
            return WatchResult(Outcome.FAILED, deploy, waited)
        if deploy.category is DeployCategory.CANCELED:
            return WatchResult(Outcome.CANCELED, deploy, waited)
        if waited + interval > timeout:
            return WatchResult(Outcome.TIMED_OUT, deploy, waited)
        gc.collect()  # the command line runs with the cyclic collector off
        sleep(interval)
