"""render_html: self-contained, escaped, with the same sections and inline SVG charts."""

from __future__ import annotations

import re
from dataclasses import replace
from html.parser import HTMLParser

from forensics.model.report import Report
from forensics.render.html import prose, render_html
from forensics.render.view import SECTIONS
from tests.render.golden import check_golden


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.h2: list[str] = []
        self._in_h2 = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_h2 = tag == "h2"

    def handle_endtag(self, tag: str) -> None:
        self._in_h2 = False if tag == "h2" else self._in_h2

    def handle_data(self, data: str) -> None:
        if self._in_h2:
            self.h2.append(data.strip())


def _parse(text: str) -> _Collector:
    parser = _Collector()
    parser.feed(text)
    return parser


def test_every_section_heading(report: Report) -> None:
    page = _parse(render_html(report))
    assert page.h2[:10] == [title for _, title in SECTIONS]
    ids = {attrs.get("id") for tag, attrs in page.tags if tag == "section"}
    assert {sid for sid, _ in SECTIONS} <= ids


def test_no_script_and_no_network_reference(report: Report) -> None:
    text = render_html(report)
    page = _parse(text)
    assert not [t for t, _ in page.tags if t in ("script", "iframe", "img", "link", "object")]
    for _, attrs in page.tags:
        for name in ("src", "href", "action", "srcset", "xlink:href"):
            value = attrs.get(name)
            assert value is None or value.startswith("#"), (name, value)
        assert not any(name.startswith("on") for name in attrs)
    for url in re.findall(r"url\(([^)]*)\)", text):
        assert url.startswith("#"), url
    assert "@import" not in text


def test_untrusted_text_is_escaped(report: Report) -> None:
    text = render_html(report)
    assert "<script" not in text.lower()
    assert "&lt;script&gt;document.title=&#39;pwned&#39;" in text
    assert "**bold** | pipe `tick`" in text  # Markdown in a message is shown, not rendered
    assert "<b>x</b>" not in text and "Add document AI &lt;b&gt;x&lt;/b&gt;" in text


def test_inline_svg_charts(report: Report) -> None:
    page = _parse(render_html(report))
    svgs = [attrs.get("class") for tag, attrs in page.tags if tag == "svg"]
    assert "chart timeline" in svgs and "chart chain" in svgs
    assert sum(1 for tag, _ in page.tags if tag == "circle") >= 8


def test_rule_prose_goes_through_markdown(report: Report) -> None:
    text = render_html(report)
    assert "<code>alembic upgrade head</code>" in text
    assert str(prose("a <b> & `c`")) == "<p>a &lt;b&gt; &amp; <code>c</code></p>"


def test_print_styles_and_deterministic_golden(report: Report) -> None:
    text = render_html(report)
    assert "@media print" in text
    assert text == render_html(report)
    assert render_html(replace(report, generated_at=report.generated_at.replace(hour=9))) != text
    check_golden("report.html", text)


def test_the_first_screen_shows_the_status_word_and_the_plan(report: Report) -> None:
    from forensics.render.html import sentences

    page = render_html(report)
    head = page[: page.index('<section id="production">')]
    assert '<span class="status status-blocked" id="status">BLOCKED</span>' in head
    assert "<strong>Do this now</strong>" in head and '<ol class="plan">' in head
    assert "<code>backend/alembic/versions/774225e563ca_add_document_ai.py</code>" in head
    assert str(sentences("run `<b>x</b>` & <i>go</i>")) == (
        "run <code>&lt;b&gt;x&lt;/b&gt;</code> &amp; &lt;i&gt;go&lt;/i&gt;"
    )
