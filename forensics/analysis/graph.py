"""The revision graph of one Alembic environment, with Alembic's own semantics. The only
module that uses networkx.

Edges run parent -> child. ``down_revision`` edges decide heads, bases, branch points and
merge points (as ``alembic heads`` does); ``depends_on`` edges count for ancestry, missing
parents and cycles.
"""

from __future__ import annotations

import dataclasses
from collections import Counter, defaultdict
from collections.abc import Callable, Container, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING

from forensics.model.migrations import (
    Environment,
    GraphEventKind,
    GraphProblem,
    GraphState,
    MigrationFile,
)
from forensics.model.rules import RuleId, rule

if TYPE_CHECKING:
    import networkx as nx

# networkx is imported where a graph is built, not at module load: it takes a tenth of a
# second, and a run whose graphs come from the mining cache never builds one.

# The graph-event kind of each graph rule (DESIGN.md's vocabulary of `history`).
EVENT_KINDS: dict[RuleId, GraphEventKind] = {
    RuleId.FX101: GraphEventKind.MULTIPLE_HEADS,
    RuleId.FX102: GraphEventKind.DUPLICATE_REVISION,
    RuleId.FX103: GraphEventKind.MISSING_PARENT,
    RuleId.FX104: GraphEventKind.CYCLE,
    RuleId.FX105: GraphEventKind.PARSE_ERROR,
    RuleId.FX106: GraphEventKind.MISSING_REVISION,
    RuleId.FX107: GraphEventKind.UNRESOLVED_METADATA,
}


def _problem(
    rule_id: RuleId,
    env: Environment,
    detail: str,
    revision: str | None = None,
    path: str | None = None,
    line: int | None = None,
) -> GraphProblem:
    entry = rule(rule_id)
    return GraphProblem(
        rule=rule_id,
        name=entry.name,
        kind=EVENT_KINDS[rule_id],
        severity=entry.severity,
        detail=detail,
        revision=revision,
        path=path,
        line=line,
        environment=env.name,
    )


def _valid(m: MigrationFile) -> bool:
    """A file that gives a graph node under its own revision."""
    return m.parses and m.revision is not None


def _file_problem(env: Environment, m: MigrationFile) -> GraphProblem | None:
    """FX105, FX106 or FX107: what is wrong with one file on its own."""
    if m.parse_error is not None:
        where = f"{m.path}:{m.parse_error.line}" if m.parse_error.line else m.path
        return _problem(
            RuleId.FX105,
            env,
            f"{where} does not parse: {m.parse_error.message}",
            path=m.path,
            line=m.parse_error.line,
        )
    if m.revision is None:
        hint = f" (its docstring says Revision ID {m.doc_revision})" if m.doc_revision else ""
        how = (
            "a `revision` that is not a literal" if "revision" in m.unresolved else "no `revision`"
        )
        return _problem(
            RuleId.FX106, env, f"{m.path} has {how}{hint}", revision=m.doc_revision, path=m.path
        )
    fields = [f for f in m.unresolved if f != "revision"]
    if not fields:
        return None
    return _problem(
        RuleId.FX107,
        env,
        f"{', '.join(fields)} of {m.revision} in {m.path} is not a literal and could "
        "not be resolved statically",
        revision=m.revision,
        path=m.path,
        line=m.revision_line,
    )


def _duplicate(env: Environment, rev: str, paths: Sequence[str]) -> GraphProblem:
    return _problem(
        RuleId.FX102,
        env,
        f"revision {rev} is declared by {len(paths)} files: {', '.join(paths)}",
        revision=rev,
        path=paths[0],
    )


def _missing(
    env: Environment, m: MigrationFile, declared: Container[str], labels: Container[str]
) -> GraphProblem | None:
    """FX103 for one valid file: the parents it names that no file declares."""
    missing = [p for p in m.down_revisions if p not in declared]
    missing += [p for p in m.depends_on if p not in declared and p not in labels]
    if not missing:
        return None
    return _problem(
        RuleId.FX103,
        env,
        f"{m.revision} ({m.path}) names {', '.join(missing)} as parent, which no "
        "file of the environment declares",
        revision=m.revision,
        path=m.path,
        line=m.revision_line,
    )


