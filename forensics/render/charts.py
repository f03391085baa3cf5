"""Inline SVG charts for the HTML report, built as plain strings (no library, no script).

``timeline_svg`` draws the incident: the failure window and the edits and graph breaks since
the last good deploy before it, on one time axis, with its key moments labelled (applied,
last good deploy, first failure, graph broken, fix, recovery or still failing) and a thin
strip of the whole analysed window under it. Its legend lists only what it draws. It comes
in two layouts, ``WIDE`` for screens and paper and ``COMPACT`` for phones; the page picks
one with a CSS media query. ``chain_svg`` draws the annotated migration chain.

The SVG is inlined in the HTML, so it carries no ``xmlns`` (an inline ``<svg>`` needs none)
and no external reference. All text is XML-escaped here, because messages, authors and paths
come from the analysed repository.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from html import escape

from forensics.model.commits import CommitRecord
from forensics.model.deploys import Deploy, DeployCategory, FailureWindow
from forensics.model.metrics import WeekMetrics
from forensics.model.report import ChainNode, EnvironmentSummary, Report
from forensics.model.rules import RuleId
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
_RED, _DARK_RED, _GREEN, _BLUE = "#cf222e", "#82071e", "#1a7f37", "#0969da"
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


_ATTRIBUTE = re.compile(r'="([^"]*)"')
_LONG_NUMBER = re.compile(r"\d+\.\d{3,}")


def _tidy(svg: str) -> str:
    """Coordinates with one decimal: float sums leave ``236.79999999999998`` otherwise.
    Only attribute values are touched, never text."""

    def number(m: re.Match[str]) -> str:
        return f"{float(m.group()):.1f}"

    return _ATTRIBUTE.sub(lambda m: '="' + _LONG_NUMBER.sub(number, m.group(1)) + '"', svg)


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

    @property
    def right(self) -> float:
        return self.left + self.width

    def x(self, when: datetime) -> float:
        share = (when - self.start) / (self.end - self.start)
        return round(self.left + share * self.width, 1)

    def inside(self, when: datetime) -> bool:
        return self.start <= when <= self.end

    def ticks(self, most: int) -> list[tuple[float, str]]:
        total = self.end - self.start
        step = next((s for s in _STEPS if total / s <= most), _STEPS[-1])
        epoch = datetime(2000, 1, 1, tzinfo=UTC)
        first = epoch + step * -(-(self.start - epoch) // step)
        fmt = "%H:%M" if total <= timedelta(days=1) else "%m-%d %H:%M"
        if step >= timedelta(days=1):
            fmt = "%Y-%m-%d" if most > 5 else "%m-%d"
        found = []
        tick = first
        while tick <= self.end:
            found.append((self.x(tick), tick.astimezone(UTC).strftime(fmt)))
            tick += step
        return found


@dataclass(frozen=True)
class _Layout:
    """One drawing of the timeline: the wide one for screens and paper, the compact one
    for phones (the page shows one or the other with a CSS media query, so no script)."""

    name: str
    width: int
    left: float  # where the time axis starts; the wide layout names its lanes left of it
    right: float
    font: float
    ticks: int
    label_rows: int


WIDE = _Layout("wide", 1000, 92, 18, 14, 10, 3)
COMPACT = _Layout("compact", 380, 8, 8, 14, 4, 4)


def _text_width(text: str, size: float, bold: bool = False) -> float:
    """A generous estimate, so that labels placed apart stay apart in any sans-serif font."""
    return len(text) * size * (0.64 if bold else 0.6)


@dataclass(frozen=True)
class _Moment:
    """A key moment of the incident, labelled on the chart."""

    at: datetime
    kind: str
    label: str
    colour: str
    tip: str


@dataclass
class _Label:
    row: int
    x0: float
    x1: float
    line_x: float | None


class _Labels:
    """Places labels in rows without overlap. Row 0 is the nearest to what they point at; a
    label's leader line crosses the rows between, so no label may sit on another's line.

    ``solve`` tries every placement (row, side, full or short text) of every label, depth
    first with a bound, so that one early label does not push a later one off the chart;
    there are a handful of labels, and a cap on the search keeps it small regardless.
    """

    def __init__(self, rows: int, low: float, high: float, size: float) -> None:
        self.rows, self.low, self.high, self.size = rows, low, high, size
        self.placed: list[_Label] = []

    def _free(self, label: _Label, placed: Sequence[_Label]) -> bool:
        gap = self.size * 0.5
        for p in placed:
            if p.row == label.row and label.x0 < p.x1 + gap and p.x0 < label.x1 + gap:
                return False
            if (
                p.row < label.row
                and label.line_x is not None
                and p.x0 - 3 <= label.line_x <= p.x1 + 3
            ):
                return False
            if (
                p.row > label.row
                and p.line_x is not None
                and label.x0 - 3 <= p.line_x <= label.x1 + 3
            ):
                return False
        return True

    def _options(
        self, x: float, texts: Sequence[str], line: bool
    ) -> list[tuple[int, _Label, str, str]]:
        """(cost, label, anchor, text), cheapest first: low rows, full text, right of the line."""
        found = []
        for shortened, text in enumerate(texts):
            width = _text_width(text, self.size, bold=True)
            for row in range(self.rows):
                for side, anchor in enumerate(("start", "end")):
                    x0 = x + 3 if anchor == "start" else x - 3 - width
                    if self.low <= x0 and x0 + width <= self.high:
                        label = _Label(row, x0, x0 + width, x if line else None)
                        found.append((row * 2 + side + shortened * 10, label, anchor, text))
        return sorted(found, key=lambda o: o[0])

    def solve(
        self, items: Sequence[tuple[float, Sequence[str], bool]]
    ) -> list[tuple[int, float, str, str] | None]:
        """For each (x, texts, has a leader line): row, text x, anchor and text, or None."""
        options = [self._options(x, texts, line) for x, texts, line in items]
        # Greedy first (each label takes its first free place), so that a search cut short
        # by its budget still returns that.
        greedy: list[int] = []
        taken = list(self.placed)
        cost = 0.0
        for opts in options:
            k = next((k for k, o in enumerate(opts) if self._free(o[1], taken)), -1)
            greedy.append(k)
            cost += opts[k][0] if k >= 0 else 100
            if k >= 0:
                taken.append(opts[k][1])
        best: list[tuple[float, list[int]]] = [(cost, greedy)]
        budget = [5_000]

        def walk(i: int, cost: float, chosen: list[int], placed: list[_Label]) -> None:
            if cost >= best[0][0] or budget[0] <= 0:  # no better than what is found
                return
            budget[0] -= 1
            if i == len(options):
                best[0] = (cost, chosen)
                return
            for k, (price, label, _, _) in enumerate(options[i]):
                if self._free(label, placed):
                    walk(i + 1, cost + price, [*chosen, k], [*placed, label])
            walk(i + 1, cost + 100, [*chosen, -1], placed)

        walk(0, 0.0, [], list(self.placed))
        found: list[tuple[int, float, str, str] | None] = []
        for opts, k in zip(options, best[0][1], strict=True):
            if k < 0:
                found.append(None)
                continue
            _, label, anchor, text = opts[k]
            self.placed.append(label)
            found.append((label.row, label.x0 if anchor == "start" else label.x1, anchor, text))
        return found

    @property
    def used(self) -> int:
        return 1 + max((p.row for p in self.placed), default=-1)


def _deploy_legend(d: Deploy, colour: str) -> tuple[str, str, str]:
    return ("diamond", colour, f"deploy: {d.category.value.replace('_', ' ')}")


def _short(m: _Moment) -> str:
    return m.label.split(" ")[0] if m.kind in ("applied", "fix") else m.label


def _deploy_at(report: Report, deploy_id: str | None) -> Deploy | None:
    return next((d for d in report.deploys if d.id == deploy_id), None)


def _moments(report: Report, window: FailureWindow | None) -> list[_Moment]:
    """Applied, last good deploy, first failure, graph broken, fix, recovery (or still failing)."""
    found: list[_Moment] = []
    applied: dict[str, list[str]] = {}
    for f in report.findings:
        if f.rule == RuleId.FX201 and f.deploys and f.revision:
            revisions = applied.setdefault(f.deploys[0], [])
            if f.revision not in revisions:
                revisions.append(f.revision)
    # The latest three applications at most: a mature repository has dozens.
    latest = sorted(
        (d for d in (_deploy_at(report, i) for i in applied) if d is not None),
        key=lambda d: (d.created_at, d.id),
    )[-3:]
    applied = {d.id: applied[d.id] for d in latest}
    for deploy_id, revisions in applied.items():
        d = _deploy_at(report, deploy_id)
        if d is not None:
            what = revisions[0] if len(revisions) == 1 else f"{len(revisions)} migrations"
            found.append(
                _Moment(
                    d.created_at,
                    "applied",
                    f"applied {what}",
                    _GREEN,
                    f"production applied {', '.join(revisions)} with deploy {d.id} "
                    f"({view.when(d.created_at)}); edited afterwards",
                )
            )
    if window is None:
        lower = None
    else:
        good = _deploy_at(report, window.last_live_before)
        lower = good.created_at if good else window.start
        if good is not None and good.id not in applied:
            found.append(
                _Moment(
                    good.created_at,
                    "last-good",
                    "last good deploy",
                    _GREEN,
                    f"last successful deploy before the failures: {good.id} "
                    f"({view.when(good.created_at)}), commit {view.short(good.commit)}",
                )
            )
        found.append(
            _Moment(
                window.start,
                "first-failure",
                "first failure",
                _RED,
                f"first failed deploy {window.first_failed} ({view.when(window.start)})",
            )
        )
    upper = window.end if window else report.until
    breaks = [
        g
        for g in report.graph_events
        if g.at <= upper and (lower is None or g.resolved_at is None or g.resolved_at >= lower)
    ]
    if breaks:
        first = min(breaks, key=lambda g: (g.at, g.commit))
        found.append(
            _Moment(
                first.at,
                "graph-broken",
                "graph broken",
                _DARK_RED,
                f"commit {view.short(first.commit)} broke the migration graph: {first.detail}",
            )
        )
        if all(g.resolved_at is not None for g in breaks):
            last = max(breaks, key=lambda g: (g.resolved_at or g.at, g.commit))
            assert last.resolved_at is not None
            found.append(
                _Moment(
                    last.resolved_at,
                    "fix",
                    f"fix {view.short(last.resolved_by)}",
                    _BLUE,
                    f"commit {view.short(last.resolved_by)} left the migration graph whole "
                    f"({view.when(last.resolved_at)})",
                )
            )
    if window is not None and window.recovered_by:
        found.append(
            _Moment(
                window.end,
                "recovery",
                "recovered",
                _GREEN,
                f"deploy {window.recovered_by} succeeded ({view.when(window.end)})",
            )
        )
    elif window is not None:
        found.append(
            _Moment(
                report.until,
                "still-failing",
                "still failing",
                _RED,
                f"no deploy has succeeded since {view.when(window.start)} "
                f"(report time {view.when(report.until)})",
            )
        )
    return sorted(found, key=lambda m: m.at)


def _focus(
    report: Report, window: FailureWindow | None, commits: Sequence[CommitRecord]
) -> tuple[datetime, datetime]:
    """The incident: the failure window, and the edits and graph breaks since the last good
    deploy before it. Without a failure window, the bursts and graph breaks; else everything."""
    points: list[datetime] = []
    if window is not None:
        good = _deploy_at(report, window.last_live_before)
        lower, upper = (good.created_at if good else window.start), window.end
        points = [window.start, window.end]
        points += [
            c.committed_at
            for c in commits
            if lower < c.committed_at <= upper and report.changes_by(c.sha)
        ]
        points += [
            c.committed_at
            for s in window.suspects
            if (c := report.commit(s.commit)) and lower < c.committed_at <= upper
        ]
        for b in report.bursts:
            if b.end >= lower and b.start <= upper:
                points += [b.start, b.end]
        for g in report.graph_events:
            if lower <= g.at <= upper:
                points.append(g.at)
                if g.resolved_at is not None and g.resolved_at <= upper + (upper - window.start):
                    points.append(g.resolved_at)
    else:
        for b in report.bursts:
            points += [b.start, b.end]
        points += [g.at for g in report.graph_events]
    if not points:
        points = [c.committed_at for c in commits] + [d.created_at for d in report.deploys]
    if not points:
        return report.until - timedelta(hours=1), report.until
    start, end = min(points), max(points)
    pad = max((end - start) * 0.05, timedelta(minutes=2))
    return start - pad, end + pad


def _stack(xs: Sequence[float], room: float, rows: int) -> list[int]:
    """A row for each mark (in x order) so that marks closer than ``room`` do not overlap."""
    last: list[float] = []
    found = []
    for x in xs:
        row = next((i for i, at in enumerate(last) if x - at >= room), None)
        if row is None and len(last) < rows:
            row = len(last)
            last.append(x)
        elif row is None:
            row = min(range(len(last)), key=lambda i: last[i])
        last[row] = x
        found.append(row)
    return found


def _diamond(x: float, y: float, size: float) -> str:
    return f"M{x} {y - size} L{x + size * 0.85} {y} L{x} {y + size} L{x - size * 0.85} {y} Z"


def timeline_svg(report: Report, layout: _Layout = WIDE) -> str:
    """The incident on one time axis, with a thin strip of the whole window under it."""
    lay = layout
    font, small = lay.font, round(lay.font * 0.9, 1)
    commits = view.timeline_commits(report)
    window = view.current_window(report)
    start, end = _focus(report, window, commits)
    axis = _Axis(start, end, lay.left, lay.width - lay.left - lay.right)
    moments = _moments(report, window)
    body: list[str] = []
    legend: dict[str, tuple[str, str, str]] = {}

    # Key moments inside the drawn stretch, labelled above it; "still failing" sits at the edge.
    labels = _Labels(lay.label_rows, 2, lay.width - 2, font)
    inside: list[tuple[_Moment, float]] = []
    outside: list[_Moment] = []
    for m in moments:
        if m.kind == "still-failing" and m.at > axis.end:
            inside.append((m, axis.right))
        elif axis.inside(m.at):
            inside.append((m, axis.x(m.at)))
        else:
            outside.append(m)
    solved = labels.solve([(x, (m.label, _short(m)), True) for m, x in inside])
    marks = [(m, x, placed) for (m, x), placed in zip(inside, solved, strict=True)]
    row_h = font + 5
    plot_top = 8 + max(labels.used, 1) * row_h + 4
    y = plot_top

    def lane_name(name: str, top: float, height: float) -> float:
        """Write the lane's name; returns where its marks start."""
        if lay.left >= 60:
            body.append(
                f'<text x="8" y="{top + height / 2 + font * 0.35:.1f}" font-size="{font}" '
                f'font-weight="600" fill="#24292f">{name}</text>'
            )
            return top
        body.append(
            f'<text x="{lay.left}" y="{top + small}" font-size="{small}" font-weight="600" '
            f'fill="#57606a">{name}</text>'
        )
        return top + small + 2

    # Graph lane: when the migration graph was broken.
    breaks = [
        g
        for g in report.graph_events
        if g.at <= axis.end and (g.resolved_at or report.until) >= axis.start
    ]
    lanes: list[str] = []
    if breaks:
        top = lane_name("graph", y, 22)
        for g in breaks:
            x1 = axis.x(max(g.at, axis.start))
            x2 = axis.x(min(g.resolved_at or report.until, axis.end))
            state = f"until {view.short(g.resolved_by)}" if g.resolved_by else "still broken"
            tip = f"{view.short(g.commit)} broke the graph ({g.rule}, {state}): {g.detail}"
            body.append(
                f'<rect class="graph-break" x="{x1}" y="{top + 5}" width="{max(x2 - x1, 3):.1f}" '
                f'height="10" rx="2" fill="{_DARK_RED}" fill-opacity="0.75">'
                f"<title>{_t(tip)}</title></rect>"
            )
        legend["graph"] = ("bar", _DARK_RED, "migration graph broken")
        y = top + 22
        lanes.append("graph")

    # Commits lane.
    shown = [c for c in commits if axis.inside(c.committed_at)]
    radius = 5.5 if lay is WIDE else 5.0
    rows = _stack([axis.x(c.committed_at) for c in shown], radius * 2 + 1.5, 4)
    c_rows = max(rows, default=0) + 1
    top = lane_name("commits", y, 14 + c_rows * (radius * 2 + 2))
    c_top = top
    for b in report.bursts:
        if b.end < axis.start or b.start > axis.end:
            continue
        x1, x2 = axis.x(max(b.start, axis.start)), axis.x(min(b.end, axis.end))
        tip = f"burst: {len(b.commits)} commit(s) by {', '.join(b.authors)}"
        body.append(
            f'<rect class="burst" x="{x1 - radius - 2:.1f}" y="{c_top + 1}" '
            f'width="{max(x2 - x1, 0) + 2 * radius + 4:.1f}" '
            f'height="{c_rows * (radius * 2 + 2) + 8:.1f}" '
            f'rx="6" fill="#fb8f44" fill-opacity="0.2" stroke="#bc4c00" stroke-opacity="0.6">'
            f"<title>{_t(tip)}</title></rect>"
        )
        legend["burst"] = ("band", "#fb8f44", "burst of edits")
    for c, row in zip(shown, rows, strict=True):
        kind = _kind(report, c.sha)
        colour, meaning = KIND_COLOURS[kind]
        legend[f"commit-{kind}"] = ("circle", colour, f"commit: {meaning}")
        tip = f"{c.short} {view.when(c.committed_at)} {c.author.name}: {c.subject} [{kind}]"
        body.append(
            f'<circle class="commit" cx="{axis.x(c.committed_at)}" '
            f'cy="{c_top + 5 + radius + row * (radius * 2 + 2):.1f}" r="{radius}" fill="{colour}" '
            f'stroke="#ffffff" stroke-width="1.2"><title>{_t(tip)}</title></circle>'
        )
    y = c_top + 14 + c_rows * (radius * 2 + 2)

    # Deploys lane, when there is deploy data at all.
    plot_bottom = y
    if report.deploys:
        deploys = sorted(
            (d for d in report.deploys if axis.inside(d.created_at)),
            key=lambda d: (d.created_at, d.id),
        )
        size = 6.5 if lay is WIDE else 6.0
        rows = _stack([axis.x(d.created_at) for d in deploys], size * 1.7 + 1.5, 3)
        d_rows = max(rows, default=0) + 1
        d_top = lane_name("deploys", y, 10 + d_rows * (size * 2 + 1))
        for d, row in zip(deploys, rows, strict=True):
            colour = DEPLOY_COLOURS.get(d.category.value, "#6e7781")
            legend[f"deploy-{d.category.value}"] = _deploy_legend(d, colour)
            tip = f"{d.id} {d.status} {view.when(d.created_at)} commit {view.short(d.commit)}"
            shape = _diamond(axis.x(d.created_at), d_top + 5 + size + row * (size * 2 + 1), size)
            body.append(
                f'<path class="deploy" d="{shape}" fill="{colour}"><title>{_t(tip)}</title></path>'
            )
        plot_bottom = d_top + 10 + d_rows * (size * 2 + 1)

    # Failure windows behind everything, over the full height of the plot.
    under: list[str] = []
    for w in report.failure_windows:
        w_end = report.until if w.open else w.end
        if w_end < axis.start or w.start > axis.end:
            continue
        x1, x2 = axis.x(max(w.start, axis.start)), axis.x(min(w_end, axis.end))
        state = "still open" if w.open else f"recovered by {w.recovered_by}"
        under.append(
            f'<rect class="window" x="{x1}" y="{plot_top}" width="{max(x2 - x1, 3):.1f}" '
            f'height="{plot_bottom - plot_top:.1f}" fill="{_RED}" fill-opacity="0.07" '
            f'stroke="{_RED}" stroke-opacity="0.35" stroke-dasharray="4 3">'
            f"<title>{_t(f'failure window: {w.count} failed deploy(s), {state}')}</title></rect>"
        )
        legend["window"] = ("band", _RED, "failure window")

    # Moment lines and labels.
    over: list[str] = []
    for m, x, placed in marks:
        reach = plot_top - 2 - (placed[0] * row_h if placed else 0)
        over.append(
            f'<line class="moment" x1="{x}" y1="{reach}" '
            f'x2="{x}" y2="{plot_bottom}" stroke="{m.colour}" stroke-width="1.3" '
            f'stroke-dasharray="3 2"><title>{_t(m.tip)}</title></line>'
        )
        if placed is not None:
            row, tx, anchor, text = placed
            ty = plot_top - 6 - row * row_h
            over.append(
                f'<text class="moment-label" x="{tx:.1f}" y="{ty:.1f}" font-size="{font}" '
                f'font-weight="700" text-anchor="{anchor}" fill="{m.colour}">{_t(text)}'
                f"<title>{_t(m.tip)}</title></text>"
            )

    axis_y = plot_bottom
    out: list[str] = [*under, *body, *over]
    out.append(
        f'<line x1="{axis.left}" y1="{axis_y}" x2="{axis.right}" y2="{axis_y}" stroke="#57606a"/>'
    )
    for x, text in axis.ticks(lay.ticks):
        half = _text_width(text, small) / 2
        tx = min(max(x, half + 2), lay.width - half - 2)
        out.append(
            f'<line x1="{x}" y1="{axis_y}" x2="{x}" y2="{axis_y + 5}" stroke="#57606a"/>'
            f'<text x="{tx}" y="{axis_y + 6 + font}" font-size="{small}" text-anchor="middle" '
            f'fill="#57606a">{_t(text)}</text>'
        )
    y = axis_y + 10 + font
    context, y = _context_strip(report, lay, axis, commits, outside, y, legend)
    out.append(context)
    legend_svg, y = _legend(list(legend.values()), lay, y + 8)
    out.append(legend_svg)
    height = round(y + 6)
    label = f"Timeline of the incident, {view.when(start)} to {view.when(end)}"
    head = (
        f'<svg class="chart timeline" role="img" viewBox="0 0 {lay.width} {height}" '
        f'width="100%" aria-label="{_t(label)}" font-family="system-ui, sans-serif">\n'
        f"<title>{_t(label)}</title>\n"
        f'<rect x="0" y="0" width="{lay.width}" height="{height}" fill="#ffffff"/>'
    )
    return _tidy("\n".join([head, *out, "</svg>"]))


