"""OutputFormat and parse_formats."""

from __future__ import annotations

import json

import pytest

from forensics.errors import UsageError
from forensics.model.report import Report
from forensics.render import OutputFormat, parse_formats


def test_parse_formats_in_order_without_duplicates() -> None:
    assert parse_formats("md,html, JSON,sarif,md") == [
        OutputFormat.MD,
        OutputFormat.HTML,
        OutputFormat.JSON,
        OutputFormat.SARIF,
    ]


@pytest.mark.parametrize("text", ["md,pdf", "", " , "])
def test_unknown_or_empty_format_is_a_one_line_usage_error(text: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse_formats(text)
    message = str(caught.value)
    assert "\n" not in message and "md, html, json, sarif" in message


def test_each_format_renders_with_its_suffix(report: Report) -> None:
    suffixes = {f: f.suffix for f in OutputFormat}
    assert suffixes == {
        OutputFormat.MD: ".md",
        OutputFormat.HTML: ".html",
        OutputFormat.JSON: ".json",
        OutputFormat.SARIF: ".sarif",
        OutputFormat.SUMMARY: ".summary.md",
    }
    assert OutputFormat.MD.render(report).startswith("# ")
    assert OutputFormat.HTML.render(report).startswith("<!DOCTYPE html>")
    assert json.loads(OutputFormat.JSON.render(report))["schema"] == "forensics.report/1"
    assert json.loads(OutputFormat.SARIF.render(report))["version"] == "2.1.0"
    summary = OutputFormat.SUMMARY.render(report)
    assert summary.startswith("# ") and "**Do this now**" in summary
    assert summary == OutputFormat.MD.render(report)[: len(summary) - 1] + "\n"
