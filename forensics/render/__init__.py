"""Renderers of the final ``Report``: the output formats and how to choose them.

Each format maps to a function ``Report -> str`` and to a file suffix. Renderers see only
the model (import-linter enforces it), never sources or analysis. Every output encodes as
UTF-8 whatever the report holds: JSON and SARIF are made valid as whole documents
(``render.json.dumps``, which also escapes control characters), and for Markdown and HTML
``OutputFormat.render`` first passes every string of the report through
``without_controls``, before the values are escaped for the format.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum

from forensics.errors import UsageError
from forensics.model.report import Report
from forensics.model.text import map_text, without_controls
from forensics.render.html import render_html
from forensics.render.json import render_json
from forensics.render.markdown import render_markdown, render_summary
from forensics.render.sarif import render_sarif

Renderer = Callable[[Report], str]


class OutputFormat(Enum):
    MD = ("md", ".md", render_markdown, True)
    HTML = ("html", ".html", render_html, True)
    JSON = ("json", ".json", render_json, False)
    SARIF = ("sarif", ".sarif", render_sarif, False)
    # the first screen alone, small enough for a pull-request comment
    SUMMARY = ("summary", ".summary.md", render_summary, True)

    def __init__(self, label: str, suffix: str, renderer: Renderer, for_people: bool) -> None:
        self.label = label
        self.suffix = suffix
        self.renderer = renderer
        self.for_people = for_people

    def render(self, report: Report) -> str:
        return self.renderer(_for_people(report) if self.for_people else report)


# The report as Markdown and HTML see it, kept for the next format of the same report:
# the walk over every string is made once per report, not once per format.
_last: tuple[Report, Report] | None = None


def _for_people(report: Report) -> Report:
    global _last
    if _last is None or _last[0] is not report:
        _last = (report, map_text(report, without_controls))
    return _last[1]


def parse_formats(text: str) -> list[OutputFormat]:
    """``"md,html,json,sarif"`` as formats, in the order given, each once."""
    by_label = {f.label: f for f in OutputFormat}
    chosen: list[OutputFormat] = []
    for piece in text.split(","):
        name = piece.strip().lower()
        if not name:
            continue
        if name not in by_label:
            raise UsageError(
                f"unknown report format {piece.strip()!r} in --format; "
                f"use a comma-separated list of {', '.join(by_label)}"
            )
        if by_label[name] not in chosen:
            chosen.append(by_label[name])
    if not chosen:
        raise UsageError(f"--format names no format; use one or more of {', '.join(by_label)}")
    return chosen
