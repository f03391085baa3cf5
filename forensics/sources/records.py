"""What every deploy reader shares: reading the file, times, statuses and bad records.

The policy for bad input: a file that cannot be read or parsed (missing, empty, not UTF-8,
malformed JSON or CSV, the wrong shape) is a one-line ``InputError``. A record that parses
but cannot be used (no id, no time, a time that is not a time) is skipped, and the file gets
one warning that names the records to fix; when no record at all is usable, that becomes the
error. Times are converted to UTC here, when they are read.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path

from forensics.errors import Diagnostics, InputError
from forensics.model.deploys import Deploy, DeployCategory
from forensics.model.text import clean

C = DeployCategory

RENDER_STATUSES: Mapping[str, DeployCategory] = {
    "live": C.LIVE,
    "build_failed": C.FAILED,
    "update_failed": C.FAILED,
    "pre_deploy_failed": C.FAILED,
    "deactivated": C.SUPERSEDED,
    "canceled": C.CANCELED,
    "created": C.IN_PROGRESS,
    "queued": C.IN_PROGRESS,
    "build_in_progress": C.IN_PROGRESS,
    "update_in_progress": C.IN_PROGRESS,
    "pre_deploy_in_progress": C.IN_PROGRESS,
}

# GitHub's deployment status states. GitHub itself marks an older successful deployment of
# the same environment ``inactive`` when a newer one succeeds (``auto_inactive``), so
# ``success`` is what runs now and ``inactive`` was live until it was replaced.
GITHUB_STATES: Mapping[str, DeployCategory] = {
    "success": C.LIVE,
    "inactive": C.SUPERSEDED,
    "failure": C.FAILED,
    "error": C.FAILED,
    "pending": C.IN_PROGRESS,
    "queued": C.IN_PROGRESS,
    "in_progress": C.IN_PROGRESS,
}

# CSV and JSON Lines files are written by hand or exported from anywhere: they may use
# Render's statuses, GitHub's states or the category names themselves.
ANY_STATUS: Mapping[str, DeployCategory] = {
    **RENDER_STATUSES,
    **GITHUB_STATES,
    **{c.value: c for c in DeployCategory if c is not C.UNKNOWN},
    "in-progress": C.IN_PROGRESS,
    "succeeded": C.LIVE,
    "failed": C.FAILED,
    "cancelled": C.CANCELED,
    "superseded": C.SUPERSEDED,
}

# How final a state is: a record seen twice keeps the later stage of its life.
_FINALITY = {
    C.IN_PROGRESS: 0,
    C.UNKNOWN: 1,
    C.CANCELED: 2,
    C.FAILED: 2,
    C.LIVE: 3,
    C.SUPERSEDED: 4,
}


def finality(deploy: Deploy) -> tuple[int, bool, datetime]:
    stamp = deploy.finished_at or deploy.created_at
    return (_FINALITY[deploy.category], deploy.finished_at is not None, stamp)


class BadRecord(Exception):
    """A record that parsed but cannot be used; the message says what is wrong with it."""


def categorize(
    status: str, table: Mapping[str, DeployCategory], origin: str, diag: Diagnostics
) -> DeployCategory:
    category = table.get(status.strip().lower())
    if category is None:
        known = ", ".join(sorted(table))
        diag.warn(
            f"{origin}: unknown deploy status {status!r}, kept as 'unknown' (it neither opens "
            f"nor closes a failure window); known statuses: {known}"
        )
        return C.UNKNOWN
    return category


def status_field(record: Mapping[str, object], key: str, origin: str, diag: Diagnostics) -> str:
    """The record's status; a record without one is kept as 'unknown', with a warning."""
    status = text_field(record, key)
    if status is None:
        diag.warn(f"{origin}: a deploy has no status; it is kept as 'unknown'")
        return "unknown"
    return status


# Far above a real export (a deploy is about a kilobyte), and an end to a read of
# /dev/zero or a runaway file.
MAX_DEPLOY_FILE = 64 * 2**20


