"""The self-contained HTML incident report: ``templates/html.j2`` over the shared view.

Jinja2 autoescape is on for the whole template, so every value from the analysed repository
(messages, authors, paths, deploy messages) is escaped. Two things are inserted as markup:
the SVG charts, which ``charts.py`` builds with every text escaped, and our own prose (rule
explanations from the rule catalogue), which goes through the ``markdown`` package. The page
has inline CSS only: no script, no font, no image, no link to the network.
"""

from __future__ import annotations

from functools import cache

import jinja2
import markdown as md
from markupsafe import Markup

from forensics.model.report import Report
from forensics.render import charts, view


def prose(text: str) -> Markup:
    """Our own Markdown prose as HTML. Raw HTML inside it is escaped all the same."""
    html = md.markdown(text.replace("&", "&amp;").replace("<", "&lt;"), output_format="html")
    return Markup(html)


@cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("forensics.render", "templates"),
        autoescape=True,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters.update(prose=prose, when=view.when, short=view.short)
    return env


def render_html(report: Report) -> str:
    v = view.build(report)
    timeline = Markup(charts.timeline_svg(report))
    chains = {c.name: Markup(charts.chain_svg(c.summary)) for c in v.chains}
    page = _environment().get_template("html.j2").render(v=v, timeline=timeline, chains=chains)
    return page.strip() + "\n"