def _cycle(
    env: Environment, component: Iterable[str], path_of: Callable[[str], str]
) -> GraphProblem:
    members = sorted(component)
    return _problem(
        RuleId.FX104,
        env,
        f"revisions {', '.join(members)} form a cycle",
        revision=members[0],
        path=path_of(members[0]),
    )


def _stand_in(m: MigrationFile) -> MigrationFile:
    """A broken file standing in for the revision its docstring names."""
    parents = m.down_revisions if m.parses else (m.doc_revises or ())
    return dataclasses.replace(m, revision=m.doc_revision, down_revisions=parents)


def _stand_ins(migrations: Iterable[MigrationFile]) -> list[MigrationFile]:
    """The files that give graph nodes: those with a revision, plus broken ones (no parse,
    no literal revision) whose docstring header names a revision no other file declares.
    Keeping the latter in place stops one broken file from also orphaning its children."""
    migrations = list(migrations)
    declared = {m.revision for m in migrations if _valid(m)}
    nodes = [m for m in migrations if _valid(m)]
    for m in migrations:
        if not _valid(m) and m.doc_revision and m.doc_revision not in declared:
            declared.add(m.doc_revision)
            nodes.append(_stand_in(m))
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
                # an edge already there keeps its kind: depends_on never makes a down edge
                down = bool(graph.get_edge_data(parent, m.revision, {}).get("down", False))
                graph.add_edge(parent, m.revision, down=down)
        for parent in m.down_revisions:
            if parent in declared:
                graph.add_edge(parent, m.revision, down=True)
    return graph


def _down(graph: nx.DiGraph) -> nx.DiGraph:
    return graph.edge_subgraph([(u, v) for u, v, down in graph.edges(data="down") if down])


def _multiple_heads(
    env: Environment,
    lineage: Callable[[str], set[str]],
    heads: Sequence[str],
    files: Mapping[str, MigrationFile],
    orphans: set[str],
) -> list[GraphProblem]:
    """FX101 over the heads whose lineage (``lineage(head)``: the head and its ancestors
    through down_revision) is intact. A head cut off by a missing parent is that FX103's
    fault, not a second head. A head carries its own branch labels and those of its
    ancestors; heads each with a label no other head has are a design."""
    if len(heads) < 2:
        return []
    lineages = {h: lineage(h) for h in heads}
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
            RuleId.FX101,
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


def _file_problems(
    env: Environment, migrations: Sequence[MigrationFile]
) -> tuple[list[GraphProblem], dict[str, list[MigrationFile]]]:
    """Each file's own problem, by path, and the valid files grouped by revision (in path
    order, so that a duplicate's first file is the first by path)."""
    problems: list[GraphProblem] = []
    by_revision: dict[str, list[MigrationFile]] = defaultdict(list)
    for m in sorted(migrations, key=lambda m: m.path):
        problem = _file_problem(env, m)
        if problem is not None:
            problems.append(problem)
        if _valid(m):
            assert m.revision is not None
            by_revision[m.revision].append(m)
    return problems, by_revision


def _reference_problems(
    env: Environment,
    by_revision: Mapping[str, Sequence[MigrationFile]],
    files: Mapping[str, MigrationFile],
) -> list[GraphProblem]:
    """FX102 for each revision declared twice, then FX103 for each file whose parent is
    neither a revision nor a branch label."""
    problems = [
        _duplicate(env, rev, [m.path for m in group])
        for rev, group in sorted(by_revision.items())
        if len(group) > 1
    ]
    valid = [m for group in by_revision.values() for m in group]
    labels = {label for m in valid for label in m.branch_labels}
    for m in sorted(valid, key=lambda m: m.path):
        missing = _missing(env, m, files, labels)
        if missing is not None:
            problems.append(missing)
    return problems


def _cycles(
    env: Environment, graph: nx.DiGraph, files: Mapping[str, MigrationFile]
) -> list[GraphProblem]:
    """FX104 for each strongly connected component that loops (a self-edge counts)."""
    import networkx as nx

    return [
        _cycle(env, component, lambda rev: files[rev].path)
        for component in nx.strongly_connected_components(graph)
        if len(component) > 1 or any(graph.has_edge(n, n) for n in component)
    ]


