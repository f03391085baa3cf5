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
from collections.abc import Mapping, Sequence
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
    applied = _applied_moments(report)
    # Listed in this order, as the sort below keeps it for moments at the same time.
    found = list(applied.values())
    lower = None
    if window is not None:
        found += _failure_start_moments(report, window, applied)
        lower = _incident_start(report, window)
    found += _graph_moments(report, lower, window.end if window else report.until)
    if window is not None:
        found.append(_failure_end_moment(report, window))
    return sorted(found, key=lambda m: m.at)


def _applied_moments(report: Report) -> dict[str, _Moment]:
    """The deploys that applied a migration edited afterwards, by deploy id, oldest first:
    the latest three at most, because a mature repository has dozens."""
    applied: dict[str, list[str]] = {}
    for f in report.findings:
        if f.rule == RuleId.FX201 and f.deploys and f.revision:
            revisions = applied.setdefault(f.deploys[0], [])
            if f.revision not in revisions:
                revisions.append(f.revision)
    latest = sorted(
        (d for d in (_deploy_at(report, i) for i in applied) if d is not None),
        key=lambda d: (d.created_at, d.id),
    )[-3:]
    found: dict[str, _Moment] = {}
    for d in latest:
        revisions = applied[d.id]
        what = revisions[0] if len(revisions) == 1 else f"{len(revisions)} migrations"
        found[d.id] = _Moment(
            d.created_at,
            "applied",
            f"applied {what}",
            _GREEN,
            f"production applied {', '.join(revisions)} with deploy {d.id} "
            f"({view.when(d.created_at)}); edited afterwards",
        )
    return found


def _incident_start(report: Report, window: FailureWindow) -> datetime:
    """The last good deploy before the failure window, or the window's start without one."""
    good = _deploy_at(report, window.last_live_before)
    return good.created_at if good else window.start


def _failure_start_moments(
    report: Report, window: FailureWindow, applied: Mapping[str, _Moment]
) -> list[_Moment]:
    """The last good deploy (unless it is labelled as applying a migration) and the first
    failure."""
    found = []
    good = _deploy_at(report, window.last_live_before)
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
    return found


def _graph_moments(report: Report, lower: datetime | None, upper: datetime) -> list[_Moment]:
    """The first break of the migration graph that overlaps ``lower`` to ``upper``, and the
    fix when every such break was resolved."""
    breaks = [
        g
        for g in report.graph_events
        if g.at <= upper and (lower is None or g.resolved_at is None or g.resolved_at >= lower)
    ]
    if not breaks:
        return []
    first = min(breaks, key=lambda g: (g.at, g.commit))
    found = [
        _Moment(
            first.at,
            "graph-broken",
            "graph broken",
            _DARK_RED,
            f"commit {view.short(first.commit)} broke the migration graph: {first.detail}",
        )
    ]
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
    return found


def _failure_end_moment(report: Report, window: FailureWindow) -> _Moment:
    """The recovery, or "still failing" at the report's time."""
    if window.recovered_by:
        return _Moment(
            window.end,
            "recovery",
            "recovered",
            _GREEN,
            f"deploy {window.recovered_by} succeeded ({view.when(window.end)})",
        )
    return _Moment(
        report.until,
        "still-failing",
        "still failing",
        _RED,
        f"no deploy has succeeded since {view.when(window.start)} "
        f"(report time {view.when(report.until)})",
    )


def _focus(
    report: Report, window: FailureWindow | None, commits: Sequence[CommitRecord]
) -> tuple[datetime, datetime]:
    """The incident: the failure window, and the edits and graph breaks since the last good
    deploy before it. Without a failure window, the bursts and graph breaks; else everything."""
    points: list[datetime] = []
    if window is not None:
        lower, upper = _incident_start(report, window), window.end
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


@dataclass(frozen=True)
class _Plot:
    """What the parts of one timeline drawing share: the report, the layout, the time axis
    of the drawn stretch, and the legend. Each part adds what it draws to the legend, which
    lists it in that order: the parts must be drawn in the order the legend shows."""

    report: Report
    lay: _Layout
    axis: _Axis
    legend: dict[str, tuple[str, str, str]]


