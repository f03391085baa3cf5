"""render_markdown: the ten sections, evidence tables, escaping, stable output."""

from __future__ import annotations

import re
from dataclasses import replace

from forensics.model.report import Report
from forensics.render.markdown import escape, fence, render_markdown, render_summary
from forensics.render.view import SECTIONS
from tests.render.conftest import SCRIPT
from tests.render.golden import check_golden


def _headings(text: str) -> list[str]:
    return re.findall(r"^## (.+)$", text, flags=re.M)


def test_every_section_in_design_order(report: Report) -> None:
    text = render_markdown(report)
    assert text.startswith("# Migration incident report: deploys blocked since 2025-11-16 15:02")
    assert _headings(text)[:10] == [title for _, title in SECTIONS]
    assert "\n**BLOCKED** · 9 deploys failed in a row" in text


def test_audit_section_first_when_present(audit_report: Report) -> None:
    headings = _headings(render_markdown(audit_report))
    assert headings[0] == "Since last audit"
    assert "1 new, 1 still open, 1 resolved" in render_markdown(audit_report)


def test_script_and_markup_in_messages_stay_inert(report: Report) -> None:
    text = render_markdown(report)
    outside_fences = re.sub(r"```.*?```", "", text, flags=re.S)
    assert "<script>" not in outside_fences
    assert "&lt;script&gt;" in text
    assert r"\*\*bold\*\* \| pipe \`tick\`" in text


def test_table_rows_keep_their_column_count(report: Report) -> None:
    """An escaped pipe in a message or author must not open a new cell."""
    text = render_markdown(report)
    for block in re.findall(r"((?:^\|.*\|\n)+)", text, flags=re.M):
        rows = block.splitlines()
        width = len(re.split(r"(?<!\\)\|", rows[0]))
        assert all(len(re.split(r"(?<!\\)\|", row)) == width for row in rows), block


def test_root_cause_has_evidence_table_with_kinds(report: Report) -> None:
    text = render_markdown(report)
    assert "| commit | time | author | message | change |" in text
    assert re.search(
        r"\| `[0-9a-f]{8}` \| 2025-11-16 15:10 UTC \| Dudley \| .* \| parse-error \|", text
    )
    assert "| no migration change |" in text  # the message-only commit of FX402


def test_remediation_commands_in_bash_blocks(report: Report) -> None:
    text = render_markdown(report)
    assert f"```bash\ngit restore --source {report.remediations[0].commands[0].split()[3]}" in text
    assert "(recommended)" in text
    assert r"\`\`\` fence" in text  # a warning holding a fence cannot close a block


def test_chain_as_mermaid_and_tree(report: Report) -> None:
    text = render_markdown(report)
    assert "```mermaid\nflowchart BT" in text
    assert "774225e563ca (Add document AI <b>x</b>)  [applied, modified]" in text
    assert "#60;b#62;" in text  # markup in a Mermaid label is entity-coded


def test_empty_sections_say_so_in_one_line(report: Report) -> None:
    bare = Report(
        generated_at=report.generated_at,
        repo_path=".",
        rev="0" * 40,
        since=None,
        until=report.until,
    )
    text = render_markdown(bare)
    assert _headings(text) == [title for _, title in SECTIONS]
    for line in (
        "No findings: no rule fired for this window.",
        "No deploy data was given (pass --deploys).",
        "No remediation computed: no finding calls for one.",
        "No migration chain to show: no revision was affected.",
        "No commits or deploys in this window.",
        "No files were listed as examined.",
    ):
        assert line in text
    # nothing was checked: the status says so, never HEALTHY by default
    assert "**UNKNOWN** · No deploy, database or health-check evidence was given" in text


def test_deterministic_and_golden(report: Report) -> None:
    text = render_markdown(report)
    assert text == render_markdown(report)
    assert (
        render_markdown(replace(report, generated_at=report.generated_at.replace(hour=9))) != text
    )
    check_golden("report.md", text)


def test_escape_and_fence_helpers() -> None:
    assert escape("# a | b <i>") == r"\# a \| b &lt;i&gt;"
    assert escape("1. x\ny") == r"1\. x y"
    assert fence("a ```` b").startswith("`````\n")
    assert SCRIPT not in escape(SCRIPT)


def test_code_spans_in_our_prose_render_as_code_and_the_rest_stays_escaped() -> None:
    from forensics.model.incidents import literal
    from forensics.render.markdown import inline, prose

    hostile = "a`b|*c*<x>.py"
    text = prose(f"Stop the pushes to {literal(hostile)}, then *push* <once>.")
    # the value is one code span (its backtick made harmless), our prose is escaped
    assert text == r"Stop the pushes to `a'b|*c*<x>.py`, then \*push\* &lt;once&gt;."
    assert prose("an `unbalanced tick") == r"an \`unbalanced tick"
    assert inline("echo `x`") == "`` echo `x` ``"


def test_the_first_screen_is_at_most_15_lines_and_opens_the_report(report: Report) -> None:
    text = render_markdown(report)
    summary = render_summary(report)
    assert len(summary.splitlines()) <= 15
    assert text.startswith(summary.rstrip("\n"))
    assert "**Do this now**" in summary and "\n1. Stop the pushes to `" in summary
    assert "\\`" not in summary
