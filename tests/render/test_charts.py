"""charts: inline SVG timeline and migration chain, with every text escaped."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import replace

from forensics.model.report import ChainNode, EnvironmentSummary, Report
from forensics.render.charts import chain_svg, timeline_svg


def _parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # well-formed XML, so nothing leaks out of an attribute


def test_timeline_has_commits_deploys_bursts_windows_and_legend(report: Report) -> None:
    svg = timeline_svg(report)
    root = _parse(svg)
    classes = [el.get("class") for el in root.iter()]
    assert classes.count("commit") == 9  # every commit of the window, burst and others
    assert classes.count("deploy") == 9  # the failed ones; the older ones are noted at the edge
    assert "burst" in classes and "window" in classes and "legend" in classes
    assert "last good: dep-live" in svg
    colours = {el.get("fill") for el in root.iter() if el.get("class") == "commit"}
    assert {"#000000", "#8250df", "#cf222e", "#8c959f", "#54aeff"} <= colours


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
