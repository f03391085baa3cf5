"""The incident timeline (``timeline_svg``): its two layouts, the focus on the incident, the
lanes (graph breaks, commits over their bursts, deploys), the failure window bands, the key
moments' lines and labels, the time axis, and the history strip of the whole analysed window
under it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from forensics.model.commits import CommitRecord
from forensics.model.deploys import Deploy, DeployCategory, FailureWindow
from forensics.model.report import Report
from forensics.render import view
from forensics.render.charts.moments import Moment, incident_start, key_moments, short
from forensics.render.charts.svg import (
    DARK_RED,
    RED,
    Axis,
    Labels,
    Layout,
    diamond,
    legend,
    t,
    text_width,
    tidy,
)

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


WIDE = Layout("wide", 1000, 92, 18, 14, 10, 3)
COMPACT = Layout("compact", 380, 8, 8, 14, 4, 4)


def _kind(report: Report, sha: str) -> str:
    kinds = view.change_kinds(report, sha)
    for kind in _KIND_ORDER:
        if kind in kinds:
            return kind
    return "other"


def _deploy_legend(d: Deploy, colour: str) -> tuple[str, str, str]:
    return ("diamond", colour, f"deploy: {d.category.value.replace('_', ' ')}")


def _focus(
    report: Report, window: FailureWindow | None, commits: Sequence[CommitRecord]
) -> tuple[datetime, datetime]:
    """The incident: the failure window, and the edits and graph breaks since the last good
    deploy before it. Without a failure window, the bursts and graph breaks; else everything."""
    points: list[datetime] = []
    if window is not None:
        lower, upper = incident_start(report, window), window.end
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


@dataclass(frozen=True)
class _Plot:
    """What the parts of one timeline drawing share: the report, the layout, the time axis
    of the drawn stretch, and the legend. Each part adds what it draws to the legend, which
    lists it in that order: the parts must be drawn in the order the legend shows."""

    report: Report
    lay: Layout
    axis: Axis
    legend: dict[str, tuple[str, str, str]]


@dataclass(frozen=True)
class _Mark:
    """A key moment inside the drawn stretch: where its line is, and its label's row, x,
    anchor and text, or None when no row had room for it."""

    moment: Moment
    x: float
    placed: tuple[int, float, str, str] | None


def timeline_svg(report: Report, layout: Layout = WIDE) -> str:
    """The incident on one time axis, with a thin strip of the whole window under it."""
    lay = layout
    commits = view.timeline_commits(report)
    window = view.current_window(report)
    start, end = _focus(report, window, commits)
    axis = Axis(start, end, lay.left, lay.width - lay.left - lay.right)
    plot = _Plot(report, lay, axis, {})
    marks, outside, label_rows = _place_moments(plot, key_moments(report, window))
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
    legend_svg, y = legend(list(plot.legend.values()), lay, y + 8)
    out.append(legend_svg)
    height = round(y + 6)
    label = f"Timeline of the incident, {view.when(start)} to {view.when(end)}"
    head = (
        f'<svg class="chart timeline" role="img" viewBox="0 0 {lay.width} {height}" '
        f'width="100%" aria-label="{t(label)}" font-family="system-ui, sans-serif">\n'
        f"<title>{t(label)}</title>\n"
        f'<rect x="0" y="0" width="{lay.width}" height="{height}" fill="#ffffff"/>'
    )
    return tidy("\n".join([head, *out, "</svg>"]))


def _place_moments(plot: _Plot, moments: Sequence[Moment]) -> tuple[list[_Mark], list[Moment], int]:
    """The key moments inside the drawn stretch, their labels placed in rows above it
    ("still failing", after the stretch, sits at its right edge); the moments outside it,
    which the history strip shows; and how many label rows are used."""
    axis, lay = plot.axis, plot.lay
    labels = Labels(lay.label_rows, 2, lay.width - 2, lay.font)
    inside: list[tuple[Moment, float]] = []
    outside: list[Moment] = []
    for m in moments:
        if m.kind == "still-failing" and m.at > axis.end:
            inside.append((m, axis.right))
        elif axis.inside(m.at):
            inside.append((m, axis.x(m.at)))
        else:
            outside.append(m)
    solved = labels.solve([(x, (m.label, short(m)), True) for m, x in inside])
    marks = [_Mark(m, x, placed) for (m, x), placed in zip(inside, solved, strict=True)]
    return marks, outside, labels.used


def _lane_name(lay: Layout, name: str, top: float, height: float) -> tuple[str, float]:
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
            f'height="10" rx="2" fill="{DARK_RED}" fill-opacity="0.75">'
            f"<title>{t(tip)}</title></rect>"
        )
    plot.legend["graph"] = ("bar", DARK_RED, "migration graph broken")
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
            f'stroke="#ffffff" stroke-width="1.2"><title>{t(tip)}</title></circle>'
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
            f"<title>{t(tip)}</title></rect>"
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
        shape = diamond(axis.x(d.created_at), top + 5 + size + row * (size * 2 + 1), size)
        out.append(
            f'<path class="deploy" d="{shape}" fill="{colour}"><title>{t(tip)}</title></path>'
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
            f'height="{plot_bottom - plot_top:.1f}" fill="{RED}" fill-opacity="0.07" '
            f'stroke="{RED}" stroke-opacity="0.35" stroke-dasharray="4 3">'
            f"<title>{t(f'failure window: {w.count} failed deploy(s), {state}')}</title></rect>"
        )
        plot.legend["window"] = ("band", RED, "failure window")
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
            f'stroke-dasharray="3 2"><title>{t(m.tip)}</title></line>'
        )
        if placed is not None:
            row, tx, anchor, text = placed
            ty = plot_top - 6 - row * row_h
            out.append(
                f'<text class="moment-label" x="{tx:.1f}" y="{ty:.1f}" font-size="{font}" '
                f'font-weight="700" text-anchor="{anchor}" fill="{m.colour}">{t(text)}'
                f"<title>{t(m.tip)}</title></text>"
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
        half = text_width(text, small) / 2
        tx = min(max(x, half + 2), lay.width - half - 2)
        out.append(
            f'<line x1="{x}" y1="{axis_y}" x2="{x}" y2="{axis_y + 5}" stroke="#57606a"/>'
            f'<text x="{tx}" y="{axis_y + 6 + lay.font}" font-size="{small}" '
            f'text-anchor="middle" fill="#57606a">{t(text)}</text>'
        )
    return out


@dataclass(frozen=True)
class _Strip:
    """Where the history strip is drawn: on the axis of the whole analysed window, from
    ``top``, ``height`` high."""

    whole: Axis
    top: float
    height: float


def _context_strip(
    plot: _Plot, commits: Sequence[CommitRecord], moments: Sequence[Moment], y: float
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


def _whole_axis(plot: _Plot, commits: Sequence[CommitRecord]) -> Axis | None:
    """The axis of the whole analysed window (at least the drawn stretch), or None when the
    drawn stretch covers most of it, so the strip would add nothing."""
    report, lay, focus = plot.report, plot.lay, plot.axis
    times = [c.committed_at for c in commits] + [d.created_at for d in report.deploys]
    first = report.since or min(times, default=focus.start)
    whole = Axis(min(first, focus.start), max(report.until, focus.end), lay.left, focus.width)
    if (focus.end - focus.start) >= 0.75 * (whole.end - whole.start):
        return None
    return whole


def _strip_frame(lay: Layout, strip: _Strip) -> list[str]:
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
                f'height="{strip.height}" fill="{RED}" fill-opacity="0.25"/>'
            )
            plot.legend["window"] = ("band", RED, "failure window")
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


def _strip_labels(lay: Layout, strip: _Strip, moments: Sequence[Moment]) -> tuple[list[str], int]:
    """The dates at the strip's ends and the key moments on it, labelled in rows under it.
    Returns them and how many rows are used."""
    whole = strip.whole
    font = round(lay.font * 0.9, 1)
    labels = Labels(3, 2, lay.width - 2, font)
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
                (f"{m.label} {m.at.astimezone(UTC).strftime('%m-%d %H:%M')}", m.label, short(m)),
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
                f'text-anchor="{anchor}" fill="#57606a">{t(text)}</text>'
            )
    for m, placed in zip(shown, solved[2:], strict=True):
        out += _strip_moment(whole.x(m.at), m, placed, strip.top, base, font)
    return out, labels.used


def _strip_moment(
    x: float,
    m: Moment,
    placed: tuple[int, float, str, str] | None,
    top: float,
    base: float,
    font: float,
) -> list[str]:
    """A key moment's line on the strip, down to its label in the rows from ``base``."""
    low = base + (placed[0] if placed else 0) * (font + 5)
    out = [
        f'<line class="moment" x1="{x}" y1="{top}" x2="{x}" y2="{low + (4 if placed else -4)}" '
        f'stroke="{m.colour}" stroke-width="1.5"><title>{t(m.tip)}</title></line>'
    ]
    if placed is not None:
        _row, tx, anchor, text = placed
        out.append(
            f'<text class="moment-label" x="{tx:.1f}" y="{low + font:.1f}" font-size="{font}" '
            f'font-weight="700" text-anchor="{anchor}" fill="{m.colour}">{t(text)}'
            f"<title>{t(m.tip)}</title></text>"
        )
    return out
