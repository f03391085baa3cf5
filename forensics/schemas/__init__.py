"""JSON Schemas (draft 2020-12) of the documents forensics writes: ``report``, ``dag``,
``history``, ``baseline`` and ``fleet``. They document every key of DESIGN.md's contracts and allow
keys to be added later, as the contracts do."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

NAMES = ("report", "dag", "history", "baseline", "fleet")


def schema(name: str) -> dict[str, Any]:
    """The schema of one document, e.g. ``schema("report")`` for ``forensics.report/1``."""
    if name not in NAMES:
        raise KeyError(f"no schema {name!r}; the schemas are {', '.join(NAMES)}")
    text = resources.files(__package__).joinpath(f"{name}.schema.json").read_text("utf-8")
    document: dict[str, Any] = json.loads(text)
    return document
