"""The migration chain (``chain_svg``): a row of boxes per layer of the chain, styled by
their annotations, with arrows from parent to child and a legend of the marks drawn.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from forensics.model.report import ChainNode, EnvironmentSummary
from forensics.render import view
from forensics.render.charts.svg import t, text_width, tidy

_NODE_W, _NODE_H, _GAP_X, _GAP_Y = 184, 54, 18, 26


def _layers(nodes: Sequence[ChainNode]) -> dict[str, int]:
    """Longest distance from a root of the drawn chain (parents first, as given)."""
    depth: dict[str, int] = {}
    inside = {n.revision for n in nodes}
    for n in nodes:
        parents = [depth[p] for p in n.parents if p in inside and p in depth]
        depth[n.revision] = 1 + max(parents) if parents else 0
    return depth


def _node_style(node: ChainNode) -> tuple[str, str, str, str]:
    """Fill, stroke, stroke width and dash pattern from the annotations."""
    marks = set(node.annotations)
    fill = "#ffffff"
    if "applied" in marks:
        fill = "#eef8f0"
    if "modified" in marks:
        fill = "#fff1e5"
    stroke, width, dash = "#8c959f", "1.2", ""
    if "head" in marks:
        stroke, width = "#0969da", "2.5"
    if "production" in marks:
        stroke, width = "#1a7f37", "3"
    if "modified" in marks:
        stroke = "#bc4c00"
    if "broken" in marks:
        fill, stroke, width, dash = "#ffebe9", "#cf222e", "2.5", "5 3"
    return fill, stroke, width, dash


def chain_svg(environment: EnvironmentSummary) -> str:
    nodes = environment.chain
    depth = _layers(nodes)
    rows: dict[int, list[ChainNode]] = {}
    for n in nodes:
        rows.setdefault(depth[n.revision], []).append(n)
    widest = max((len(r) for r in rows.values()), default=1)
    width = max(widest * (_NODE_W + _GAP_X) + _GAP_X, 2 * _NODE_W + 3 * _GAP_X)
    legend, legend_h = _chain_legend(nodes, width, len(rows) * (_NODE_H + _GAP_Y) + 22)
    height = len(rows) * (_NODE_H + _GAP_Y) + 22 + legend_h
    where = _chain_places(rows, width)
    label = f"Migration chain of {environment.name}"
    # Several chains share one page: the arrow marker id must be unique per environment.
    arrow = "arrow-" + hashlib.sha1(environment.name.encode()).hexdigest()[:8]
    out = [
        f'<svg class="chart chain" role="img" '
        f'viewBox="0 0 {width} {height}" width="{width}" aria-label="{t(label)}" '
        # Narrow screens shrink the drawing, down to where its text stays legible; below
        # that its frame scrolls sideways, never the page.
        f'style="min-width: {round(min(width, 420) * 0.72)}px" '
        'font-family="system-ui, sans-serif">',
        f"<title>{t(label)}</title>",
        f'<defs><marker id="{arrow}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M0 0 L10 5 L0 10 Z" '
        'fill="#57606a"/></marker></defs>',
    ]
    out += _chain_edges(nodes, where, arrow)
    out += [_chain_node(n, *where[n.revision]) for n in nodes]
    out.append(legend)
    out.append("</svg>")
    return tidy("\n".join(out))


def _chain_places(rows: dict[int, list[ChainNode]], width: float) -> dict[str, tuple[float, float]]:
    """Each node's top left corner: a row per layer, each row centred."""
    where: dict[str, tuple[float, float]] = {}
    for level, members in rows.items():
        total = len(members) * _NODE_W + (len(members) - 1) * _GAP_X
        x0 = (width - total) / 2
        for i, n in enumerate(members):
            where[n.revision] = (x0 + i * (_NODE_W + _GAP_X), 20 + level * (_NODE_H + _GAP_Y))
    return where


def _chain_edges(
    nodes: Sequence[ChainNode], where: dict[str, tuple[float, float]], arrow: str
) -> list[str]:
    """An arrow from each parent to its child; a parent outside the drawn chain is a dashed
    stub with its name."""
    out = []
    for n in nodes:
        x, y = where[n.revision]
        for parent in n.parents:
            if parent in where:
                px, py = where[parent]
                out.append(
                    f'<line x1="{px + _NODE_W / 2}" y1="{py + _NODE_H}" x2="{x + _NODE_W / 2}" '
                    f'y2="{y - 2}" stroke="#57606a" stroke-width="1.4" marker-end="url(#{arrow})"/>'
                )
            else:
                out.append(
                    f'<line x1="{x + _NODE_W / 2}" y1="{y - 18}" x2="{x + _NODE_W / 2}" '
                    f'y2="{y}" stroke="#8c959f" stroke-dasharray="3 3"/>'
                    f'<text x="{x + _NODE_W / 2 + 6}" y="{y - 6}" font-size="10" fill="#57606a">'
                    f"{t(parent)} …</text>"
                )
    return out


def _chain_node(n: ChainNode, x: float, y: float) -> str:
    """One revision's box: its id, message and marks, styled by its annotations."""
    fill, stroke, stroke_width, dash = _node_style(n)
    marks = view.marks_of(n)
    dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
    tip = f"{n.revision} {n.message or ''} ({n.path})"
    return (
        f'<g class="node"><title>{t(tip)}</title>'
        f'<rect x="{x}" y="{y}" width="{_NODE_W}" height="{_NODE_H}" rx="6" fill="{fill}" '
        f'stroke="{stroke}" stroke-width="{stroke_width}"{dash_attr}/>'
        f'<text x="{x + 9}" y="{y + 18}" font-size="14" font-weight="700" '
        f'font-family="ui-monospace, Menlo, Consolas, monospace" fill="#24292f">'
        f"{t(n.revision)}</text>"
        f'<text x="{x + 9}" y="{y + 33}" font-size="12.5" fill="#57606a">'
        f"{t(view.one_line(n.message, 25))}</text>"
        f'<text x="{x + 9}" y="{y + 48}" font-size="11.5" font-weight="600" '
        f'fill="{stroke}">{t(" · ".join(marks))}</text></g>'
    )


_CHAIN_LEGEND = (
    ("applied", "#eef8f0", "#8c959f", "applied"),
    ("modified", "#fff1e5", "#bc4c00", "modified after applied"),
    ("production", "#ffffff", "#1a7f37", "production"),
    ("head", "#ffffff", "#0969da", "head"),
    ("broken", "#ffebe9", "#cf222e", "broken"),
)


def _chain_legend(nodes: Sequence[ChainNode], width: int, y: float) -> tuple[str, float]:
    """The marks the drawn nodes carry, wrapped to the drawing's width; and its height."""
    present = {a for n in nodes for a in n.annotations}
    items = [item for item in _CHAIN_LEGEND if item[0] in present]
    if not items:
        return "", 0
    out, x, base = ['<g class="legend">'], 10.0, y + 12
    for _, fill, stroke, text in items:
        advance = 30 + text_width(text, 12)
        if x > 10 and x + advance - 6 > width:
            x, base = 10.0, base + 20
        out.append(
            f'<rect x="{x}" y="{base - 10}" width="16" height="12" rx="3" fill="{fill}" '
            f'stroke="{stroke}" stroke-width="2"/><text x="{x + 22}" y="{base}" '
            f'font-size="12" fill="#24292f">{t(text)}</text>'
        )
        x += advance
    out.append("</g>")
    return "".join(out), base - y + 10