@dataclass(frozen=True)
class _Mark:
    """A key moment inside the drawn stretch: where its line is, and its label's row, x,
    anchor and text, or None when no row had room for it."""

    moment: _Moment
    x: float
    placed: tuple[int, float, str, str] | None


def timeline_svg(report: Report, layout: _Layout = WIDE) -> str:
    """The incident on one time axis, with a thin strip of the whole window under it."""
    lay = layout
    commits = view.timeline_commits(report)
    window = view.current_window(report)
    start, end = _focus(report, window, commits)
    axis = _Axis(start, end, lay.left, lay.width - lay.left - lay.right)
    plot = _Plot(report, lay, axis, {})
    marks, outside, label_rows = _place_moments(plot, _moments(report, window))
    plot_top = 8 + max(label_rows, 1) * (lay.font + 5) + 4
    # The lanes top to bottom, each starting where the one above ends.
    graph, y = _graph_lane(plot, plot_top)
    dots, y = _commit_lane(plot, commits, y)
    diamonds, plot_bottom = _deploy_lane(plot, y)
    # Failure windows go behind everything, moment lines over it.
    under = _window_bands(plot, plot_top, plot_bottom)
    over = _moment_lines(plot, marks, plot_top, plot_bottom)
    out = [*under, *graph, *dots, *diamonds, *over, *_time_axis(plot, plot_bottom)]
    context, y = _context_strip(plot, commits, outside, plot_bottom + 10 + lay.font)
    out.append(context)
    legend_svg, y = _legend(list(plot.legend.values()), lay, y + 8)
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


def _place_moments(
    plot: _Plot, moments: Sequence[_Moment]
) -> tuple[list[_Mark], list[_Moment], int]:
    """The key moments inside the drawn stretch, their labels placed in rows above it
    ("still failing", after the stretch, sits at its right edge); the moments outside it,
    which the history strip shows; and how many label rows are used."""
    axis, lay = plot.axis, plot.lay
    labels = _Labels(lay.label_rows, 2, lay.width - 2, lay.font)
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
    marks = [_Mark(m, x, placed) for (m, x), placed in zip(inside, solved, strict=True)]
    return marks, outside, labels.used


def _lane_name(lay: _Layout, name: str, top: float, height: float) -> tuple[str, float]:
    """The lane's name: left of the axis in the wide layout, above the lane's marks in the
    compact one, which has no room on the left. Returns it and where the marks start."""
    font, small = lay.font, round(lay.font * 0.9, 1)
    if lay.left >= 60:
        return (
            f'<text x="8" y="{top + height / 2 + font * 0.35:.1f}" font-size="{font}" '
            f'font-weight="600" fill="#24292f">{name}</text>'
        ), top
    return (
        f'<text x="{lay.left}" y="{top + small}" font-size="{small}" font-weight="600" '
        f'fill="#57606a">{name}</text>'
    ), top + small + 2


def _graph_lane(plot: _Plot, y: float) -> tuple[list[str], float]:
    """When the migration graph was broken, as bars; no lane when it never was in the drawn
    stretch. Returns the lane and where the next one starts."""
    report, axis = plot.report, plot.axis
    breaks = [
        g
        for g in report.graph_events
        if g.at <= axis.end and (g.resolved_at or report.until) >= axis.start
    ]
    if not breaks:
        return [], y
    name, top = _lane_name(plot.lay, "graph", y, 22)
    out = [name]
    for g in breaks:
        x1 = axis.x(max(g.at, axis.start))
        x2 = axis.x(min(g.resolved_at or report.until, axis.end))
        state = f"until {view.short(g.resolved_by)}" if g.resolved_by else "still broken"
        tip = f"{view.short(g.commit)} broke the graph ({g.rule}, {state}): {g.detail}"
        out.append(
            f'<rect class="graph-break" x="{x1}" y="{top + 5}" width="{max(x2 - x1, 3):.1f}" '
            f'height="10" rx="2" fill="{_DARK_RED}" fill-opacity="0.75">'
            f"<title>{_t(tip)}</title></rect>"
        )
    plot.legend["graph"] = ("bar", _DARK_RED, "migration graph broken")
    return out, top + 22


