"""Renderers of the final ``Report``: the output formats and how to choose them.

Each format maps to a function ``Report -> str`` and to a file suffix. Renderers see only
the model (import-linter enforces it), never sources or analysis. ``OutputFormat.render``
gives them a report of valid Unicode; Markdown and HTML leave out control characters, JSON
escapes them (``json.dumps``), so every output encodes as UTF-8.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum

from forensics.errors import UsageError
from forensics.model.report import Report
from forensics.model.text import clean_tree
from forensics.render.html import render_html
from forensics.render.json import render_json
from forensics.render.markdown import render_markdown
from forensics.render.sarif import render_sarif

Renderer = Callable[[Report], str]


class OutputFormat(Enum):
    MD = ("md", ".md", render_markdown)
    HTML = ("html", ".html", render_html)
    JSON = ("json", ".json", render_json)
    SARIF = ("sarif", ".sarif", render_sarif)

    def __init__(self, label: str, suffix: str, renderer: Renderer) -> None:
        self.label = label
        self.suffix = suffix
        self.renderer = renderer

    def render(self, report: Report) -> str:
        # The pipeline's Report is valid Unicode already; one built elsewhere may not be.
        return self.renderer(clean_tree(report))


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
