"""What the charts share: text escaping (``t``: every text drawn goes through it, because
messages, authors and paths come from the analysed repository), coordinate tidying, the text
width estimate, the palette, the time axis, the layout of a drawing, the label placer and
the legend.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from html import escape

RED, DARK_RED, GREEN, BLUE = "#cf222e", "#82071e", "#1a7f37", "#0969da"
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


def t(text: object) -> str:
    return escape(str(text), quote=True)


_ATTRIBUTE = re.compile(r'="([^"]*)"')
_LONG_NUMBER = re.compile(r"\d+\.\d{3,}")


def tidy(svg: str) -> str:
    """Coordinates with one decimal: float sums leave ``236.79999999999998`` otherwise.
    Only attribute values are touched, never text."""

    def number(m: re.Match[str]) -> str:
        return f"{float(m.group()):.1f}"

    return _ATTRIBUTE.sub(lambda m: '="' + _LONG_NUMBER.sub(number, m.group(1)) + '"', svg)


class Axis:
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
class Layout:
    """One drawing of the timeline: the wide one for screens and paper, the compact one
    for phones (the page shows one or the other with a CSS media query, so no script)."""

    name: str
    width: int
    left: float  # where the time axis starts; the wide layout names its lanes left of it
    right: float
    font: float
    ticks: int
    label_rows: int


def text_width(text: str, size: float, bold: bool = False) -> float:
    """A generous estimate, so that labels placed apart stay apart in any sans-serif font."""
    return len(text) * size * (0.64 if bold else 0.6)


@dataclass
class _Label:
    row: int
    x0: float
    x1: float
    line_x: float | None


class Labels:
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
            width = text_width(text, self.size, bold=True)
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


def diamond(x: float, y: float, size: float) -> str:
    return f"M{x} {y - size} L{x + size * 0.85} {y} L{x} {y + size} L{x - size * 0.85} {y} Z"


def _legend_item(x: float, y: float, shape: str, colour: str, text: str, font: float) -> str:
    if shape == "circle":
        mark = f'<circle cx="{x + 6}" cy="{y - font * 0.35:.1f}" r="5" fill="{colour}"/>'
    elif shape == "diamond":
        mark = f'<path d="{diamond(x + 6, round(y - font * 0.35, 1), 6)}" fill="{colour}"/>'
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
    return f'{mark}<text x="{x + 18}" y="{y}" font-size="{font}" fill="#24292f">{t(text)}</text>'


def legend(items: Sequence[tuple[str, str, str]], lay: Layout, y: float) -> tuple[str, float]:
    """Only what the chart shows, wrapped to the drawing's width."""
    if not items:
        return "", y
    font = round(lay.font * 0.9, 1)
    out, x, y = [], 8.0, y + font
    for shape, colour, text in items:
        advance = 18 + text_width(text, font) + 14
        if x > 8 and x + advance - 14 > lay.width - 4:
            x, y = 8.0, y + font + 8
        out.append(_legend_item(x, y, shape, colour, text, font))
        x += advance
    return '<g class="legend">' + "".join(out) + "</g>", y + 4
