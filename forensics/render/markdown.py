"""The Markdown incident report: ``templates/report.md.j2`` over the shared view.

Every ``{{ ... }}`` output is Markdown-escaped by the environment's ``finalize`` hook, so that
a template cannot forget to escape a commit message, an author or a path: pipes, backticks,
emphasis and ``<``/``>``/``&`` come out as inert text. Only values wrapped in :class:`Raw`
(built here, from our own text or from text already made safe) pass through unchanged.
"""

from __future__ import annotations

import re
from functools import cache, lru_cache
from typing import Any

import jinja2

from forensics.model.report import Report
from forensics.model.text import without_controls
from forensics.render import templating, view

_SPACES = re.compile(r"\s+")
_PUNCTUATION = "\\`*_[]|~"
_LEADING = re.compile(r"^(\s*)([#+=-])|^(\s*\d+)([.)])")
_PLAIN_TOKEN = re.compile(r"^[A-Za-z0-9._/:@+-]+$")


class Raw(str):
    """Text that is already valid, safe Markdown."""


def escape(value: object) -> str:
    """Inert Markdown text on one line: HTML-ish characters as entities, Markdown
    punctuation backslash-escaped, whitespace (newlines too) collapsed."""
    return _escape(str(value))


# A report escapes the same SHAs, paths, authors and dates many times over.
@lru_cache(maxsize=1 << 16)
def _escape(text: str) -> str:
    text = _SPACES.sub(" ", text)
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    for mark in _PUNCTUATION:  # the backslash first: those added later stay single
        if mark in text:
            text = text.replace(mark, f"\\{mark}")
    # A value at the start of a line must not open a heading, list, rule or setext line.
    return _LEADING.sub(lambda m: f"{m[1]}\\{m[2]}" if m[2] else f"{m[3]}\\{m[4]}", text)


def _finalize(value: Any) -> str:
    if isinstance(value, Raw):
        return value
    if value is None:
        return ""
    return escape(value)


def code(value: object) -> Raw:
    """An inline code span for identifiers (SHAs, revisions, rule ids); anything else is
    escaped text, because Markdown cannot escape inside a code span."""
    text = str(value)
    if text and _PLAIN_TOKEN.match(text):
        return Raw(f"`{text}`")
    return Raw(escape(text))


def fence(value: object, lang: str = "") -> Raw:
    """A fenced block longer than any run of backticks inside, so it cannot be closed early."""
    text = str(value).rstrip("\n")
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    marks = "`" * max(3, longest + 1)
    return Raw(f"{marks}{lang}\n{text}\n{marks}")


def cell(value: object) -> Raw:
    """Escaped text for a table cell; an empty value shows as a dash."""
    text = escape(value)
    return Raw(text if text else "-")


@cache
def _environment() -> jinja2.Environment:
    env = templating.environment(autoescape=False, finalize=_finalize)
    env.filters.update(code=code, fence=fence, cell=cell, raw=Raw, when=view.when, short=view.short)
    return env


def render_markdown(report: Report) -> str:
    text = _environment().get_template("report.md.j2").render(v=view.build(report))
    return without_controls(re.sub(r"\n{3,}", "\n\n", text).strip()) + "\n"
