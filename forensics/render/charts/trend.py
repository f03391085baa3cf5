"""The weekly delivery-metrics trend (``trend_svg``): a bar per week for the deploys, the
failed part in red, and the median lead time as a line on its own scale.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from forensics.model.metrics import WeekMetrics
from forensics.render.charts.svg import t


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
        f'aria-label="{t(label)}">',
        f"<title>{t(label)}</title>",
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
        f'height="{total_h - failed_h:.1f}" fill="#4ac26b"><title>{t(tip)}</title></rect>'
    ]
    if failed_h:
        out.append(
            f'<rect x="{x:.1f}" y="{base - failed_h:.1f}" width="{bar_w:.1f}" '
            f'height="{failed_h:.1f}" fill="#cf222e"><title>{t(tip)}</title></rect>'
        )
    out.append(
        f'<text x="{x + bar_w / 2:.1f}" y="{base + 14}" font-size="10" text-anchor="middle" '
        f'fill="#57606a">{t(row.week[-3:])}</text>'
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
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="#0969da"><title>{t(tip)}</title>'
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