def read_text(path_text: str, spec: str) -> str:
    """The file's text, or a one-line error that names it and says what to do."""
    path = Path(path_text).expanduser()
    if not path_text:
        raise InputError(f"--deploys {spec!r} names no file: write it as PREFIX:FILE")
    try:
        with path.open("rb") as stream:
            data = stream.read(MAX_DEPLOY_FILE + 1)
    except FileNotFoundError:
        raise InputError(
            f"deploy file {path} does not exist: check the path in --deploys"
        ) from None
    except IsADirectoryError:
        raise InputError(f"deploy file {path} is a directory: name a file in --deploys") from None
    except OSError as exc:
        raise InputError(f"cannot read deploy file {path} ({exc.strerror}): check it") from None
    if len(data) > MAX_DEPLOY_FILE:
        raise InputError(
            f"deploy file {path} is larger than {MAX_DEPLOY_FILE // 2**20} MiB: export a "
            "shorter period of deploys"
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(f"deploy file {path} is not UTF-8 text: export it as UTF-8") from None
    if not text.strip():
        raise InputError(f"deploy file {path} is empty: export the deploys into it first")
    return text


def load_json(text: str, origin: str, expected: str) -> object:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"{origin} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}): "
            f"it must hold {expected}"
        ) from None
    except RecursionError:
        raise InputError(f"{origin} nests too deeply to be {expected}") from None


def parse_time(value: object, field: str) -> datetime | None:
    """An ISO 8601 text (``Z`` or an offset; naive means UTC) or epoch seconds, in UTC.
    ``None`` when absent; ``BadRecord`` when present but not a time."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise BadRecord(f"{field} is {value!r}, not a time")
    if isinstance(value, int | float):
        try:
            return datetime.fromtimestamp(value, tz=UTC)
        except (OverflowError, OSError, ValueError):
            raise BadRecord(f"{field} {value!r} is not a time") from None
    if not isinstance(value, str):
        raise BadRecord(f"{field} is not a time")
    text = value.strip()
    if text[-1:] in ("Z", "z"):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise BadRecord(f"{field} {value[:40]!r} is not an ISO 8601 time") from None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:
        raise BadRecord(f"{field} {value[:40]!r} is out of range") from None


def text_field(record: Mapping[str, object], *keys: str) -> str | None:
    """The first of ``keys`` that holds a usable scalar, as stripped, valid text (JSON may
    carry escaped lone surrogates: ``json.loads`` accepts ``"\\udc8f"``)."""
    for key in keys:
        value = record.get(key)
        if isinstance(value, bool) or value is None:
            continue
        if isinstance(value, str | int | float):
            text = clean(str(value)).strip()
            if text:
                return text
    return None


def required_id(record: Mapping[str, object], *keys: str) -> str:
    found = text_field(record, *keys)
    if found is None:
        raise BadRecord(f"it has no {keys[0]}")
    return found


def required_time(record: Mapping[str, object], *keys: str) -> datetime:
    for key in keys:
        found = parse_time(record.get(key), key)
        if found is not None:
            return found
    raise BadRecord(f"it has no {keys[0]}")


class RecordLog:
    """Collects the records of one file that had to be skipped, and reports them once."""

    def __init__(self, origin: str, fix: str) -> None:
        self.origin = origin
        self.fix = fix
        self.problems: list[str] = []

    def skip(self, label: str, problem: BadRecord | str) -> None:
        self.problems.append(f"{label}: {problem}")

    def finish(self, deploys: list[Deploy], diag: Diagnostics) -> list[Deploy]:
        if not self.problems:
            return deploys
        listed = "; ".join(self.problems[:3]) + (" …" if len(self.problems) > 3 else "")
        if not deploys:
            raise InputError(f"{self.origin} has no usable deploy record ({listed}): {self.fix}")
        diag.warn(
            f"{self.origin}: skipped {len(self.problems)} of {len(self.problems) + len(deploys)} "
            f"records ({listed}); {self.fix}"
        )
        return deploys


def parse_list(
    data: object,
    origin: str,
    shape: str,
    fix: str,
    convert: Callable[[object], Deploy],
    diag: Diagnostics,
) -> list[Deploy]:
    """Deploys from a decoded JSON list: bad records are skipped and reported together."""
    if not isinstance(data, list):
        raise InputError(f"{origin} must hold {shape}, not a JSON {type(data).__name__}")
    problems = RecordLog(origin, fix)
    deploys: list[Deploy] = []
    for index, item in enumerate(data, 1):
        try:
            deploys.append(convert(item))
        except BadRecord as exc:
            problems.skip(f"record {index}", exc)
    return problems.finish(deploys, diag)


def read_deploy_file(
    prefix: str,
    path: str,
    shape: str,
    parse: Callable[[object, str, str, Diagnostics], list[Deploy]],
    diag: Diagnostics,
) -> list[Deploy]:
    """The deploys of the JSON file of ``--deploys PREFIX:PATH``: ``parse(data, spec,
    origin, diag)`` turns its decoded JSON into deploys, naming the file ``origin`` in
    messages."""
    spec, origin = f"{prefix}:{path}", f"deploy file {path}"
    return parse(load_json(read_text(path, spec), origin, shape), spec, origin, diag)