def _commit_lane(plot: _Plot, commits: Sequence[CommitRecord], y: float) -> tuple[list[str], float]:
    """The commits as dots coloured by what they did to the migrations, stacked in rows
    where they crowd, over the bursts of edits. Returns the lane and where the next starts."""
    report, axis = plot.report, plot.axis
    shown = [c for c in commits if axis.inside(c.committed_at)]
    radius = 5.5 if plot.lay is WIDE else 5.0
    rows = _stack([axis.x(c.committed_at) for c in shown], radius * 2 + 1.5, 4)
    c_rows = max(rows, default=0) + 1
    name, top = _lane_name(plot.lay, "commits", y, 14 + c_rows * (radius * 2 + 2))
    out = [name, *_bursts(plot, top, radius, c_rows)]
    for c, row in zip(shown, rows, strict=True):
        kind = _kind(report, c.sha)
        colour, meaning = KIND_COLOURS[kind]
        plot.legend[f"commit-{kind}"] = ("circle", colour, f"commit: {meaning}")
        tip = f"{c.short} {view.when(c.committed_at)} {c.author.name}: {c.subject} [{kind}]"
        out.append(
            f'<circle class="commit" cx="{axis.x(c.committed_at)}" '
            f'cy="{top + 5 + radius + row * (radius * 2 + 2):.1f}" r="{radius}" fill="{colour}" '
            f'stroke="#ffffff" stroke-width="1.2"><title>{_t(tip)}</title></circle>'
        )
    return out, top + 14 + c_rows * (radius * 2 + 2)


def _bursts(plot: _Plot, top: float, radius: float, rows: int) -> list[str]:
    """The bursts of edits, as bands behind the commit dots of ``rows`` rows."""
    axis = plot.axis
    out = []
    for b in plot.report.bursts:
        if b.end < axis.start or b.start > axis.end:
            continue
        x1, x2 = axis.x(max(b.start, axis.start)), axis.x(min(b.end, axis.end))
        tip = f"burst: {len(b.commits)} commit(s) by {', '.join(b.authors)}"
        out.append(
            f'<rect class="burst" x="{x1 - radius - 2:.1f}" y="{top + 1}" '
            f'width="{max(x2 - x1, 0) + 2 * radius + 4:.1f}" '
            f'height="{rows * (radius * 2 + 2) + 8:.1f}" '
            f'rx="6" fill="#fb8f44" fill-opacity="0.2" stroke="#bc4c00" stroke-opacity="0.6">'
            f"<title>{_t(tip)}</title></rect>"
        )
        plot.legend["burst"] = ("band", "#fb8f44", "burst of edits")
    return out


def _deploy_lane(plot: _Plot, y: float) -> tuple[list[str], float]:
    """The deploys as diamonds coloured by outcome; no lane without deploy data at all.
    Returns the lane and the bottom of the plot."""
    report, axis = plot.report, plot.axis
    if not report.deploys:
        return [], y
    deploys = sorted(
        (d for d in report.deploys if axis.inside(d.created_at)),
        key=lambda d: (d.created_at, d.id),
    )
    size = 6.5 if plot.lay is WIDE else 6.0
    rows = _stack([axis.x(d.created_at) for d in deploys], size * 1.7 + 1.5, 3)
    d_rows = max(rows, default=0) + 1
    name, top = _lane_name(plot.lay, "deploys", y, 10 + d_rows * (size * 2 + 1))
    out = [name]
    for d, row in zip(deploys, rows, strict=True):
        colour = DEPLOY_COLOURS.get(d.category.value, "#6e7781")
        plot.legend[f"deploy-{d.category.value}"] = _deploy_legend(d, colour)
        tip = f"{d.id} {d.status} {view.when(d.created_at)} commit {view.short(d.commit)}"
        shape = _diamond(axis.x(d.created_at), top + 5 + size + row * (size * 2 + 1), size)
        out.append(
            f'<path class="deploy" d="{shape}" fill="{colour}"><title>{_t(tip)}</title></path>'
        )
    return out, top + 10 + d_rows * (size * 2 + 1)


