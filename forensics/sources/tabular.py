"""Deploys exported as ``csv:FILE`` or ``jsonl:FILE``.

Columns (CSV header) or keys (one JSON object per line): ``id``, ``commit``, ``status``,
``created_at``, ``finished_at``, ``service``; names are matched without regard to case and
other columns are ignored. ``id`` and ``created_at`` are required. A status may be one of
Render's, one of GitHub's, or a category name (``live``, ``failed``, ``superseded``,
``canceled``, ``in_progress``).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Mapping

from forensics.errors import Diagnostics, InputError
from forensics.model.deploys import Deploy
from forensics.sources.records import (
    ANY_STATUS,
    BadRecord,
    RecordLog,
    categorize,
    parse_time,
    read_text,
    required_id,
    required_time,
    status_field,
    text_field,
)

COLUMNS = ("id", "commit", "status", "created_at", "finished_at", "service")
_FIX = f"each row needs an id and a created_at time (columns: {', '.join(COLUMNS)})"


def _deploy(record: object, source: str, diag: Diagnostics) -> Deploy:
    if not isinstance(record, Mapping):
        raise BadRecord("it is not a JSON object")
    fields = {str(k).strip().lower(): v for k, v in record.items() if k is not None}
    status = status_field(fields, "status", source, diag)
    return Deploy(
        id=required_id(fields, "id"),
        status=status,
        category=categorize(status, ANY_STATUS, source, diag),
        created_at=required_time(fields, "created_at"),
        source=source,
        commit_ref=text_field(fields, "commit"),
        finished_at=parse_time(fields.get("finished_at"), "finished_at"),
        service=text_field(fields, "service"),
    )


def _collect(
    records: Iterator[tuple[str, object]], source: str, origin: str, diag: Diagnostics
) -> list[Deploy]:
    problems = RecordLog(origin, _FIX)
    deploys: list[Deploy] = []
    for label, record in records:
        try:
            deploys.append(_deploy(record, source, diag))
        except BadRecord as exc:
            problems.skip(label, exc)
    if not deploys and not problems.problems:
        raise InputError(f"{origin} holds no deploy records: export the deploys into it")
    return problems.finish(deploys, diag)


def read_csv(path: str, diag: Diagnostics) -> list[Deploy]:
    """``csv:FILE``: a header row, then one deploy per row."""
    spec, origin = f"csv:{path}", f"deploy file {path}"
    text = read_text(path, spec)
    reader = csv.DictReader(io.StringIO(text, newline=""), strict=True)
    try:
        header = [name.strip().lower() for name in reader.fieldnames or ()]
        missing = [name for name in ("id", "created_at") if name not in header]
        if missing:
            raise InputError(
                f"{origin} has no {' or '.join(missing)} column: its first row must name the "
                f"columns {', '.join(COLUMNS)}"
            )
        rows = [(f"row {reader.line_num}", dict(row)) for row in reader]
    except csv.Error as exc:
        raise InputError(
            f"{origin} is not valid CSV (line {reader.line_num}: {exc}): fix the quoting there"
        ) from None
    return _collect(iter(rows), spec, origin, diag)


def read_jsonl(path: str, diag: Diagnostics) -> list[Deploy]:
    """``jsonl:FILE``: one JSON object per line; blank lines are ignored."""
    spec, origin = f"jsonl:{path}", f"deploy file {path}"
    records: list[tuple[str, object]] = []
    # Lines end at "\n" alone: splitlines() would also cut inside a string at U+2028.
    for number, line in enumerate(read_text(path, spec).split("\n"), 1):
        if not line.strip():
            continue
        try:
            records.append((f"line {number}", json.loads(line)))
        except (json.JSONDecodeError, RecursionError) as exc:
            reason = exc.msg if isinstance(exc, json.JSONDecodeError) else "nested too deeply"
            raise InputError(
                f"{origin} line {number} is not valid JSON ({reason}): each line must be one "
                "JSON object"
            ) from None
    return _collect(iter(records), spec, origin, diag)
