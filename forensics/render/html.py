"""The self-contained HTML incident report: ``templates/html.j2`` over the shared view.

Jinja2 autoescape is on for the whole template, so every value from the analysed repository
(messages, authors, paths, deploy messages) is escaped. Two things are inserted as markup:
the SVG charts, which the ``charts`` package builds with every text escaped, and our own
prose (rule explanations from the rule catalogue), which goes through the ``markdown``
package. The page has inline CSS only: no script, no font, no image, no link to the network.
"""

from __future__ import annotations

from functools import cache

import jinja2
import markdown as md
from markupsafe import Markup, escape

from forensics.model.report import Report
from forensics.model.text import without_controls
from forensics.render import charts, templating, view


@cache
def _converter() -> md.Markdown:
    # One converter for the whole report: building one compiles its patterns.
    return md.Markdown(output_format="html")


def prose(text: str) -> Markup:
    """Our own Markdown prose as HTML. Raw HTML inside it is escaped all the same."""
    escaped = text.replace("&", "&amp;").replace("<", "&lt;")
    return Markup(_converter().reset().convert(escaped))


def sentences(text: str) -> Markup:
    """Our own sentences whose backticks mark code spans (``model.incidents.literal``): each
    span as ``<code>``, everything escaped, values from the repository included."""
    parts = str(text).split("`")
    if len(parts) % 2 == 0:  # an unbalanced backtick: no span at all
        return escape(text)
    return Markup("").join(
        Markup("<code>{}</code>").format(part) if i % 2 else escape(part)
        for i, part in enumerate(parts)
    )


def link(text: object, url: str) -> Markup:
    """``text`` (escaped unless Markup) as a link to ``url``; without one, the text alone."""
    if not url or not url.startswith("https://"):
        return escape(text)
    return Markup('<a href="{}">{}</a>').format(url, text)


@cache
def _environment() -> jinja2.Environment:
    env = templating.environment(autoescape=True)
    env.filters.update(
        prose=prose, sentences=sentences, link=link, when=view.when, short=view.short
    )
    return env


def render_html(report: Report) -> str:
    v = view.build(report)
    timeline = {
        layout.name: Markup(charts.timeline_svg(report, layout))
        for layout in (charts.WIDE, charts.COMPACT)
    }
    chains = {c.name: Markup(charts.chain_svg(c.summary)) for c in v.chains}
    trend = Markup(charts.trend_svg(report.metrics)) if v.metrics else Markup("")
    page = (
        _environment()
        .get_template("html.j2")
        .render(v=v, timeline=timeline, chains=chains, trend=trend)
    )
    return without_controls(page.strip()) + "\n"