def _window_bands(plot: _Plot, plot_top: float, plot_bottom: float) -> list[str]:
    """The failure windows, as bands over the full height of the plot."""
    report, axis = plot.report, plot.axis
    out = []
    for w in report.failure_windows:
        w_end = report.until if w.open else w.end
        if w_end < axis.start or w.start > axis.end:
            continue
        x1, x2 = axis.x(max(w.start, axis.start)), axis.x(min(w_end, axis.end))
        state = "still open" if w.open else f"recovered by {w.recovered_by}"
        out.append(
            f'<rect class="window" x="{x1}" y="{plot_top}" width="{max(x2 - x1, 3):.1f}" '
            f'height="{plot_bottom - plot_top:.1f}" fill="{_RED}" fill-opacity="0.07" '
            f'stroke="{_RED}" stroke-opacity="0.35" stroke-dasharray="4 3">'
            f"<title>{_t(f'failure window: {w.count} failed deploy(s), {state}')}</title></rect>"
        )
        plot.legend["window"] = ("band", _RED, "failure window")
    return out


def _moment_lines(
    plot: _Plot, marks: Sequence[_Mark], plot_top: float, plot_bottom: float
) -> list[str]:
    """A dashed line down the plot for each key moment, from its label above the plot."""
    font = plot.lay.font
    row_h = font + 5
    out = []
    for mark in marks:
        m, x, placed = mark.moment, mark.x, mark.placed
        reach = plot_top - 2 - (placed[0] * row_h if placed else 0)
        out.append(
            f'<line class="moment" x1="{x}" y1="{reach}" '
            f'x2="{x}" y2="{plot_bottom}" stroke="{m.colour}" stroke-width="1.3" '
            f'stroke-dasharray="3 2"><title>{_t(m.tip)}</title></line>'
        )
        if placed is not None:
            row, tx, anchor, text = placed
            ty = plot_top - 6 - row * row_h
            out.append(
                f'<text class="moment-label" x="{tx:.1f}" y="{ty:.1f}" font-size="{font}" '
                f'font-weight="700" text-anchor="{anchor}" fill="{m.colour}">{_t(text)}'
                f"<title>{_t(m.tip)}</title></text>"
            )
    return out


def _time_axis(plot: _Plot, axis_y: float) -> list[str]:
    """The time axis under the plot, its tick labels kept inside the drawing."""
    axis, lay = plot.axis, plot.lay
    small = round(lay.font * 0.9, 1)
    out = [
        f'<line x1="{axis.left}" y1="{axis_y}" x2="{axis.right}" y2="{axis_y}" stroke="#57606a"/>'
    ]
    for x, text in axis.ticks(lay.ticks):
        half = _text_width(text, small) / 2
        tx = min(max(x, half + 2), lay.width - half - 2)
        out.append(
            f'<line x1="{x}" y1="{axis_y}" x2="{x}" y2="{axis_y + 5}" stroke="#57606a"/>'
            f'<text x="{tx}" y="{axis_y + 6 + lay.font}" font-size="{small}" '
            f'text-anchor="middle" fill="#57606a">{_t(text)}</text>'
        )
    return out


@dataclass(frozen=True)
class _Strip:
    """Where the history strip is drawn: on the axis of the whole analysed window, from
    ``top``, ``height`` high."""

    whole: _Axis
    top: float
    height: float


def _context_strip(
    plot: _Plot, commits: Sequence[CommitRecord], moments: Sequence[_Moment], y: float
) -> tuple[str, float]:
    """The whole analysed window as a thin strip, the drawn stretch outlined on it, and the
    key moments that fall outside that stretch. Nothing when the stretch is most of the
    whole. What it draws joins the plot's legend. Returns it and where it ends."""
    whole = _whole_axis(plot, commits)
    if whole is None:
        return "", y
    strip = _Strip(whole, y + 18, 14)
    out = [
        '<g class="context">',
        *_strip_frame(plot.lay, strip),
        *_strip_windows(plot, strip),
        *_strip_ticks(plot, commits, strip),
        *_strip_focus(plot, strip, y),
    ]
    labels, rows = _strip_labels(plot.lay, strip, moments)
    out += labels
    out.append("</g>")
    row_h = round(plot.lay.font * 0.9, 1) + 5
    return "".join(out), strip.top + strip.height + 6 + max(rows, 1) * row_h