def _down_lineage(down: nx.DiGraph) -> Callable[[str], set[str]]:
    """A head and its ancestors through down_revision edges."""
    import networkx as nx

    return lambda h: {h} | (nx.ancestors(down, h) if h in down else set())


def _in_order(migrations: Sequence[MigrationFile], topo: Sequence[str]) -> list[MigrationFile]:
    """``migrations`` in topological order; files without a graph node last, by path."""
    order = {rev: i for i, rev in enumerate(topo)}
    return sorted(
        migrations,
        key=lambda m: (
            m.revision is None or m.revision not in order,
            order.get(m.revision or "", 0),
            m.path,
        ),
    )


def build_state(env: Environment, migrations: Sequence[MigrationFile]) -> GraphState:
    """The graph of ``env`` and its problems. ``GraphState.migrations`` comes in topological
    order (bases first); files without a revision follow, sorted by path."""
    env_problems, by_revision = _file_problems(env, migrations)
    valid = [m for group in by_revision.values() for m in group]
    nodes = _stand_ins(migrations)
    files: dict[str, MigrationFile] = {}
    for node in nodes:
        files.setdefault(node.revision or "", node)
    env_problems += _reference_problems(env, by_revision, files)
    graph = _graph(nodes)
    env_problems += _cycles(env, graph, files)

    down = _down(graph)
    children = {rev: [c for c in down.successors(rev)] if rev in down else [] for rev in files}
    heads = tuple(sorted(rev for rev, kids in children.items() if not kids))
    orphans = {m.revision or "" for m in valid if any(p not in files for p in m.down_revisions)}
    env_problems += _multiple_heads(env, _down_lineage(down), heads, files, orphans)

    topo = _order(graph)
    return GraphState(
        environment=env,
        migrations=tuple(_in_order(migrations, topo)),
        heads=heads,
        bases=tuple(sorted(rev for rev, m in files.items() if not m.down_revisions)),
        branch_points=tuple(sorted(rev for rev, kids in children.items() if len(kids) > 1)),
        merge_points=tuple(sorted(rev for rev, m in files.items() if len(m.down_revisions) > 1)),
        problems=tuple(env_problems),
        order=tuple(topo),
    )


_Parents = dict[str, frozenset[str]]
_Ancestors = dict[frozenset[str], frozenset[str]]
# id -> (the state, kept so that its id stays its own; its parents; the ancestors asked of
# it). By identity: a state is hashed through every file it holds, which cost more than
# the walk it saved.
_KNOWN: dict[int, tuple[GraphState, _Parents, _Ancestors]] = {}
_KNOWN_STATES = 16


def _known(state: GraphState) -> tuple[GraphState, _Parents, _Ancestors]:
    known = _KNOWN.get(id(state))
    if known is None or known[0] is not state:
        if len(_KNOWN) >= _KNOWN_STATES:
            _KNOWN.clear()
        known = _KNOWN[id(state)] = (state, _parents_of(state), {})
    return known


def _parents_of(state: GraphState) -> _Parents:
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
    _state, parents, asked = _known(state)
    question = frozenset(revisions)
    answer = asked.get(question)
    if answer is None:
        found: set[str] = set()
        todo = [rev for rev in question if rev in parents]
        while todo:
            rev = todo.pop()
            if rev not in found:
                found.add(rev)
                todo.extend(parents[rev] - found)
        answer = asked[question] = frozenset(found)
    return set(answer)


def topological(state: GraphState) -> list[str]:
    """All declared revisions, parents before children (cycles kept together)."""
    return list(state.order)


def _drop(counter: Counter[str], key: str) -> bool:
    """Decrement; ``True`` when the key went away."""
    counter[key] -= 1
    if counter[key] <= 0:
        del counter[key]
        return True
    return False