def _context_strip(
    report: Report,
    lay: _Layout,
    focus: _Axis,
    commits: Sequence[CommitRecord],
    moments: Sequence[_Moment],
    y: float,
    legend: dict[str, tuple[str, str, str]],
) -> tuple[str, float]:
    """The whole analysed window as a thin strip, the drawn stretch outlined on it, and the
    key moments that fall outside that stretch. Nothing when the stretch is the whole.
    What it draws joins ``legend``, which lists what the chart shows."""
    times = [c.committed_at for c in commits] + [d.created_at for d in report.deploys]
    first = report.since or min(times, default=focus.start)
    whole = _Axis(min(first, focus.start), max(report.until, focus.end), lay.left, focus.width)
    if (focus.end - focus.start) >= 0.75 * (whole.end - whole.start):
        return "", y
    font = round(lay.font * 0.9, 1)
    top, height = y + 18, 14
    out = ['<g class="context">']
    name_x, name_y = (8, top + 11) if lay.left >= 60 else (lay.left, top - 5)
    out.append(
        f'<text x="{name_x}" y="{name_y}" '
        f'font-size="{font}" font-weight="600" fill="#57606a">history</text>'
    )
    out.append(
        f'<rect x="{whole.left}" y="{top}" width="{whole.width}" height="{height}" '
        f'fill="#f6f8fa" stroke="#d0d7de"/>'
    )
    for w in report.failure_windows:
        w_end = report.until if w.open else w.end
        if w_end >= whole.start and w.start <= whole.end:
            x1, x2 = whole.x(max(w.start, whole.start)), whole.x(min(w_end, whole.end))
            out.append(
                f'<rect x="{x1}" y="{top}" width="{max(x2 - x1, 2):.1f}" height="{height}" '
                f'fill="{_RED}" fill-opacity="0.25"/>'
            )
            legend["window"] = ("band", _RED, "failure window")
    # One tick per pixel at most: a long history has thousands of commits.
    ticked: set[tuple[str, float]] = set()
    for c in commits:
        if whole.inside(c.committed_at) and ("c", round(whole.x(c.committed_at))) not in ticked:
            ticked.add(("c", round(whole.x(c.committed_at))))
            x = whole.x(c.committed_at)
            out.append(f'<line x1="{x}" y1="{top + 1}" x2="{x}" y2="{top + 6}" stroke="#57606a"/>')
    for d in sorted(report.deploys, key=lambda d: (d.category.value != "failed", d.id)):
        key = (d.category.value, round(whole.x(d.created_at)))
        if whole.inside(d.created_at) and key not in ticked:
            ticked.add(key)
            x = whole.x(d.created_at)
            colour = DEPLOY_COLOURS.get(d.category.value, "#6e7781")
            legend[f"deploy-{d.category.value}"] = _deploy_legend(d, colour)
            out.append(
                f'<line x1="{x}" y1="{top + 8}" x2="{x}" y2="{top + height - 1}" '
                f'stroke="{colour}" stroke-width="1.5"/>'
            )
    fx1, fx2 = whole.x(focus.start), whole.x(focus.end)
    if fx2 - fx1 < 4:
        fx1, fx2 = fx1 - 2, fx2 + 2
    if lay.left >= 60:  # lines from the drawn stretch to its place in the whole
        out.append(
            f'<path d="M{focus.left} {y + 2} L{fx1} {top} M{focus.right} {y + 2} '
            f'L{fx2} {top}" stroke="#0969da" stroke-opacity="0.35" fill="none"/>'
        )
    out.append(
        f'<rect class="focus" x="{fx1}" y="{top - 2}" width="{fx2 - fx1:.1f}" '
        f'height="{height + 4}" '
        f'fill="#0969da" fill-opacity="0.12" stroke="#0969da" stroke-width="1.5"/>'
    )
    labels = _Labels(3, 2, lay.width - 2, font)
    fmt = "%Y-%m-%d" if lay.left >= 60 else "%m-%d"
    ends = [
        (whole.left - 3, whole.start.astimezone(UTC).strftime(fmt)),
        (whole.right + 3, whole.end.astimezone(UTC).strftime(fmt)),
    ]
    shown = [m for m in moments if whole.inside(m.at)]
    solved = labels.solve(
        [(x, (text,), False) for x, text in ends]
        + [
            (
                whole.x(m.at),
                (f"{m.label} {m.at.astimezone(UTC).strftime('%m-%d %H:%M')}", m.label, _short(m)),
                True,
            )
            for m in shown
        ]
    )
    row_h = font + 5
    for placed in solved[:2]:
        if placed is not None:
            row, tx, anchor, text = placed
            out.append(
                f'<text x="{tx:.1f}" y="{top + height + 4 + row * row_h + font}" '
                f'font-size="{font}" '
                f'text-anchor="{anchor}" fill="#57606a">{_t(text)}</text>'
            )
    for m, placed in zip(shown, solved[2:], strict=True):
        x = whole.x(m.at)
        low = top + height + 4 + (placed[0] if placed else 0) * row_h
        out.append(
            f'<line class="moment" x1="{x}" y1="{top}" x2="{x}" y2="{low + (4 if placed else -4)}" '
            f'stroke="{m.colour}" stroke-width="1.5"><title>{_t(m.tip)}</title></line>'
        )
        if placed is not None:
            row, tx, anchor, text = placed
            out.append(
                f'<text class="moment-label" x="{tx:.1f}" y="{low + font:.1f}" font-size="{font}" '
                f'font-weight="700" text-anchor="{anchor}" fill="{m.colour}">{_t(text)}'
                f"<title>{_t(m.tip)}</title></text>"
            )
    out.append("</g>")
    return "".join(out), top + height + 6 + max(labels.used, 1) * row_h


