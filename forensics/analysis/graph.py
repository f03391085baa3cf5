"""The revision graph of one Alembic environment, with Alembic's own semantics. The only
module that uses networkx.

Edges run parent -> child. ``down_revision`` edges decide heads, bases, branch points and
merge points (as ``alembic heads`` does); ``depends_on`` edges count for ancestry, missing
parents and cycles.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING

from forensics.model.findings import Severity
from forensics.model.migrations import Environment, GraphProblem, GraphState, MigrationFile

if TYPE_CHECKING:
    import networkx as nx

# networkx is imported where a graph is built, not at module load: it takes a tenth of a
# second, and a run whose graphs come from the mining cache never builds one.

# rule id -> (name, event kind, severity)
PROBLEM_RULES: dict[str, tuple[str, str, Severity]] = {
    "FX101": ("multiple-heads", "multiple-heads", Severity.HIGH),
    "FX102": ("duplicate-revision", "duplicate-revision", Severity.HIGH),
    "FX103": ("missing-parent", "missing-parent", Severity.CRITICAL),
    "FX104": ("revision-cycle", "cycle", Severity.CRITICAL),
    "FX105": ("unparseable-migration", "parse-error", Severity.CRITICAL),
    "FX106": ("missing-revision-metadata", "missing-revision", Severity.CRITICAL),
    "FX107": ("unresolved-metadata", "unresolved-metadata", Severity.MEDIUM),
}


def _problem(
    rule: str,
    env: Environment,
    detail: str,
    revision: str | None = None,
    path: str | None = None,
    line: int | None = None,
) -> GraphProblem:
    name, kind, severity = PROBLEM_RULES[rule]
    return GraphProblem(
        rule=rule,
        name=name,
        kind=kind,
        severity=severity,
        detail=detail,
        revision=revision,
        path=path,
        line=line,
        environment=env.name,
    )


def _stand_ins(migrations: Iterable[MigrationFile]) -> list[MigrationFile]:
    """The files that give graph nodes: those with a revision, plus broken ones (no parse,
    no literal revision) whose docstring header names a revision no other file declares.
    Keeping the latter in place stops one broken file from also orphaning its children."""
    migrations = list(migrations)
    declared = {m.revision for m in migrations if m.revision and m.parses}
    nodes = [m for m in migrations if m.revision and m.parses]
    for m in migrations:
        if (
            (m.revision is None or not m.parses)
            and m.doc_revision
            and m.doc_revision not in declared
        ):
            declared.add(m.doc_revision)
            parents = m.down_revisions if m.parses else (m.doc_revises or ())
            nodes.append(dataclasses.replace(m, revision=m.doc_revision, down_revisions=parents))
    return nodes


def _graph(migrations: Iterable[MigrationFile]) -> nx.DiGraph:
    import networkx as nx

    migrations = list(migrations)
    graph = nx.DiGraph()
    declared = {m.revision for m in migrations if m.revision}
    graph.add_nodes_from(sorted(declared))
    for m in migrations:
        if not m.revision:
            continue
        for parent in m.depends_on:
            if parent in declared:
                graph.add_edge(parent, m.revision, down=graph.has_edge(parent, m.revision))
        for parent in m.down_revisions:
            if parent in declared:
                graph.add_edge(parent, m.revision, down=True)
    return graph


def _down(graph: nx.DiGraph) -> nx.DiGraph:
    return graph.edge_subgraph([(u, v) for u, v, down in graph.edges(data="down") if down])


def _multiple_heads(
    env: Environment,
    down: nx.DiGraph,
    heads: Sequence[str],
    files: dict[str, MigrationFile],
    orphans: set[str],
) -> list[GraphProblem]:
    """FX101 over the heads whose lineage is intact. A head cut off by a missing parent is
    that FX103's fault, not a second head. A head carries its own branch labels and those
    of its ancestors; heads each with a label no other head has are a design."""
    import networkx as nx

    lineages = {h: {h} | (nx.ancestors(down, h) if h in down else set()) for h in heads}
    rooted = [h for h in heads if not lineages[h] & orphans]
    if len(rooted) < 2:
        return []
    carried = {
        h: {label for rev in lineages[h] if rev in files for label in files[rev].branch_labels}
        for h in rooted
    }
    unlabelled = [
        h for h in rooted if not carried[h] - set().union(*(carried[o] for o in rooted if o != h))
    ]
    if not unlabelled:
        return []
    return [
        _problem(
            "FX101",
            env,
            f"{len(rooted)} heads ({', '.join(rooted)}); {', '.join(unlabelled)} carry no "
            "distinct branch label, so `alembic upgrade head` fails",
        )
    ]


def _order(graph: nx.DiGraph) -> list[str]:
    import networkx as nx

    try:
        return list(nx.lexicographical_topological_sort(graph))
    except nx.NetworkXUnfeasible:
        condensed = nx.condensation(graph)
        order: list[str] = []
        for component in nx.topological_sort(condensed):
            order.extend(sorted(condensed.nodes[component]["members"]))
        return order


def build_state(env: Environment, migrations: Sequence[MigrationFile]) -> GraphState:
    """The graph of ``env`` and its problems. ``GraphState.migrations`` comes in topological
    order (bases first); files without a revision follow, sorted by path."""
    env_problems: list[GraphProblem] = []
    by_revision: dict[str, list[MigrationFile]] = defaultdict(list)
    for m in sorted(migrations, key=lambda m: m.path):
        if m.parse_error is not None:
            where = f"{m.path}:{m.parse_error.line}" if m.parse_error.line else m.path
            env_problems.append(
                _problem(
                    "FX105",
                    env,
                    f"{where} does not parse: {m.parse_error.message}",
                    path=m.path,
                    line=m.parse_error.line,
                )
            )
            continue
        if m.revision is None:
            hint = f" (its docstring says Revision ID {m.doc_revision})" if m.doc_revision else ""
            how = (
                "a `revision` that is not a literal"
                if "revision" in m.unresolved
                else "no `revision`"
            )
            env_problems.append(
                _problem(
                    "FX106", env, f"{m.path} has {how}{hint}", revision=m.doc_revision, path=m.path
                )
            )
            continue
        by_revision[m.revision].append(m)
        fields = [f for f in m.unresolved if f != "revision"]
        if fields:
            env_problems.append(
                _problem(
                    "FX107",
                    env,
                    f"{', '.join(fields)} of {m.revision} in {m.path} is not a literal and could "
                    "not be resolved statically",
                    revision=m.revision,
                    path=m.path,
                    line=m.revision_line,
                )
            )
    valid = [m for group in by_revision.values() for m in group]
    nodes = _stand_ins(migrations)
    files: dict[str, MigrationFile] = {}
    for node in nodes:
        files.setdefault(node.revision or "", node)
    for rev, group in sorted(by_revision.items()):
        if len(group) > 1:
            paths = [m.path for m in group]
            env_problems.append(
                _problem(
                    "FX102",
                    env,
                    f"revision {rev} is declared by {len(paths)} files: {', '.join(paths)}",
                    revision=rev,
                    path=paths[0],
                )
            )
    labels = {label for m in valid for label in m.branch_labels}
    for m in sorted(valid, key=lambda m: m.path):
        missing = [p for p in m.down_revisions if p not in files]
        missing += [p for p in m.depends_on if p not in files and p not in labels]
        if missing:
            env_problems.append(
                _problem(
                    "FX103",
                    env,
                    f"{m.revision} ({m.path}) names {', '.join(missing)} as parent, which no "
                    "file of the environment declares",
                    revision=m.revision,
                    path=m.path,
                    line=m.revision_line,
                )
            )

    import networkx as nx

    graph = _graph(nodes)
    for component in nx.strongly_connected_components(graph):
        if len(component) > 1 or any(graph.has_edge(n, n) for n in component):
            first = min(component)
            env_problems.append(
                _problem(
                    "FX104",
                    env,
                    f"revisions {', '.join(sorted(component))} form a cycle",
                    revision=first,
                    path=files[first].path,
                )
            )

    down = _down(graph)
    children = {rev: [c for c in down.successors(rev)] if rev in down else [] for rev in files}
    heads = tuple(sorted(rev for rev, kids in children.items() if not kids))
    bases = tuple(sorted(rev for rev, m in files.items() if not m.down_revisions))
    branch_points = tuple(sorted(rev for rev, kids in children.items() if len(kids) > 1))
    merge_points = tuple(sorted(rev for rev, m in files.items() if len(m.down_revisions) > 1))
    orphans = {m.revision or "" for m in valid if any(p not in files for p in m.down_revisions)}
    env_problems += _multiple_heads(env, down, heads, files, orphans)

    topo = _order(graph)
    order = {rev: i for i, rev in enumerate(topo)}
    ordered = sorted(
        migrations,
        key=lambda m: (
            m.revision is None or m.revision not in order,
            order.get(m.revision or "", 0),
            m.path,
        ),
    )
    return GraphState(
        environment=env,
        migrations=tuple(ordered),
        heads=heads,
        bases=bases,
        branch_points=branch_points,
        merge_points=merge_points,
        problems=tuple(env_problems),
        order=tuple(topo),
    )


@lru_cache(maxsize=16)
def _parents(state: GraphState) -> dict[str, frozenset[str]]:
    """Revision -> the declared revisions it names in ``down_revision`` or ``depends_on``."""
    nodes = _stand_ins(state.migrations)
    declared = {m.revision for m in nodes if m.revision}
    parents: dict[str, frozenset[str]] = {}
    for m in nodes:
        if m.revision:
            named = {p for p in (*m.down_revisions, *m.depends_on) if p in declared}
            parents[m.revision] = parents.get(m.revision, frozenset()) | named
    return parents


def ancestors(state: GraphState, revisions: Iterable[str]) -> set[str]:
    """Every revision the given ones descend from through ``down_revision`` and
    ``depends_on``, the given ones included (unknown revisions are ignored)."""
    parents = _parents(state)
    found: set[str] = set()
    todo = [rev for rev in revisions if rev in parents]
    while todo:
        rev = todo.pop()
        if rev not in found:
            found.add(rev)
            todo.extend(parents[rev] - found)
    return found


def topological(state: GraphState) -> list[str]:
    """All declared revisions, parents before children (cycles kept together)."""
    return list(state.order)
