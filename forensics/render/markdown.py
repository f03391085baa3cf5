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


_SPAN = re.compile(r"`([^`\n]+)`")
_URL = re.compile(r"^https://[A-Za-z0-9._~:/?#@!$&'*+,;=%-]+$")


def prose(value: object, in_table: bool = False) -> Raw:
    """Our own sentences on one line: text escaped as ``escape`` does, except that a
    backticked span stays a code span (``alembic upgrade head``). A span's content cannot
    do anything in Markdown, so a backticked value from the repository is inert too. In a
    table cell a pipe inside a span is escaped, as GitHub splits cells on it even there."""
    text = re.sub(r"\s+", " ", str(value))
    out: list[str] = []
    pos = 0
    for match in _SPAN.finditer(text):
        out.append(escape(text[pos : match.start()]))
        span = match[1].replace("|", "\\|") if in_table else match[1]
        out.append(f"`{span}`")
        pos = match.end()
    out.append(escape(text[pos:]))
    return Raw("".join(out) or ("-" if in_table else ""))


def cell_prose(value: object) -> Raw:
    return prose(value, in_table=True)


def link(text: object, url: str) -> Raw:
    """``text`` (escaped unless already Raw) as a link to ``url``, our own https address
    (percent-encoded, no spaces or parentheses); without one, the text alone."""
    label = text if isinstance(text, Raw) else Raw(escape(text))
    if not url or not _URL.match(url) or "(" in url or ")" in url:
        return label
    return Raw(f"[{label}]({url})")


def cell(value: object) -> Raw:
    """Escaped text for a table cell; an empty value shows as a dash."""
    text = escape(value)
    return Raw(text if text else "-")


def inline(value: object) -> Raw:
    """Any text as one inline code span (a command to copy): delimited by more backticks
    than it holds, and padded when it starts or ends with one, as CommonMark asks."""
    text = re.sub(r"\s+", " ", str(value)).strip()
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    marks = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return Raw(f"{marks}{pad}{text}{pad}{marks}")


@cache
def _environment() -> jinja2.Environment:
    env = templating.environment(autoescape=False, finalize=_finalize)
    env.filters.update(
        code=code,
        fence=fence,
        cell=cell,
        raw=Raw,
        when=view.when,
        short=view.short,
        prose=prose,
        cell_prose=cell_prose,
        link=link,
        inline=inline,
    )
    return env


def _tidy(text: str) -> str:
    return without_controls(re.sub(r"\n{3,}", "\n\n", text).strip()) + "\n"


def render_markdown(report: Report) -> str:
    return _tidy(_environment().get_template("report.md.j2").render(v=view.build(report)))


def render_summary(report: Report) -> str:
    """The first screen alone (``--format summary``): small enough for a pull-request
    comment whatever the number of findings."""
    return _tidy(_environment().get_template("summary.md.j2").render(v=view.build(report)))