def _whole_axis(plot: _Plot, commits: Sequence[CommitRecord]) -> _Axis | None:
    """The axis of the whole analysed window (at least the drawn stretch), or None when the
    drawn stretch covers most of it, so the strip would add nothing."""
    report, lay, focus = plot.report, plot.lay, plot.axis
    times = [c.committed_at for c in commits] + [d.created_at for d in report.deploys]
    first = report.since or min(times, default=focus.start)
    whole = _Axis(min(first, focus.start), max(report.until, focus.end), lay.left, focus.width)
    if (focus.end - focus.start) >= 0.75 * (whole.end - whole.start):
        return None
    return whole


def _strip_frame(lay: _Layout, strip: _Strip) -> list[str]:
    """The strip's name and its empty frame."""
    whole, top, height = strip.whole, strip.top, strip.height
    name_x, name_y = (8, top + 11) if lay.left >= 60 else (lay.left, top - 5)
    return [
        f'<text x="{name_x}" y="{name_y}" '
        f'font-size="{round(lay.font * 0.9, 1)}" font-weight="600" fill="#57606a">history</text>',
        f'<rect x="{whole.left}" y="{top}" width="{whole.width}" height="{height}" '
        f'fill="#f6f8fa" stroke="#d0d7de"/>',
    ]


def _strip_windows(plot: _Plot, strip: _Strip) -> list[str]:
    """The failure windows on the strip."""
    report, whole = plot.report, strip.whole
    out = []
    for w in report.failure_windows:
        w_end = report.until if w.open else w.end
        if w_end >= whole.start and w.start <= whole.end:
            x1, x2 = whole.x(max(w.start, whole.start)), whole.x(min(w_end, whole.end))
            out.append(
                f'<rect x="{x1}" y="{strip.top}" width="{max(x2 - x1, 2):.1f}" '
                f'height="{strip.height}" fill="{_RED}" fill-opacity="0.25"/>'
            )
            plot.legend["window"] = ("band", _RED, "failure window")
    return out


def _strip_ticks(plot: _Plot, commits: Sequence[CommitRecord], strip: _Strip) -> list[str]:
    """A tick per commit and per deploy on the strip (failed deploys drawn first)."""
    whole, top, height = strip.whole, strip.top, strip.height
    out = []
    # One tick per pixel at most: a long history has thousands of commits.
    ticked: set[tuple[str, float]] = set()
    for c in commits:
        if whole.inside(c.committed_at) and ("c", round(whole.x(c.committed_at))) not in ticked:
            ticked.add(("c", round(whole.x(c.committed_at))))
            x = whole.x(c.committed_at)
            out.append(f'<line x1="{x}" y1="{top + 1}" x2="{x}" y2="{top + 6}" stroke="#57606a"/>')
    for d in sorted(plot.report.deploys, key=lambda d: (d.category.value != "failed", d.id)):
        key = (d.category.value, round(whole.x(d.created_at)))
        if whole.inside(d.created_at) and key not in ticked:
            ticked.add(key)
            x = whole.x(d.created_at)
            colour = DEPLOY_COLOURS.get(d.category.value, "#6e7781")
            plot.legend[f"deploy-{d.category.value}"] = _deploy_legend(d, colour)
            out.append(
                f'<line x1="{x}" y1="{top + 8}" x2="{x}" y2="{top + height - 1}" '
                f'stroke="{colour}" stroke-width="1.5"/>'
            )
    return out


def _strip_focus(plot: _Plot, strip: _Strip, y: float) -> list[str]:
    """The drawn stretch outlined on the strip; in the wide layout, with lines from the
    plot's ends above (at ``y``) to it."""
    lay, focus, whole, top = plot.lay, plot.axis, strip.whole, strip.top
    fx1, fx2 = whole.x(focus.start), whole.x(focus.end)
    if fx2 - fx1 < 4:
        fx1, fx2 = fx1 - 2, fx2 + 2
    out = []
    if lay.left >= 60:
        out.append(
            f'<path d="M{focus.left} {y + 2} L{fx1} {top} M{focus.right} {y + 2} '
            f'L{fx2} {top}" stroke="#0969da" stroke-opacity="0.35" fill="none"/>'
        )
    out.append(
        f'<rect class="focus" x="{fx1}" y="{top - 2}" width="{fx2 - fx1:.1f}" '
        f'height="{strip.height + 4}" '
        f'fill="#0969da" fill-opacity="0.12" stroke="#0969da" stroke-width="1.5"/>'
    )
    return out


