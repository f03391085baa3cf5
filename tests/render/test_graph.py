"""Rendering of ``dag`` and ``history``: exact JSON keys, annotated text, safe Mermaid."""

from __future__ import annotations

from datetime import UTC, datetime

from forensics.analysis.graph import build_state
from forensics.model.migrations import (
    Environment,
    GraphEvent,
    GraphState,
    HistoryPoint,
    MigrationFile,
    TableOps,
)
from forensics.render import mermaid
from forensics.render.graph import dag_json, dag_mermaid, dag_text, history_json, history_text

ENV = Environment("migrations", "migrations", ("migrations/versions",))
SHA = "a" * 40
AT = datetime(2025, 11, 13, 9, 30, tzinfo=UTC)


def _state() -> GraphState:
    evil = 'add "users" ]; click r1 call alert() \x1b[31m'
    return build_state(
        ENV,
        [
            MigrationFile("migrations/versions/a.py", "a", message="base"),
            MigrationFile(
                "migrations/versions/b.py",
                "b",
                ("a",),
                tables=TableOps(create=("users",)),
                message=evil,
            ),
            MigrationFile("migrations/versions/c.py", "c", ("a",), branch_labels=("x",)),
            MigrationFile("migrations/versions/m.py", "m", ("b", "c"), depends_on=("a",)),
        ],
    )


def test_dag_json_keys_exactly() -> None:
    doc = dag_json(SHA, [_state()])
    assert list(doc) == ["schema", "rev", "environments"] and doc["schema"] == "forensics.dag/1"
    [env] = doc["environments"]
    assert list(env) == [
        "name",
        "versions_dirs",
        "revision_count",
        "revisions",
        "heads",
        "bases",
        "problems",
        "docstring_mismatches",
    ]
    assert env["revision_count"] == 4 and env["heads"] == ["m"] and env["bases"] == ["a"]
    assert list(env["revisions"]["b"]) == [
        "path",
        "down_revisions",
        "depends_on",
        "branch_labels",
        "tables",
    ]
    assert env["revisions"]["b"]["tables"] == {"create": ["users"], "drop": []}
    assert env["revisions"]["m"]["depends_on"] == ["a"]


def test_dag_json_problem_keys() -> None:
    state = build_state(
        ENV,
        [
            MigrationFile("v/a.py", "a"),
            MigrationFile("v/b.py", "b", ("a",)),
            MigrationFile("v/c.py", "c", ("a",)),
        ],
    )
    [problem] = dag_json(SHA, [state])["environments"][0]["problems"]
    assert list(problem) == ["rule", "name", "severity", "revision", "path", "detail"]
    assert (problem["rule"], problem["name"], problem["severity"]) == (
        "FX101",
        "multiple-heads",
        "high",
    )


def test_dag_text_marks_heads_branches_merges_and_cleans() -> None:
    text = dag_text(SHA, [_state()])
    assert "b, c (depends on a) -> m (head) (mergepoint)" in text
    assert "<base> -> a (branchpoint), base" in text
    assert "a -> c (x)" in text
    assert "\x1b" not in text and "problems: none" in text
    assert text.index("-> m") < text.index("-> a ")


def test_mermaid_escapes_untrusted_labels() -> None:
    chart = dag_mermaid(SHA, [_state()])
    assert chart.startswith("flowchart BT")
    assert '"users"' not in chart and "#34;users#34;" in chart
    assert "\x1b" not in chart and "]; click" not in chart and "#93;#59; click" in chart
    assert "class r4 head" in chart
    # the report's chain and the dag share one writer and one escaping
    assert mermaid.label('add "users" ];') in chart


def test_history_json_and_text() -> None:
    events = [
        GraphEvent(
            "parse-error",
            "FX105",
            "b" * 40,
            AT,
            "x.py:3 does not parse",
            "c" * 40,
            AT.replace(minute=50),
            None,
            "x.py",
            "migrations",
        ),
        GraphEvent("multiple-heads", "FX101", "d" * 40, AT, "2 heads", environment="migrations"),
    ]
    doc = history_json(SHA, events)
    assert list(doc) == ["schema", "rev", "graph_events"] and doc["schema"] == "forensics.history/1"
    first = doc["graph_events"][0]
    assert list(first)[:6] == ["kind", "commit", "at", "resolved_by", "revision", "path"]
    assert first["at"] == "2025-11-13T09:30:00Z" and first["resolved_at"] == "2025-11-13T09:50:00Z"
    assert doc["graph_events"][1]["resolved_by"] is None
    point = HistoryPoint("b" * 40, AT, (("migrations", ("a", "b")),), ())
    text = history_text(SHA, events, [point])
    assert (
        "resolved by cccccccc" in text and "STILL OPEN" in text and "heads migrations: a, b" in text
    )


def test_one_mermaid_writer_lays_out_groups_edges_and_styles() -> None:
    chart = mermaid.Flowchart()
    chart.comment("graph at abc")
    with chart.group("env0", "a<b>"):
        chart.node("r1", "base")
        chart.node("r2", "x`y|z\x1b")
        chart.edge("r2", "r1")
        chart.edge("r2", "r1", dashed=True)
    chart.style("head", "stroke-width:3px", ["r2"])
    chart.style("broken", "fill:#fdd", [])
    assert chart.text().splitlines() == [
        "flowchart BT",
        "  %% graph at abc",
        '  subgraph env0["a#60;b#62;"]',
        '    r1["base"]',
        '    r2["x#96;y#124;z#27;"]',
        "    r2 --> r1",
        "    r2 -.-> r1",
        "  end",
        "  classDef head stroke-width:3px",
        "  class r2 head",
    ]
