"""Every renderer over a report whose every text field holds hostile text: lone surrogates,
NUL, RTL marks and overrides, line separators, ANSI escapes and markup."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from forensics.model.report import Report
from forensics.model.text import clean, clean_tree, map_text
from forensics.render import OutputFormat
from tests.hostile import ANY_CHARACTER, controls
from tests.render.conftest import seed_report

PIECES = [
    "\udc8f",
    "\ud800",
    "\x00",
    "\u200f",
    "\u202e",
    "\u2066",
    "\u2028",
    "\u2029",
    "\x1b[31m",
    "\x1b]0;TITLE\x07",
    "\x1b[2J",
    "\x85",
    "\x9b",
    "\r",
    "\x0c",
    "\x7f",
    "<script>",
    "|",
    "`",
    "\n",
    "é",
    "\U0001f6a8",
]
HOSTILE = st.lists(
    st.sampled_from(PIECES) | st.text(ANY_CHARACTER, max_size=3),
    min_size=1,
    max_size=6,
).map("".join)
SEED = seed_report()


def poisoned(before: str, after: str) -> Report:
    """The seed report with ``before`` and ``after`` around every string in it. The same
    text everywhere keeps the references between fields (commit SHAs, rule ids) intact."""
    return map_text(SEED, lambda text: f"{before}{text}{after}")


@settings(max_examples=40, deadline=None)
@given(HOSTILE, HOSTILE)
def test_every_renderer_gives_valid_utf8_without_controls(before: str, after: str) -> None:
    report = poisoned(before, after)
    for fmt in OutputFormat:
        text = fmt.render(report)
        text.encode("utf-8")  # strict: a lone surrogate would raise here
        if fmt.for_people:
            assert not controls(text), fmt
        else:
            assert not controls(text)
            assert json.loads(text)
    # JSON keeps every value, only made valid: nothing is lost on the way.
    doc = json.loads(OutputFormat.JSON.render(report))
    assert doc["title"] == clean(report.title)
    assert doc["findings"][0]["detail"] == clean(report.findings[0].detail)
    assert doc["deploys"][-1]["message"] == clean(report.deploys[-1].message or "")


@settings(max_examples=40, deadline=None)
@given(HOSTILE, HOSTILE)
def test_clean_tree_leaves_no_string_that_utf8_refuses(before: str, after: str) -> None:
    seen: list[str] = []

    def check(text: str) -> str:
        text.encode("utf-8")
        seen.append(text)
        return text

    map_text(clean_tree(poisoned(before, after)), check)
    assert len(seen) > 100  # every field was reached