def _strip_labels(lay: _Layout, strip: _Strip, moments: Sequence[_Moment]) -> tuple[list[str], int]:
    """The dates at the strip's ends and the key moments on it, labelled in rows under it.
    Returns them and how many rows are used."""
    whole = strip.whole
    font = round(lay.font * 0.9, 1)
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
    base = strip.top + strip.height + 4
    out = []
    for placed in solved[:2]:
        if placed is not None:
            row, tx, anchor, text = placed
            out.append(
                f'<text x="{tx:.1f}" y="{base + row * (font + 5) + font}" '
                f'font-size="{font}" '
                f'text-anchor="{anchor}" fill="#57606a">{_t(text)}</text>'
            )
    for m, placed in zip(shown, solved[2:], strict=True):
        out += _strip_moment(whole.x(m.at), m, placed, strip.top, base, font)
    return out, labels.used


def _strip_moment(
    x: float,
    m: _Moment,
    placed: tuple[int, float, str, str] | None,
    top: float,
    base: float,
    font: float,
) -> list[str]:
    """A key moment's line on the strip, down to its label in the rows from ``base``."""
    low = base + (placed[0] if placed else 0) * (font + 5)
    out = [
        f'<line class="moment" x1="{x}" y1="{top}" x2="{x}" y2="{low + (4 if placed else -4)}" '
        f'stroke="{m.colour}" stroke-width="1.5"><title>{_t(m.tip)}</title></line>'
    ]
    if placed is not None:
        _row, tx, anchor, text = placed
        out.append(
            f'<text class="moment-label" x="{tx:.1f}" y="{low + font:.1f}" font-size="{font}" '
            f'font-weight="700" text-anchor="{anchor}" fill="{m.colour}">{_t(text)}'
            f"<title>{_t(m.tip)}</title></text>"
        )
    return out


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
    where = _chain_places(rows, width)
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
    out += _chain_edges(nodes, where, arrow)
    out += [_chain_node(n, *where[n.revision]) for n in nodes]
    out.append(legend)
    out.append("</svg>")
    return _tidy("\n".join(out))


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
                    f"{_t(parent)} …</text>"
                )
    return out


