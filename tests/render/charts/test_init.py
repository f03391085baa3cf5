"""charts: inline SVG timeline and migration chain, with every text escaped."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import timedelta
from itertools import pairwise

from forensics.model.report import ChainNode, EnvironmentSummary, Report
from forensics.render.charts import COMPACT, KIND_COLOURS, Labels, chain_svg, timeline_svg


def _parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # well-formed XML, so nothing leaks out of an attribute


def _texts(root: ET.Element, cls: str) -> list[str]:
    return [(el.text or "").strip() for el in root.iter() if el.get("class") == cls]


def _legend(root: ET.Element) -> list[str]:
    legend = next(el for el in root.iter("g") if el.get("class") == "legend")
    return [el.text or "" for el in legend.iter("text")]


def test_timeline_has_commits_deploys_bursts_windows_and_legend(report: Report) -> None:
    svg = timeline_svg(report)
    root = _parse(svg)
    classes = [el.get("class") for el in root.iter()]
    assert classes.count("commit") == 9  # every commit of the window, burst and others
    assert classes.count("deploy") == 9  # the failed ones; the older ones are in the strip
    assert "burst" in classes and "window" in classes and "graph-break" in classes
    colours = {el.get("fill") for el in root.iter() if el.get("class") == "commit"}
    assert {"#000000", "#8250df", "#cf222e", "#8c959f", "#54aeff"} <= colours


def test_timeline_labels_the_key_moments(report: Report) -> None:
    root = _parse(timeline_svg(report))
    labels = _texts(root, "moment-label")
    assert labels[:4] == ["first failure", "graph broken", "fix 07a5d2c5", "still failing"]
    # Before the drawn stretch, on the strip of the whole window: when production applied
    # the migration, and the last good deploy.
    context = next(el for el in root.iter("g") if el.get("class") == "context")
    strip = [el.text or "" for el in context.iter("text")]
    assert any(t.startswith("applied 774225e563ca") for t in strip), strip
    assert any(t.startswith("last good deploy") for t in strip), strip
    tips = [el.findtext("title") or "" for el in root.iter() if el.get("class") == "moment"]
    assert any("dep-live" in tip for tip in tips)


def test_timeline_legend_lists_only_what_it_shows(report: Report) -> None:
    root = _parse(timeline_svg(report))
    legend = _legend(root)
    drawn = {el.get("fill") for el in root.iter() if el.get("class") == "commit"}
    kinds = {text for colour, text in KIND_COLOURS.values() if colour in drawn}
    assert {t.removeprefix("commit: ") for t in legend if t.startswith("commit: ")} == kinds
    assert "commit: added a migration" not in legend  # no commit of the fixture adds one
    assert "deploy: failed" in legend and "deploy: live" in legend  # live: in the strip
    assert "deploy: canceled" not in legend and "deploy: in progress" not in legend
    assert "failure window" in legend and "burst of edits" in legend


def test_recovered_window_is_labelled_recovered(report: Report) -> None:
    (window,) = report.failure_windows
    healed = replace(window, recovered_by="dep-fixed", end=window.end + timedelta(minutes=5))
    root = _parse(timeline_svg(replace(report, failure_windows=(healed,))))
    labels = _texts(root, "moment-label")
    assert "recovered" in labels and "still failing" not in labels


def test_compact_timeline_is_narrow_and_keeps_the_moments(report: Report) -> None:
    root = _parse(timeline_svg(report, COMPACT))
    assert root.get("viewBox", "").startswith(f"0 0 {COMPACT.width} ")
    labels = _texts(root, "moment-label")
    assert any(t.startswith("first failure") for t in labels)
    assert any(t.startswith("still failing") for t in labels)
    sizes = {float(el.get("font-size", "0")) for el in root.iter("text")}
    assert min(sizes) >= 12  # drawn about 1:1 on a phone


def test_labels_never_overlap_they_shorten_or_go() -> None:
    labels = Labels(rows=2, low=0, high=300, size=13)
    items = [(x, (f"a long label at {x}", "x"), True) for x in (20, 30, 40, 50, 60, 70, 80)]
    placed = [p for p in labels.solve(items) if p is not None]
    assert 0 < len(placed) < len(items)
    spans = [(label.row, label.x0, label.x1) for label in labels.placed]
    for i, (row, a0, a1) in enumerate(spans):
        for other_row, b0, b1 in spans[i + 1 :]:
            assert row != other_row or a1 <= b0 or b1 <= a0


def test_timeline_escapes_messages(report: Report) -> None:
    svg = timeline_svg(report)
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert "http" not in svg


def test_timeline_without_events_is_still_an_axis(report: Report) -> None:
    bare = Report(
        generated_at=report.generated_at,
        repo_path=".",
        rev="0" * 40,
        since=None,
        until=report.until,
    )
    root = _parse(timeline_svg(bare))
    assert root.tag == "svg" and [el for el in root.iter("text")]


def test_chain_nodes_annotations_and_edges(report: Report) -> None:
    env = report.environments[0]
    svg = chain_svg(env)
    root = _parse(svg)
    nodes = [el for el in root.iter("g") if el.get("class") == "node"]
    assert len(nodes) == len(env.chain)
    lines = [el for el in root.iter("line") if el.get("marker-end")]
    assert len(lines) == sum(len(n.parents) for n in env.chain if n.parents)
    assert "applied · modified" in svg and "production · applied" in svg
    assert "&lt;b&gt;x&lt;/b&gt;" in svg and "<b>" not in svg


def test_chain_marks_parents_outside_the_drawing(report: Report) -> None:
    env = report.environments[0]
    cut = replace(env, chain=env.chain[3:])
    svg = chain_svg(cut)
    assert "774225e563ca …" in svg


def test_chain_marker_ids_differ_per_environment() -> None:
    node = ChainNode("aaaa", "v/a.py", None, ())
    one = chain_svg(EnvironmentSummary("one", ("v",), 1, ("aaaa",), ("aaaa",), (node,)))
    two = chain_svg(EnvironmentSummary("two", ("v",), 1, ("aaaa",), ("aaaa",), (node,)))
    ids = [_parse(s).find(".//marker").get("id") for s in (one, two)]  # type: ignore[union-attr]
    assert ids[0] != ids[1]


def test_chain_legend_lists_only_the_marks_drawn() -> None:
    node = ChainNode("aaaa", "v/a.py", None, (), ("head",))
    root = _parse(chain_svg(EnvironmentSummary("one", ("v",), 1, ("aaaa",), ("aaaa",), (node,))))
    assert _legend(root) == ["head"]


def test_many_labels_stay_apart_and_the_search_stays_small() -> None:
    labels = Labels(rows=3, low=0, high=1000, size=13)
    items = [(float(x), (f"label {x}", "l"), True) for x in range(0, 1000, 9)]
    placed = labels.solve(items)
    assert len(placed) == len(items) and sum(p is not None for p in placed) >= 10
    spans = sorted((label.row, label.x0, label.x1) for label in labels.placed)
    for (row, _, a1), (other_row, b0, _) in pairwise(spans):
        assert row != other_row or a1 <= b0
