"""The migration chain a report draws: the revisions around the affected ones, annotated.

A small graph is shown whole. A larger one is cut to the revisions within ``radius`` steps
(up or down the ``down_revision`` edges) of the focus revisions, of production's revisions
and of the heads, so that the reader sees where the trouble sits between production and HEAD.
"""

from __future__ import annotations

from collections.abc import Set

from forensics.analysis.graph import topological
from forensics.model.migrations import GraphState
from forensics.model.report import ChainMark, ChainNode

SMALL_GRAPH = 16


def _neighbours(state: GraphState) -> dict[str, set[str]]:
    """Undirected adjacency over the revisions of the state (down_revision and depends_on)."""
    known = state.by_revision()
    links: dict[str, set[str]] = {rev: set() for rev in known}
    for rev, m in known.items():
        for parent in (*m.down_revisions, *m.depends_on):
            if parent in links:
                links[rev].add(parent)
                links[parent].add(rev)
    return links


def _around(links: dict[str, set[str]], seeds: Set[str], radius: int) -> set[str]:
    found = {s for s in seeds if s in links}
    frontier = set(found)
    for _ in range(radius):
        frontier = {n for rev in frontier for n in links[rev]} - found
        found |= frontier
    return found


def chain_nodes(
    state: GraphState,
    applied: Set[str],
    modified: Set[str],
    production: Set[str],
    broken: Set[str],
    focus: Set[str],
    radius: int = 3,
) -> tuple[ChainNode, ...]:
    """The chain around ``focus`` (the whole graph when it is small), parents first, each
    node annotated ``production``, ``head``, ``applied``, ``modified``, ``broken``, ``base``."""
    known = state.by_revision()
    if not known:
        return ()
    if len(known) <= SMALL_GRAPH:
        chosen = set(known)
    else:
        links = _neighbours(state)
        seeds = set(focus) | set(production) | set(state.heads)
        chosen = _around(links, seeds, radius)
    order = [rev for rev in topological(state) if rev in chosen and rev in known]
    nodes = []
    for rev in order:
        m = known[rev]
        marks = [
            name
            for name, members in (
                (ChainMark.PRODUCTION, production),
                (ChainMark.HEAD, state.heads),
                (ChainMark.APPLIED, applied),
                (ChainMark.MODIFIED, modified),
                (ChainMark.BROKEN, broken),
                (ChainMark.BASE, state.bases),
            )
            if rev in members
        ]
        nodes.append(
            ChainNode(
                revision=rev,
                path=m.path,
                message=m.message,
                parents=m.down_revisions,
                annotations=tuple(marks),
            )
        )
    return tuple(nodes)
