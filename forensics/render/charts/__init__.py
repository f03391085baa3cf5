"""Inline SVG charts for the HTML report, built as plain strings (no library, no script).

``timeline_svg`` draws the incident: the failure window and the edits and graph breaks since
the last good deploy before it, on one time axis, with its key moments labelled (applied,
last good deploy, first failure, graph broken, fix, recovery or still failing) and a thin
strip of the whole analysed window under it. Its legend lists only what it draws. It comes
in two layouts, ``WIDE`` for screens and paper and ``COMPACT`` for phones; the page picks
one with a CSS media query. ``chain_svg`` draws the annotated migration chain, and
``trend_svg`` the weekly delivery metrics.

The SVG is inlined in the HTML, so it carries no ``xmlns`` (an inline ``<svg>`` needs none)
and no external reference. All text is XML-escaped, because messages, authors and paths
come from the analysed repository.

One module per chart: ``timeline`` (with the key moments it labels in ``moments``),
``chain`` and ``trend``; ``svg`` holds what they share (escaping, the time axis, the label
placer, the legend).
"""

from __future__ import annotations

from forensics.render.charts.chain import chain_svg
from forensics.render.charts.svg import Labels, Layout
from forensics.render.charts.timeline import (
    COMPACT,
    DEPLOY_COLOURS,
    KIND_COLOURS,
    WIDE,
    timeline_svg,
)
from forensics.render.charts.trend import trend_svg

__all__ = [
    "COMPACT",
    "DEPLOY_COLOURS",
    "KIND_COLOURS",
    "WIDE",
    "Labels",
    "Layout",
    "chain_svg",
    "timeline_svg",
    "trend_svg",
]
