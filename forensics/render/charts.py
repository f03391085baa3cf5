"""Inline SVG charts for the HTML report, built as plain strings (no library, no script).

``timeline_svg`` puts commits, bursts, deploys and failure windows on one time axis;
``chain_svg`` draws the annotated migration chain. The SVG is inlined in the HTML, so it
carries no ``xmlns`` (an inline ``<svg>`` needs none) and no external reference. All text is
XML-escaped here, because messages, authors and paths come from the analysed repository.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from html import escape

from forensics.model.commits import CommitRecord
from forensics.model.deploys import Deploy, DeployCategory
from forensics.model.metrics import WeekMetrics
from forensics.model.report import ChainNode, EnvironmentSummary, Report
from forensics.render import view

KIND_COLOURS: dict[str, tuple[str, str]] = {
    "parse-error": ("#000000", "made the file unparseable"),
    "metadata": ("#8250df", "rewired metadata"),
    "deleted": ("#953800", "deleted the file"),
    "code": ("#cf222e", "changed code"),
    "added": ("#1a7f37", "added a migration"),
    "cosmetic": ("#8c959f", "cosmetic edit"),
    "other": ("#54aeff", "no migration change"),
}
DEPLOY_COLOURS: dict[str, str] = {
    DeployCategory.LIVE.value: "#1a7f37",
    DeployCategory.SUPERSEDED.value: "#4ac26b",
    DeployCategory.FAILED.value: "#cf222e",
    DeployCategory.CANCELED.value: "#8c959f",
    DeployCategory.IN_PROGRESS.value: "#0969da",
    DeployCategory.UNKNOWN.value: "#6e7781",
}
_KIND_ORDER = tuple(KIND_COLOURS)
_STEPS = (
    timedelta(minutes=1),
    timedelta(minutes=2),
    timedelta(minutes=5),
    timedelta(minutes=10),
    timedelta(minutes=15),
    timedelta(minutes=30),
    timedelta(hours=1),
    timedelta(hours=2),
    timedelta(hours=3),
    timedelta(hours=6),
    timedelta(hours=12),
    timedelta(days=1),
    timedelta(days=2),
    timedelta(days=7),
    timedelta(days=14),
    timedelta(days=30),
)


def _t(text: object) -> str:
    return escape(str(text), quote=True)


def _kind(report: Report, sha: str) -> str:
    kinds = view.change_kinds(report, sha)
    for kind in _KIND_ORDER:
        if kind in kinds:
            return kind
    return "other"


class _Axis:
    def __init__(self, start: datetime, end: datetime, left: float, width: float) -> None:
        if end <= start:
            start, end = start - timedelta(minutes=30), end + timedelta(minutes=30)
        self.start, self.end, self.left, self.width = start, end, left, width

    def x(self, when: datetime) -> float:
        share = (when - self.start) / (self.end - self.start)
        return round(self.left + share * self.width, 1)

    def inside(self, when: datetime) -> bool:
        return self.start <= when <= self.end

    def ticks(self) -> list[tuple[float, str]]:
        total = self.end - self.start
        step = next((s for s in _STEPS if total / s <= 10), _STEPS[-1])
        epoch = datetime(2000, 1, 1, tzinfo=UTC)
        first = epoch + step * -(-(self.start - epoch) // step)
        fmt = "%H:%M" if total <= timedelta(days=1) else "%m-%d %H:%M"
        if step >= timedelta(days=1):
            fmt = "%Y-%m-%d"
        found = []
        tick = first
        while tick <= self.end:
            found.append((self.x(tick), tick.astimezone(UTC).strftime(fmt)))
            tick += step
        return found


def _extent(report: Report, commits: Sequence[CommitRecord]) -> tuple[datetime, datetime]:
    """The stretch of time worth drawing: the bursts and failure windows when there are any
    (so that a 20-minute burst is not a sliver on a week-long axis), else every event."""
    focus: list[datetime] = []
    for b in report.bursts:
        focus += [b.start, b.end]
    for w in report.failure_windows:
        focus += [w.start, w.end]
        if w.open:
            focus.append(report.until)
    if not focus:
        focus = [c.committed_at for c in commits] + [d.created_at for d in report.deploys]
    if not focus:
        return report.until - timedelta(hours=1), report.until
    start, end = min(focus), max(focus)
    pad = max((end - start) * 0.08, timedelta(minutes=3))
    return start - pad, end + pad


def timeline_svg(report: Report) -> str:
    width, left, right = 1000, 96, 24
    lane_c, lane_d, axis_y = (34, 116), (136, 186), 200
    commits = view.timeline_commits(report)
    start, end = _extent(report, commits)
    axis = _Axis(start, end, left, width - left - right)
    out: list[str] = []
    label = f"Timeline from {view.when(start)} to {view.when(end)}"
    height = 300
    out.append(
        f'<svg class="chart timeline" role="img" '
        f'viewBox="0 0 {width} {height}" width="100%" aria-label="{_t(label)}">'
    )
    out.append(f"<title>{_t(label)}</title>")
    out.append(f'<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>')
    for w in report.failure_windows:
        w_end = report.until if w.open else w.end
        if w_end < start or w.start > end:
            continue
        x1, x2 = axis.x(max(w.start, start)), axis.x(min(w_end, end))
        state = "open" if w.open else f"recovered by {w.recovered_by}"
        out.append(
            f'<rect class="window" x="{x1}" y="{lane_c[0] - 14}" width="{max(x2 - x1, 3)}" '
            f'height="{lane_d[1] - lane_c[0] + 14}" fill="#cf222e" fill-opacity="0.08" '
            f'stroke="#cf222e" stroke-opacity="0.35" stroke-dasharray="4 3">'
            f"<title>{_t(f'failure window: {w.count} failed deploy(s), {state}')}</title></rect>"
        )
        out.append(
            f'<text x="{x1 + 4}" y="{lane_c[0] - 3}" font-size="11" fill="#a40e26">'
            f"failure window ({w.count} failed{', open' if w.open else ''})</text>"
        )
    for b in report.bursts:
        if b.end < start or b.start > end:
            continue
        x1, x2 = axis.x(max(b.start, start)), axis.x(min(b.end, end))
        tip = f"burst: {len(b.commits)} commit(s) by {', '.join(b.authors)}"
        out.append(
            f'<rect class="burst" x="{x1 - 4}" y="{lane_c[0] + 6}" width="{max(x2 - x1, 2) + 8}" '
            f'height="{lane_c[1] - lane_c[0] - 6}" rx="6" fill="#fb8f44" fill-opacity="0.22" '
            f'stroke="#bc4c00" stroke-opacity="0.6"><title>{_t(tip)}</title></rect>'
        )
    for lane, name in ((lane_c, "commits"), (lane_d, "deploys")):
        mid = (lane[0] + lane[1]) / 2
        out.append(
            f'<text x="8" y="{mid + 4}" font-size="12" font-weight="600" fill="#24292f">'
            f"{name}</text>"
        )
        out.append(
            f'<line x1="{left}" y1="{mid}" x2="{width - right}" y2="{mid}" stroke="#d0d7de"/>'
        )
    before = after = 0
    for i, c in enumerate(commits):
        if not axis.inside(c.committed_at):
            before += c.committed_at < start
            after += c.committed_at > end
            continue
        kind = _kind(report, c.sha)
        colour = KIND_COLOURS[kind][0]
        y = lane_c[0] + 22 + (i % 4) * 16
        tip = f"{c.short} {view.when(c.committed_at)} {c.author.name}: {c.subject} [{kind}]"
        out.append(
            f'<circle class="commit" cx="{axis.x(c.committed_at)}" cy="{y}" r="5.5" '
            f'fill="{colour}" stroke="#ffffff" stroke-width="1.2"><title>{_t(tip)}</title>'
            "</circle>"
        )
    shown_deploys = sorted(report.deploys, key=lambda d: (d.created_at, d.id))
    for i, d in enumerate(shown_deploys):
        if not axis.inside(d.created_at):
            continue
        x = axis.x(d.created_at)
        y = lane_d[0] + 16 + (i % 2) * 18
        colour = DEPLOY_COLOURS.get(d.category.value, "#6e7781")
        tip = f"{d.id} {d.status} {view.when(d.created_at)} commit {view.short(d.commit)}"
        out.append(
            f'<path class="deploy" d="M{x} {y - 7} L{x + 6} {y} L{x} {y + 7} L{x - 6} {y} Z" '
            f'fill="{colour}"><title>{_t(tip)}</title></path>'
        )
    if axis.inside(report.until):
        x = axis.x(report.until)
        out.append(
            f'<line x1="{x}" y1="{lane_c[0] - 14}" x2="{x}" y2="{axis_y}" stroke="#0969da" '
            f'stroke-dasharray="2 3"/><text x="{x - 4}" y="{lane_c[0] - 18}" font-size="10.5" '
            f'text-anchor="end" fill="#0969da">report time {_t(view.when(report.until))}</text>'
        )
    out.append(_edge_notes(report, axis, lane_d, commits))
    out.append(
        f'<line x1="{left}" y1="{axis_y}" x2="{width - right}" y2="{axis_y}" stroke="#57606a"/>'
    )
    for x, text in axis.ticks():
        out.append(
            f'<line x1="{x}" y1="{axis_y}" x2="{x}" y2="{axis_y + 5}" stroke="#57606a"/>'
            f'<text x="{x}" y="{axis_y + 18}" font-size="11" text-anchor="middle" '
            f'fill="#57606a">{_t(text)}</text>'
        )
    out.append(_timeline_legend(238, width))
    out.append("</svg>")
    return "\n".join(out)


def _edge_notes(
    report: Report, axis: _Axis, lane: tuple[int, int], commits: Sequence[CommitRecord]
) -> str:
    """Say what lies outside the drawn stretch, naming the last good deploy before it."""
    notes = []
    earlier: list[Deploy] = [d for d in report.deploys if d.created_at < axis.start]
    older_commits = sum(1 for c in commits if c.committed_at < axis.start)
    good = [d for d in earlier if d.category.succeeded]
    if earlier or older_commits:
        text = f"« {len(earlier)} earlier deploy(s), {older_commits} earlier commit(s)"
        if good:
            last = max(good, key=lambda d: (d.created_at, d.id))
            text = f"« last good: {last.id} ({view.when(last.created_at)}); " + text[2:]
        notes.append(
            f'<text x="{axis.left}" y="{lane[1] + 4}" font-size="10.5" fill="#1a7f37">'
            f"{_t(text)}</text>"
        )
    later = sum(1 for d in report.deploys if d.created_at > axis.end)
    later += sum(1 for c in commits if c.committed_at > axis.end)
    if later:
        notes.append(
            f'<text x="{axis.left + axis.width}" y="{lane[1] + 4}" font-size="10.5" '
            f'text-anchor="end" fill="#57606a">{later} later event(s) »</text>'
        )
    return "".join(notes)


def _legend_item(x: float, y: float, shape: str, colour: str, text: str) -> tuple[str, float]:
    if shape == "circle":
        mark = f'<circle cx="{x + 5}" cy="{y - 4}" r="5" fill="{colour}"/>'
    elif shape == "diamond":
        mark = (
            f'<path d="M{x + 5} {y - 10} L{x + 11} {y - 4} L{x + 5} {y + 2} '
            f'L{x - 1} {y - 4} Z" fill="{colour}"/>'
        )
    else:
        mark = (
            f'<rect x="{x}" y="{y - 10}" width="14" height="12" fill="{colour}" '
            'fill-opacity="0.3" stroke="#57606a" stroke-opacity="0.4"/>'
        )
    item = f'{mark}<text x="{x + 18}" y="{y}" font-size="11" fill="#24292f">{_t(text)}</text>'
    return item, 26 + len(text) * 6.2


def _timeline_legend(y: float, width: int) -> str:
    items = [("circle", colour, f"commit: {text}") for colour, text in KIND_COLOURS.values()]
    items += [
        ("diamond", c, f"deploy: {name.replace('_', ' ')}") for name, c in DEPLOY_COLOURS.items()
    ]
    items += [("band", "#fb8f44", "burst"), ("band", "#cf222e", "failure window")]
    out, x = [], 8.0
    for shape, colour, text in items:
        item, advance = _legend_item(x, y, shape, colour, text)
        if x + advance > width - 8:
            x, y = 8.0, y + 20
            item, advance = _legend_item(x, y, shape, colour, text)
        out.append(item)
        x += advance
    return '<g class="legend">' + "".join(out) + "</g>"


# -- chain ----------------------------------------------------------------------------------
_NODE_W, _NODE_H, _GAP_X, _GAP_Y = 230, 50, 26, 30


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
    width = max(widest * (_NODE_W + _GAP_X) + _GAP_X, 560)
    legend_y = len(rows) * (_NODE_H + _GAP_Y) + 30
    height = legend_y + 30
    where: dict[str, tuple[float, float]] = {}
    for level, members in rows.items():
        total = len(members) * _NODE_W + (len(members) - 1) * _GAP_X
        x0 = (width - total) / 2
        for i, n in enumerate(members):
            where[n.revision] = (x0 + i * (_NODE_W + _GAP_X), 20 + level * (_NODE_H + _GAP_Y))
    label = f"Migration chain of {environment.name}"
    # Several chains share one page: the arrow marker id must be unique per environment.
    arrow = "arrow-" + hashlib.sha1(environment.name.encode()).hexdigest()[:8]
    out = [
        f'<svg class="chart chain" role="img" '
        f'viewBox="0 0 {width} {height}" width="{width}" aria-label="{_t(label)}">',
        f"<title>{_t(label)}</title>",
        f'<defs><marker id="{arrow}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M0 0 L10 5 L0 10 Z" '
        'fill="#57606a"/></marker></defs>',
    ]
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
                    f"{_t(parent)} …</text>"
                )
    for n in nodes:
        x, y = where[n.revision]
        fill, stroke, stroke_width, dash = _node_style(n)
        marks = view.marks_of(n)
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        tip = f"{n.revision} {n.message or ''} ({n.path})"
        out.append(
            f'<g class="node"><title>{_t(tip)}</title>'
            f'<rect x="{x}" y="{y}" width="{_NODE_W}" height="{_NODE_H}" rx="6" fill="{fill}" '
            f'stroke="{stroke}" stroke-width="{stroke_width}"{dash_attr}/>'
            f'<text x="{x + 10}" y="{y + 17}" font-size="12.5" font-weight="700" '
            f'font-family="ui-monospace, Menlo, Consolas, monospace" fill="#24292f">'
            f"{_t(n.revision)}</text>"
            f'<text x="{x + 10}" y="{y + 31}" font-size="11" fill="#57606a">'
            f"{_t(view.one_line(n.message, 34))}</text>"
            f'<text x="{x + 10}" y="{y + 44}" font-size="10" font-weight="600" '
            f'fill="{stroke}">{_t(" · ".join(marks))}</text></g>'
        )
    legend = [
        ("#eef8f0", "#8c959f", "applied"),
        ("#fff1e5", "#bc4c00", "modified after applied"),
        ("#ffffff", "#1a7f37", "production"),
        ("#ffffff", "#0969da", "head"),
        ("#ffebe9", "#cf222e", "broken"),
    ]
    x = 10.0
    for fill, stroke, text in legend:
        out.append(
            f'<rect x="{x}" y="{legend_y - 10}" width="16" height="12" rx="3" fill="{fill}" '
            f'stroke="{stroke}" stroke-width="2"/><text x="{x + 22}" y="{legend_y}" '
            f'font-size="11" fill="#24292f">{_t(text)}</text>'
        )
        x += 30 + len(text) * 6.3
    out.append("</svg>")
    return "\n".join(out)


def trend_svg(rows: Sequence[WeekMetrics], label: str = "Delivery metrics by week") -> str:
    """A small chart of weekly figures: a bar per week for the deploys (the failed part in
    red) on the left scale, and the median lead time as a line on the right scale."""
    width, height, left, right, top, bottom = 640, 190, 40, 48, 16, 34
    inner_w, inner_h = width - left - right, height - top - bottom
    count = max(1, len(rows))
    step = inner_w / count
    most = max([r.deploys for r in rows] + [1])
    lead = [r.lead_time_h_p50 for r in rows]
    longest = max([v for v in lead if v is not None] + [1.0])
    out = [
        f'<svg class="chart trend" role="img" viewBox="0 0 {width} {height}" width="{width}" '
        f'aria-label="{_t(label)}">',
        f"<title>{_t(label)}</title>",
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>',
        f'<line x1="{left}" y1="{top + inner_h}" x2="{left + inner_w}" y2="{top + inner_h}" '
        'stroke="#8c959f"/>',
        f'<text x="{left - 6}" y="{top + 4}" font-size="10" text-anchor="end" '
        f'fill="#57606a">{most}</text>',
        f'<text x="{left - 6}" y="{top + inner_h}" font-size="10" text-anchor="end" '
        'fill="#57606a">0</text>',
        f'<text x="{left + inner_w + 6}" y="{top + 4}" font-size="10" '
        f'fill="#0969da">{longest:.0f} h</text>',
    ]
    points = []
    for i, row in enumerate(rows):
        x = left + i * step + step * 0.2
        bar_w = step * 0.6
        total_h = inner_h * row.deploys / most
        failed_h = inner_h * row.failed / most
        base = top + inner_h
        rate = "" if row.change_failure_rate is None else f", {row.change_failure_rate:.0%} failed"
        tip = f"{row.week}: {row.deploys} deploy(s), {row.failed} failed{rate}"
        out.append(
            f'<rect x="{x:.1f}" y="{base - total_h:.1f}" width="{bar_w:.1f}" '
            f'height="{total_h - failed_h:.1f}" fill="#4ac26b"><title>{_t(tip)}</title></rect>'
        )
        if failed_h:
            out.append(
                f'<rect x="{x:.1f}" y="{base - failed_h:.1f}" width="{bar_w:.1f}" '
                f'height="{failed_h:.1f}" fill="#cf222e"><title>{_t(tip)}</title></rect>'
            )
        out.append(
            f'<text x="{x + bar_w / 2:.1f}" y="{base + 14}" font-size="10" text-anchor="middle" '
            f'fill="#57606a">{_t(row.week[-3:])}</text>'
        )
        if row.lead_time_h_p50 is not None:
            y = base - inner_h * row.lead_time_h_p50 / longest
            points.append((x + bar_w / 2, y, f"{row.week}: lead time {row.lead_time_h_p50:g} h"))
    if len(points) > 1:
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y, _tip in points)
        out.append(f'<polyline points="{path}" fill="none" stroke="#0969da" stroke-width="2"/>')
    for x, y, tip in points:
        out.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="#0969da"><title>{_t(tip)}</title>'
            "</circle>"
        )
    legend_y = height - 6
    out += [
        f'<rect x="{left}" y="{legend_y - 8}" width="10" height="8" fill="#4ac26b"/>',
        f'<text x="{left + 14}" y="{legend_y}" font-size="10" fill="#1f2328">deploys</text>',
        f'<rect x="{left + 70}" y="{legend_y - 8}" width="10" height="8" fill="#cf222e"/>',
        f'<text x="{left + 84}" y="{legend_y}" font-size="10" fill="#1f2328">failed</text>',
        f'<line x1="{left + 130}" y1="{legend_y - 4}" x2="{left + 146}" y2="{legend_y - 4}" '
        'stroke="#0969da" stroke-width="2"/>',
        f'<text x="{left + 150}" y="{legend_y}" font-size="10" fill="#1f2328">'
        "median lead time (right scale)</text>",
        "</svg>",
    ]
    return "".join(out)
