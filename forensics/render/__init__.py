"""Renderers of the final ``Report``: the output formats and how to choose them.

Each format maps to a function ``Report -> str`` and to a file suffix. Renderers see only
the model (import-linter enforces it), never sources or analysis. ``OutputFormat.render``
first passes every string of the report through the format's text filter: valid Unicode for
JSON and SARIF (which escape control characters), and for Markdown and HTML also without
escape sequences or control characters, taken out before the values are escaped for the
format. So every output encodes as UTF-8.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum

from forensics.errors import UsageError
from forensics.model.report import Report
from forensics.model.text import clean, map_text, without_controls
from forensics.render.html import render_html
from forensics.render.json import render_json
from forensics.render.markdown import render_markdown
from forensics.render.sarif import render_sarif

Renderer = Callable[[Report], str]


class OutputFormat(Enum):
    MD = ("md", ".md", render_markdown, without_controls)
    HTML = ("html", ".html", render_html, without_controls)
    JSON = ("json", ".json", render_json, clean)
    SARIF = ("sarif", ".sarif", render_sarif, clean)

    def __init__(
        self, label: str, suffix: str, renderer: Renderer, text_filter: Callable[[str], str]
    ) -> None:
        self.label = label
        self.suffix = suffix
        self.renderer = renderer
        self.text_filter = text_filter

    def render(self, report: Report) -> str:
        return self.renderer(map_text(report, self.text_filter))


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