def _legend_item(x: float, y: float, shape: str, colour: str, text: str, font: float) -> str:
    if shape == "circle":
        mark = f'<circle cx="{x + 6}" cy="{y - font * 0.35:.1f}" r="5" fill="{colour}"/>'
    elif shape == "diamond":
        mark = f'<path d="{_diamond(x + 6, round(y - font * 0.35, 1), 6)}" fill="{colour}"/>'
    elif shape == "bar":
        mark = (
            f'<rect x="{x}" y="{y - font * 0.35 - 4:.1f}" width="14" height="8" rx="2" '
            f'fill="{colour}" fill-opacity="0.75"/>'
        )
    else:
        mark = (
            f'<rect x="{x}" y="{y - font * 0.35 - 6:.1f}" width="14" height="12" fill="{colour}" '
            'fill-opacity="0.3" stroke="#57606a" stroke-opacity="0.4"/>'
        )
    return f'{mark}<text x="{x + 18}" y="{y}" font-size="{font}" fill="#24292f">{_t(text)}</text>'


def _legend(items: Sequence[tuple[str, str, str]], lay: _Layout, y: float) -> tuple[str, float]:
    """Only what the chart shows, wrapped to the drawing's width."""
    if not items:
        return "", y
    font = round(lay.font * 0.9, 1)
    out, x, y = [], 8.0, y + font
    for shape, colour, text in items:
        advance = 18 + _text_width(text, font) + 14
        if x > 8 and x + advance - 14 > lay.width - 4:
            x, y = 8.0, y + font + 8
        out.append(_legend_item(x, y, shape, colour, text, font))
        x += advance
    return '<g class="legend">' + "".join(out) + "</g>", y + 4