def _chain_node(n: ChainNode, x: float, y: float) -> str:
    """One revision's box: its id, message and marks, styled by its annotations."""
    fill, stroke, stroke_width, dash = _node_style(n)
    marks = view.marks_of(n)
    dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
    tip = f"{n.revision} {n.message or ''} ({n.path})"
    return (
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


@dataclass(frozen=True)
class _TrendScale:
    """Where the trend chart puts its weeks: the plot's box, a slot of ``step`` per week,
    and the top of each scale (the most deploys in a week, the longest median lead time)."""

    left: int
    top: int
    inner_w: int
    inner_h: int
    step: float
    most: int
    longest: float


def trend_svg(rows: Sequence[WeekMetrics], label: str = "Delivery metrics by week") -> str:
    """A small chart of weekly figures: a bar per week for the deploys (the failed part in
    red) on the left scale, and the median lead time as a line on the right scale."""
    width, height, left, right, top, bottom = 640, 190, 40, 48, 16, 34
    inner_w, inner_h = width - left - right, height - top - bottom
    lead = [r.lead_time_h_p50 for r in rows]
    scale = _TrendScale(
        left,
        top,
        inner_w,
        inner_h,
        step=inner_w / max(1, len(rows)),
        most=max([r.deploys for r in rows] + [1]),
        longest=max([v for v in lead if v is not None] + [1.0]),
    )
    out = [
        f'<svg class="chart trend" role="img" viewBox="0 0 {width} {height}" width="{width}" '
        f'aria-label="{_t(label)}">',
        f"<title>{_t(label)}</title>",
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>',
        f'<line x1="{left}" y1="{top + inner_h}" x2="{left + inner_w}" y2="{top + inner_h}" '
        'stroke="#8c959f"/>',
        f'<text x="{left - 6}" y="{top + 4}" font-size="10" text-anchor="end" '
        f'fill="#57606a">{scale.most}</text>',
        f'<text x="{left - 6}" y="{top + inner_h}" font-size="10" text-anchor="end" '
        'fill="#57606a">0</text>',
        f'<text x="{left + inner_w + 6}" y="{top + 4}" font-size="10" '
        f'fill="#0969da">{scale.longest:.0f} h</text>',
    ]
    points = []
    for i, row in enumerate(rows):
        bars, point = _trend_week(scale, i, row)
        out += bars
        if point is not None:
            points.append(point)
    out += _trend_line(points)
    out += [*_trend_legend(left, height - 6), "</svg>"]
    return "".join(out)


def _trend_week(
    scale: _TrendScale, i: int, row: WeekMetrics
) -> tuple[list[str], tuple[float, float, str] | None]:
    """The ``i``-th week's bar and label; and its lead time point (x, y, tip), if any."""
    x = scale.left + i * scale.step + scale.step * 0.2
    bar_w = scale.step * 0.6
    total_h = scale.inner_h * row.deploys / scale.most
    failed_h = scale.inner_h * row.failed / scale.most
    base = scale.top + scale.inner_h
    rate = "" if row.change_failure_rate is None else f", {row.change_failure_rate:.0%} failed"
    tip = f"{row.week}: {row.deploys} deploy(s), {row.failed} failed{rate}"
    out = [
        f'<rect x="{x:.1f}" y="{base - total_h:.1f}" width="{bar_w:.1f}" '
        f'height="{total_h - failed_h:.1f}" fill="#4ac26b"><title>{_t(tip)}</title></rect>'
    ]
    if failed_h:
        out.append(
            f'<rect x="{x:.1f}" y="{base - failed_h:.1f}" width="{bar_w:.1f}" '
            f'height="{failed_h:.1f}" fill="#cf222e"><title>{_t(tip)}</title></rect>'
        )
    out.append(
        f'<text x="{x + bar_w / 2:.1f}" y="{base + 14}" font-size="10" text-anchor="middle" '
        f'fill="#57606a">{_t(row.week[-3:])}</text>'
    )
    if row.lead_time_h_p50 is None:
        return out, None
    y = base - scale.inner_h * row.lead_time_h_p50 / scale.longest
    return out, (x + bar_w / 2, y, f"{row.week}: lead time {row.lead_time_h_p50:g} h")


def _trend_line(points: Sequence[tuple[float, float, str]]) -> list[str]:
    """The median lead time: a line through the weeks that have one, a dot on each."""
    out = []
    if len(points) > 1:
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y, _tip in points)
        out.append(f'<polyline points="{path}" fill="none" stroke="#0969da" stroke-width="2"/>')
    for x, y, tip in points:
        out.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="#0969da"><title>{_t(tip)}</title>'
            "</circle>"
        )
    return out


def _trend_legend(left: int, legend_y: int) -> list[str]:
    """What the bars' colours and the line mean, along the bottom."""
    return [
        f'<rect x="{left}" y="{legend_y - 8}" width="10" height="8" fill="#4ac26b"/>',
        f'<text x="{left + 14}" y="{legend_y}" font-size="10" fill="#1f2328">deploys</text>',
        f'<rect x="{left + 70}" y="{legend_y - 8}" width="10" height="8" fill="#cf222e"/>',
        f'<text x="{left + 84}" y="{legend_y}" font-size="10" fill="#1f2328">failed</text>',
        f'<line x1="{left + 130}" y1="{legend_y - 4}" x2="{left + 146}" y2="{legend_y - 4}" '
        'stroke="#0969da" stroke-width="2"/>',
        f'<text x="{left + 150}" y="{legend_y}" font-size="10" fill="#1f2328">'
        "median lead time (right scale)</text>",
    ]