class GraphTracker:
    """The heads and problems of one environment, kept up to date file by file.

    ``build_state`` builds a whole graph; over a history of n commits that is n graphs of
    up to n revisions. The tracker changes only what a file touches (its revision, the
    revisions it names, the files that name it), so a history costs about one update per
    changed file. It gives the same heads and problems as ``build_state`` would.
    """

    def __init__(self, env: Environment) -> None:
        self.env = env
        self.files: dict[str, MigrationFile] = {}
        self.local: dict[str, GraphProblem] = {}
        self.valid: defaultdict[str, set[str]] = defaultdict(set)
        self.standby: defaultdict[str, set[str]] = defaultdict(set)
        # declared revision -> its node files (every valid file, else one stand-in)
        self.nodes: dict[str, list[MigrationFile]] = {}
        # name -> revisions whose node files name it, counted per naming
        self.kids: defaultdict[str, Counter[str]] = defaultdict(Counter)
        self.deps: defaultdict[str, Counter[str]] = defaultdict(Counter)
        self.named_by: defaultdict[str, set[str]] = defaultdict(set)
        self.labels: Counter[str] = Counter()
        self.missing: dict[str, GraphProblem] = {}
        self.orphaned: set[str] = set()
        self.duplicates: dict[str, GraphProblem] = {}
        self.heads: set[str] = set()
        self.cycles: list[GraphProblem] = []
        self._snapshot: tuple[tuple[str, ...], tuple[GraphProblem, ...]] | None = None

    # -- updates -----------------------------------------------------------------------------
    def put(self, path: str, new: MigrationFile | None) -> None:
        """Put ``new`` at ``path`` (``None``: the file is gone)."""
        old = self.files.pop(path, None)
        if old is None and new is None:
            return
        self._snapshot = None
        labels_before = set(self.labels)
        if old is not None:
            self._unindex(path, old)
        if new is not None:
            self.files[path] = new
            self._index(path, new)
        flipped = set(self.labels) ^ labels_before
        structural: list[tuple[str, str]] = []
        for rev in {k for k in (_key(old), _key(new)) if k}:
            flipped |= self._renode(rev, structural)
        recheck = {path} | {p for name in flipped for p in self.named_by.get(name, ())}
        for p in recheck:
            self._check_missing(p)
        self._check_cycles(structural)

    def _index(self, path: str, m: MigrationFile) -> None:
        problem = _file_problem(self.env, m)
        if problem is not None:
            self.local[path] = problem
        if _valid(m):
            assert m.revision is not None
            self.valid[m.revision].add(path)
            self.labels.update(m.branch_labels)
            for name in {*m.down_revisions, *m.depends_on}:
                self.named_by[name].add(path)
        elif m.doc_revision:
            self.standby[m.doc_revision].add(path)

    def _unindex(self, path: str, m: MigrationFile) -> None:
        self.local.pop(path, None)
        self.missing.pop(path, None)
        self.orphaned.discard(path)
        if _valid(m):
            assert m.revision is not None
            self.valid[m.revision].discard(path)
            for label in m.branch_labels:
                _drop(self.labels, label)
            for name in {*m.down_revisions, *m.depends_on}:
                self.named_by[name].discard(path)
        elif m.doc_revision:
            self.standby[m.doc_revision].discard(path)

    def _renode(self, rev: str, structural: list[tuple[str, str]]) -> set[str]:
        """Recompute the node files of ``rev`` and their edges. Returns ``{rev}`` when it
        became declared or undeclared; appends to ``structural`` the edges (parent, child)
        that came into being."""
        old = self.nodes.get(rev, [])
        valid = sorted(self.valid.get(rev, ()))
        if valid:
            new = [self.files[p] for p in valid]
        elif self.standby.get(rev):
            new = [_stand_in(self.files[min(self.standby[rev])])]
        else:
            new = []
        touched = {rev}
        for node in old:
            for parent in node.down_revisions:
                _drop(self.kids[parent], rev)
                touched.add(parent)
            for parent in node.depends_on:
                _drop(self.deps[parent], rev)
        for node in new:
            for parent in node.down_revisions:
                self.kids[parent][rev] += 1
                touched.add(parent)
            for parent in node.depends_on:
                self.deps[parent][rev] += 1
        was = rev in self.nodes
        if new:
            self.nodes[rev] = new
        else:
            self.nodes.pop(rev, None)
        old_edges = {p for n in old for p in (*n.down_revisions, *n.depends_on)}
        new_edges = {p for n in new for p in (*n.down_revisions, *n.depends_on)}
        structural += [(p, rev) for p in new_edges - old_edges]
        if new and not was:
            structural += [(rev, kid) for kid in self._successors(rev)]
        if len(valid) > 1:
            self.duplicates[rev] = _duplicate(self.env, rev, valid)
        else:
            self.duplicates.pop(rev, None)
        for name in touched:
            if name in self.nodes and not self.kids.get(name):
                self.heads.add(name)
            else:
                self.heads.discard(name)
        return {rev} if was != bool(new) else set()

    def _check_missing(self, path: str) -> None:
        m = self.files.get(path)
        self.missing.pop(path, None)
        self.orphaned.discard(path)
        if m is None or not _valid(m):
            return
        problem = _missing(self.env, m, self.nodes, self.labels)
        if problem is not None:
            self.missing[path] = problem
        if any(p not in self.nodes for p in m.down_revisions):
            self.orphaned.add(path)

    def _successors(self, rev: str) -> Iterable[str]:
        return (*self.kids.get(rev, ()), *self.deps.get(rev, ()))

    def _check_cycles(self, added: list[tuple[str, str]]) -> None:
        """A cycle can only appear through a new edge whose child reaches its parent; known
        cycles (rare) are recomputed after every change."""
        if not self.cycles and not any(
            self._reaches(c, p) for p, c in added if p in self.nodes and c in self.nodes
        ):
            return
        import networkx as nx

        graph = _graph([n for nodes in self.nodes.values() for n in nodes])
        self.cycles = sorted(
            (
                _cycle(self.env, component, lambda rev: self.nodes[rev][0].path)
                for component in nx.strongly_connected_components(graph)
                if len(component) > 1 or any(graph.has_edge(n, n) for n in component)
            ),
            key=lambda p: p.detail,
        )

    def _reaches(self, start: str, goal: str) -> bool:
        seen = {start}
        todo = [start]
        while todo:
            rev = todo.pop()
            if rev == goal:
                return True
            for kid in self._successors(rev):
                if kid not in seen:
                    seen.add(kid)
                    todo.append(kid)
        return False

    # -- reading -----------------------------------------------------------------------------
    def _lineage(self, head: str) -> set[str]:
        found = {head}
        todo = [head]
        while todo:
            rev = todo.pop()
            for node in self.nodes.get(rev, ()):
                for parent in node.down_revisions:
                    if parent in self.nodes and parent not in found:
                        found.add(parent)
                        todo.append(parent)
        return found

    def snapshot(self) -> tuple[tuple[str, ...], tuple[GraphProblem, ...]]:
        """The heads and the problems, as ``build_state`` gives them."""
        if self._snapshot is None:
            heads = tuple(sorted(self.heads))
            orphans = {self.files[p].revision or "" for p in self.orphaned}
            rep = _Representatives(self.nodes)
            problems = (
                *(self.local[p] for p in sorted(self.local)),
                *(self.duplicates[r] for r in sorted(self.duplicates)),
                *(self.missing[p] for p in sorted(self.missing)),
                *self.cycles,
                *_multiple_heads(self.env, self._lineage, heads, rep, orphans),
            )
            self._snapshot = (heads, problems)
        return self._snapshot


class _Representatives(Mapping[str, MigrationFile]):
    """Declared revision -> its first node file, without copying the node table."""

    def __init__(self, nodes: dict[str, list[MigrationFile]]) -> None:
        self.nodes = nodes

    def __getitem__(self, rev: str) -> MigrationFile:
        return self.nodes[rev][0]

    def __iter__(self) -> Iterator[str]:
        return iter(self.nodes)

    def __len__(self) -> int:
        return len(self.nodes)


def _key(m: MigrationFile | None) -> str | None:
    """The revision a file gives a node for, or would stand in for."""
    if m is None:
        return None
    return m.revision if _valid(m) else m.doc_revision
