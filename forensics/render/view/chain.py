"""The migration chain of each environment, as a Mermaid flowchart and as a text tree."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from forensics.model.report import ChainNode, EnvironmentSummary
from forensics.render.mermaid import Flowchart
from forensics.render.view.text import one_line

ANNOTATION_ORDER = ("production", "head", "applied", "modified", "broken", "base")


@dataclass(frozen=True)
class ChainView:
    """The migration chain of one environment, as Mermaid, as a text tree and as nodes."""

    name: str
    mermaid: str
    tree: str
    nodes: tuple[ChainNode, ...]
    summary: EnvironmentSummary


def marks_of(node: ChainNode) -> list[str]:
    return sorted(
        node.annotations,
        key=lambda a: (ANNOTATION_ORDER.index(a) if a in ANNOTATION_ORDER else 99, a),
    )


def _mermaid(nodes: Sequence[ChainNode]) -> str:
    ids = {n.revision: f"n{i}" for i, n in enumerate(nodes)}
    chart = Flowchart()
    for n in nodes:
        label = n.revision + (f": {one_line(n.message, 40)}" if n.message else "")
        marks = marks_of(n)
        if marks:
            label += f" [{', '.join(marks)}]"
        chart.node(ids[n.revision], label)
    for n in nodes:
        for parent in n.parents:
            if parent in ids:
                chart.edge(ids[n.revision], ids[parent])
    for cls, style in (
        ("production", "stroke:#1a7f37,stroke-width:3px"),
        ("modified", "fill:#ffe5e5,stroke:#cf222e"),
        ("broken", "fill:#cf222e,color:#fff"),
        ("head", "stroke:#0969da,stroke-width:3px"),
    ):
        chart.style(cls, style, [ids[n.revision] for n in nodes if cls in n.annotations])
    return chart.text()


def _tree(nodes: Sequence[ChainNode]) -> str:
    """An indented tree from the oldest revisions down; a merge revision is shown once,
    under its first parent in the chain, and named under the others."""
    known = {n.revision: n for n in nodes}
    children: dict[str, list[str]] = {n.revision: [] for n in nodes}
    roots = []
    for n in nodes:
        inside = [p for p in n.parents if p in known]
        if not inside:
            roots.append(n.revision)
        for p in inside:
            children[p].append(n.revision)
    lines: list[str] = []
    shown: set[str] = set()

    def label(n: ChainNode) -> str:
        text = n.revision + (f" ({one_line(n.message, 50)})" if n.message else "")
        outside = [p for p in n.parents if p not in known]
        if outside:
            text += f" ← {', '.join(outside)} …"
        marks = marks_of(n)
        return text + (f"  [{', '.join(marks)}]" if marks else "")

    def walk(rev: str, prefix: str, connector: str, indent: str) -> None:
        if rev in shown:
            lines.append(f"{prefix}{connector}{rev} (merge revision, shown above)")
            return
        shown.add(rev)
        lines.append(prefix + connector + label(known[rev]))
        kids = children[rev]
        for i, child in enumerate(kids):
            last = i == len(kids) - 1
            walk(child, prefix + indent, "└─→ " if last else "├─→ ", "    " if last else "│   ")

    for root in roots:
        walk(root, "", "", "")
    return "\n".join(lines)


def view(env: EnvironmentSummary) -> ChainView:
    return ChainView(env.name, _mermaid(env.chain), _tree(env.chain), env.chain, env)