# -- chain ----------------------------------------------------------------------------------
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
        f'viewBox="0 0 {width} {height}" width="{width}" aria-label="{_t(label)}" '
        # Narrow screens shrink the drawing, down to where its text stays legible; below
        # that its frame scrolls sideways, never the page.
        f'style="min-width: {round(min(width, 420) * 0.72)}px" '
        'font-family="system-ui, sans-serif">',
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
            f'<text x="{x + 9}" y="{y + 18}" font-size="14" font-weight="700" '
            f'font-family="ui-monospace, Menlo, Consolas, monospace" fill="#24292f">'
            f"{_t(n.revision)}</text>"
            f'<text x="{x + 9}" y="{y + 33}" font-size="12.5" fill="#57606a">'
            f"{_t(view.one_line(n.message, 25))}</text>"
            f'<text x="{x + 9}" y="{y + 48}" font-size="11.5" font-weight="600" '
            f'fill="{stroke}">{_t(" · ".join(marks))}</text></g>'
        )
    out.append(legend)
    out.append("</svg>")
    return _tidy("\n".join(out))


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
        advance = 30 + _text_width(text, 12)
        if x > 10 and x + advance - 6 > width:
            x, base = 10.0, base + 20
        out.append(
            f'<rect x="{x}" y="{base - 10}" width="16" height="12" rx="3" fill="{fill}" '
            f'stroke="{stroke}" stroke-width="2"/><text x="{x + 22}" y="{base}" '
            f'font-size="12" fill="#24292f">{_t(text)}</text>'
        )
        x += advance
    out.append("</g>")
    return "".join(out), base - y + 10


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
