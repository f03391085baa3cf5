"""Output of ``forensics dag`` and ``forensics history``: text, JSON and Mermaid.

Takes model objects only. Paths, messages and details come from the analysed repository and
are untrusted: every value on a line of text output goes through ``for_terminal`` (no
escape sequence, control character or line break); Mermaid is written by ``render.mermaid``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from forensics.model.migrations import GraphEvent, GraphState, HistoryPoint, MigrationFile
from forensics.model.text import for_terminal
from forensics.render.json import event_json, iso
from forensics.render.mermaid import Flowchart


def _clean(text: str | None) -> str:
    return for_terminal(text or "", one_line=True)


def _list(values: Sequence[str]) -> str:
    return ", ".join(map(_clean, values)) or "-"


def _short(sha: str | None) -> str:
    return sha[:8] if sha else "-"


def _revisions(state: GraphState) -> list[MigrationFile]:
    """One file per revision (the first of duplicates), in the state's topological order."""
    seen: set[str] = set()
    found = []
    for m in state.migrations:
        if m.revision and m.revision not in seen:
            seen.add(m.revision)
            found.append(m)
    return found


# -- dag ------------------------------------------------------------------------------------
def dag_text(rev: str, states: Sequence[GraphState]) -> str:
    """An annotated tree like ``alembic history``: newest first, ``parents -> revision``."""
    lines = [f"Migration graph at {rev}"]
    for state in states:
        env = state.environment
        lines += [
            "",
            f"Environment {_clean(env.name)} "
            f"(versions: {', '.join(map(_clean, env.versions_dirs))})",
            f"  heads: {_list(state.heads)}    bases: {_list(state.bases)}",
        ]
        for m in reversed(_revisions(state)):
            marks = []
            if m.revision in state.heads:
                marks.append("(head)")
            if m.revision in state.branch_points:
                marks.append("(branchpoint)")
            if m.revision in state.merge_points:
                marks.append("(mergepoint)")
            if m.branch_labels:
                marks.append(f"({', '.join(map(_clean, m.branch_labels))})")
            parents = ", ".join(m.down_revisions) or "<base>"
            if m.depends_on:
                parents += f" (depends on {', '.join(m.depends_on)})"
            text = f"  {_clean(parents)} -> {_clean(m.revision)}"
            text += (" " + " ".join(marks)) if marks else ""
            text += f", {_clean(m.message)}" if m.message else ""
            lines.append(f"{text}    [{_clean(m.path)}]")
        broken = [m for m in state.migrations if not m.revision]
        for m in broken:
            lines.append(f"  ?? {_clean(m.path)} (no readable revision)")
        if state.problems:
            lines.append("  problems:")
            for p in state.problems:
                lines.append(f"    {p.rule} {p.severity.label} {p.name}: {_clean(p.detail)}")
        else:
            lines.append("  problems: none")
    return "\n".join(lines) + "\n"


def dag_json(rev: str, states: Sequence[GraphState]) -> dict[str, Any]:
    """The ``forensics.dag/1`` document of DESIGN.md, key for key."""
    return {
        "schema": "forensics.dag/1",
        "rev": rev,
        "environments": [
            {
                "name": state.environment.name,
                "versions_dirs": list(state.environment.versions_dirs),
                "revision_count": len(_revisions(state)),
                "revisions": {
                    m.revision: {
                        "path": m.path,
                        "down_revisions": list(m.down_revisions),
                        "depends_on": list(m.depends_on),
                        "branch_labels": list(m.branch_labels),
                        "tables": {"create": list(m.tables.create), "drop": list(m.tables.drop)},
                    }
                    for m in _revisions(state)
                    if m.revision
                },
                "heads": list(state.heads),
                "bases": list(state.bases),
                "problems": [
                    {
                        "rule": p.rule,
                        "name": p.name,
                        "severity": p.severity.label,
                        "revision": p.revision,
                        "path": p.path,
                        "detail": p.detail,
                    }
                    for p in state.problems
                ],
                "docstring_mismatches": [
                    {"path": m.path, "detail": detail}
                    for m in sorted(state.migrations, key=lambda m: m.path)
                    for detail in m.docstring_mismatches
                ],
            }
            for state in states
        ],
    }


def dag_mermaid(rev: str, states: Sequence[GraphState]) -> str:
    """A Mermaid flowchart, bases at the top; heads and broken revisions styled."""
    chart = Flowchart()
    chart.comment(f"migration graph at {rev}")
    counter = 0
    heads: list[str] = []
    broken: list[str] = []
    for index, state in enumerate(states):
        ids: dict[str, str] = {}
        flagged = {p.revision for p in state.problems if p.revision}
        with chart.group(f"env{index}", state.environment.name):
            for m in _revisions(state):
                counter += 1
                node = ids[m.revision or ""] = f"r{counter}"
                label = m.revision or ""
                if m.message:
                    label += f": {m.message[:40]}"
                chart.node(node, label)
                if m.revision in state.heads:
                    heads.append(node)
                if m.revision in flagged:
                    broken.append(node)
            for m in _revisions(state):
                for parent in m.down_revisions:
                    if parent in ids:
                        chart.edge(ids[m.revision or ""], ids[parent])
                for parent in m.depends_on:
                    if parent in ids:
                        chart.edge(ids[m.revision or ""], ids[parent], dashed=True)
    chart.style("head", "stroke-width:3px", heads)
    chart.style("broken", "fill:#fdd,stroke:#c00", broken)
    return chart.text() + "\n"


# -- history --------------------------------------------------------------------------------
def history_json(rev: str, events: Sequence[GraphEvent]) -> dict[str, Any]:
    return {
        "schema": "forensics.history/1",
        "rev": rev,
        "graph_events": [event_json(e) for e in events],
    }


def history_text(rev: str, events: Sequence[GraphEvent], points: Sequence[HistoryPoint]) -> str:
    """The events (opened, resolved or still open), then the graph after each commit."""
    lines = [f"Migration graph history of {rev}", ""]
    if not events:
        lines.append("No graph problems appeared.")
    for e in events:
        where = _clean(e.path or e.revision or e.environment or "")
        if e.resolved_by:
            span = f"resolved by {_short(e.resolved_by)} at {iso(e.resolved_at)}"
        else:
            span = "STILL OPEN"
        lines.append(
            f"{e.rule} {e.kind} {where}: opened by {_short(e.commit)} at {iso(e.at)}, {span}"
        )
        lines.append(f"    {_clean(e.detail)}")
    lines += ["", f"Graph after each of {len(points)} commits that touched a versions folder:"]
    for p in points:
        heads = "; ".join(f"{_clean(env)}: {_list(h)}" for env, h in p.heads)
        status = ", ".join(sorted({f"{x.rule} {x.kind}" for x in p.problems})) or "ok"
        lines.append(f"  {iso(p.at)} {_short(p.commit)}  heads {heads}  [{status}]")
    return "\n".join(lines) + "\n"
