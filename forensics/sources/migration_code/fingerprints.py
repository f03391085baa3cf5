"""The fingerprints of a migration file: of its text (line endings aside), and the semantic
ones of its syntax tree, which ignore what formatters change so that
``analysis.changes.classify`` can tell cosmetic edits from code and metadata edits.
"""

from __future__ import annotations

import ast
import builtins
import hashlib
from collections.abc import Iterable
from typing import Any

from forensics.sources.migration_code.constants import string_literal
from forensics.sources.migration_code.metadata import METADATA_FIELDS

# -- the semantic fingerprint ---------------------------------------------------------------
# What black, ruff format, isort and pyupgrade change and nothing else does not count: layout,
# parentheses, trailing commas, comments and quote style (absent from the AST), docstrings,
# the `u` string prefix (the AST keeps it as `kind`), the order, grouping and repetition of
# imports, `from __future__` imports of what Python 3 always does, `class C(object)`, and
# type annotations with the `typing`/`collections.abc` imports only they use (pyupgrade's and
# ruff's `Union[str, None]` -> `str | None` on Alembic's own template) as long as every name
# an annotation uses is still bound: an import removed from under an annotation is code.
# pyupgrade's printf-style and `.format` rewrites (to `.format` or f-strings) DO count as
# code: `'%s' % x` and `'{}'.format(x)` call different methods (`__str__` against
# `__format__`, which differ for enum members with a mixed-in type, for example), and a
# mistaken "cosmetic" hides an edit of an applied migration, while a mistaken "code" only
# costs a reader a look.
_PYTHON3_FUTURES = frozenset(
    {
        "nested_scopes", "generators", "division", "absolute_import", "with_statement",
        "print_function", "unicode_literals", "generator_stop",
    }
)  # fmt: skip
_SCOPES = (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
_TYPING = frozenset({"typing", "typing_extensions", "collections.abc"})
_BUILTINS = frozenset(dir(builtins))


class _Text(str):
    """Output of the canonical form, told apart from string values still to be written."""

    __slots__ = ()


def _is_docstring(stmt: ast.stmt) -> bool:
    return isinstance(stmt, ast.Expr) and string_literal(stmt.value) is not None


def _single_imports(stmts: Iterable[ast.stmt]) -> list[ast.stmt]:
    """Import statements split into one per name, sorted, without repeats, without no-op
    ``__future__`` imports: how isort groups and orders them does not count."""
    found: dict[str, ast.stmt] = {}
    for stmt in stmts:
        if isinstance(stmt, ast.Import):
            for alias in stmt.names:
                single: ast.stmt = ast.Import(names=[alias])
                found.setdefault(_canonical(single), single)
        elif isinstance(stmt, ast.ImportFrom):
            for alias in stmt.names:
                if stmt.module == "__future__" and alias.name in _PYTHON3_FUTURES:
                    continue
                single = ast.ImportFrom(module=stmt.module, names=[alias], level=stmt.level)
                found.setdefault(_canonical(single), single)
    return [found[key] for key in sorted(found)]


def _statements(stmts: list[ast.stmt]) -> list[ast.stmt]:
    """``stmts`` with each run of consecutive imports in canonical order."""
    result: list[ast.stmt] = []
    run: list[ast.stmt] = []
    for stmt in [*stmts, None]:
        if isinstance(stmt, ast.Import | ast.ImportFrom):
            run.append(stmt)
            continue
        result.extend(_single_imports(run))
        run = []
        if stmt is not None:
            result.append(stmt)
    return result


def _is_annotation(node: ast.AST, name: str) -> bool:
    return (name == "annotation" and isinstance(node, ast.AnnAssign | ast.arg)) or (
        name == "returns" and isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    )


def _fields(node: ast.AST, annotations: bool = True) -> list[tuple[str, object]]:
    """The fields of ``node`` that count, normalised. Empty and absent fields are left out,
    so that fields added by later Pythons (``type_params``) do not change the result."""
    kind = type(node)
    if kind not in _PLAIN:
        return _special_fields(node, annotations)
    fields: list[tuple[str, object]] = []
    for name in kind._fields:
        value = getattr(node, name, None)
        if value is not None and value != []:
            fields.append((name, value))
    return fields


def _special_fields(node: ast.AST, annotations: bool) -> list[tuple[str, object]]:
    fields: list[tuple[str, object]] = []
    for name in node._fields:
        value = getattr(node, name, None)
        if isinstance(node, ast.Constant) and name == "kind":
            continue
        if not annotations and _is_annotation(node, name):
            continue
        if name in ("body", "orelse", "finalbody") and isinstance(value, list):
            if isinstance(node, _SCOPES) and value and _is_docstring(value[0]):
                value = value[1:] or [ast.Pass()]
            value = _statements(value)
        elif isinstance(node, ast.ClassDef) and name == "bases":
            value = [b for b in node.bases if not (isinstance(b, ast.Name) and b.id == "object")]
        if value is not None and value != []:
            fields.append((name, value))
    return fields


def _is_plain(kind: type) -> bool:
    """Whether ``_special_fields`` would change nothing for nodes of ``kind``: no string
    prefix, no annotation, no statement list, no class bases."""
    names = set(getattr(kind, "_fields", ()))
    special = {"kind", "annotation", "returns", "body", "orelse", "finalbody", "bases"}
    return not names & special


_PLAIN = frozenset(
    kind
    for kind in vars(ast).values()
    if isinstance(kind, type) and issubclass(kind, ast.AST) and _is_plain(kind)
)
# Deeper than this, ``_canonical`` leaves recursion for its explicit stack.
_RECURSION_DEPTH = 120


class _TooDeep(Exception):
    pass


def _canonical(node: ast.AST, annotations: bool = True) -> str:
    """A text form of ``node`` (like ``ast.dump``, normalised as above; without type
    annotations unless ``annotations``). Recursive, which is fast, up to a depth; an
    ordinary migration can nest deeper than Python's recursion limit (an ``if/elif`` chain
    of 250 branches, a sum of 1,000 terms), and such a node is written from an explicit
    stack instead."""
    out: list[str] = []
    try:
        _dump(node, annotations, out, 0)
    except _TooDeep:
        return _canonical_from_stack(node, annotations)
    return "".join(out)


def _dump(item: object, annotations: bool, out: list[str], depth: int) -> None:
    if isinstance(item, ast.AST):
        if depth > _RECURSION_DEPTH:
            raise _TooDeep
        out.append(type(item).__name__ + "(")
        first = True
        for name, value in _fields(item, annotations):
            out.append(f"{name}=" if first else f", {name}=")
            first = False
            _dump(value, annotations, out, depth + 1)
        out.append(")")
    elif isinstance(item, list):
        out.append("[")
        for i, element in enumerate(item):
            if i:
                out.append(", ")
            _dump(element, annotations, out, depth + 1)
        out.append("]")
    else:
        out.append(repr(item))


def _canonical_from_stack(node: ast.AST, annotations: bool = True) -> str:
    """``_canonical`` built without recursion, for any depth."""
    out: list[str] = []
    stack: list[object] = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, _Text):
            out.append(item)
        elif isinstance(item, ast.AST):
            out.append(type(item).__name__ + "(")
            stack.append(_Text(")"))
            for i, (name, value) in reversed(list(enumerate(_fields(item, annotations)))):
                stack.append(value)
                stack.append(_Text(f"{', ' if i else ''}{name}="))
        elif isinstance(item, list):
            out.append("[")
            stack.append(_Text("]"))
            for i, element in reversed(list(enumerate(item))):
                stack.append(element)
                if i:
                    stack.append(_Text(", "))
        else:
            out.append(repr(item))
    return "".join(out)


def _names(tree: ast.Module, lines: list[str] | None = None) -> tuple[set[str], bool]:
    """The names read outside type annotations, and whether every name an annotation reads
    is bound (by the module or as a builtin). With the module's ``lines``, each top-level
    statement is looked at once per run whatever the number of file versions holding it."""
    in_annotations: set[str] = set()
    elsewhere: set[str] = set()
    bound: set[str] = set(_BUILTINS)
    complete = True
    for stmt in tree.body:
        key = _statement_key(stmt, lines) if lines is not None else None
        found = _NAMES_SEEN.get(key) if key is not None else None
        if found is None:
            found = _statement_names(stmt)
            if key is not None:
                _remember(_NAMES_SEEN, key, found)
        in_annotations |= found[0]
        elsewhere |= found[1]
        bound |= found[2]
        complete = complete and found[3]
    return elsewhere, complete and in_annotations <= bound


_Names = tuple[frozenset[str], frozenset[str], frozenset[str], bool]


def _statement_names(stmt: ast.stmt) -> _Names:
    """Names read in annotations, names read elsewhere, names bound, and whether no
    ``import *`` hides what is bound, in one statement."""
    in_annotations: set[str] = set()
    elsewhere: set[str] = set()
    bound: set[str] = set()
    complete = True
    stack: list[tuple[ast.AST, bool]] = [(stmt, False)]
    while stack:
        node, annotation = stack.pop()
        if isinstance(node, ast.Name):
            if isinstance(node.ctx, ast.Load):
                (in_annotations if annotation else elsewhere).add(node.id)
            else:
                bound.add(node.id)
        elif isinstance(node, ast.alias):
            complete = complete and node.name != "*"
            bound.add(node.asname or node.name.split(".")[0])
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            bound.add(node.name)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        for name, in_annotation in _child_fields(type(node)):
            value = getattr(node, name, None)
            inside = annotation or in_annotation
            if isinstance(value, list):
                stack.extend((child, inside) for child in value if isinstance(child, ast.AST))
            elif isinstance(value, ast.AST):
                stack.append((value, inside))
    return frozenset(in_annotations), frozenset(elsewhere), frozenset(bound), complete


# What was worked out for a top-level statement, by its text: the versions of a migration
# over its history share most of their statements, and each is read once per run.
_StatementKey = tuple[int, int, str]
_NAMES_SEEN: dict[_StatementKey, _Names] = {}
_CANONICAL_SEEN: dict[tuple[_StatementKey, bool], str] = {}
_SEEN_LIMIT = 50_000


def _remember(memo: dict[Any, Any], key: Any, value: Any) -> None:
    if len(memo) >= _SEEN_LIMIT:
        memo.clear()
    memo[key] = value


def source_lines(text: str) -> list[str]:
    """``text`` in lines as the Python parser counts them (``\r\n``, ``\r`` and ``\n``
    end a line; a form feed does not)."""
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def _statement_key(stmt: ast.stmt, lines: list[str]) -> _StatementKey | None:
    """The statement's text (its decorators included) as whole lines, with the columns
    where it starts and ends in them: two statements with the same key are the same text,
    so the same tree."""
    first: ast.stmt | ast.expr = stmt
    decorators = getattr(stmt, "decorator_list", None)
    if decorators:
        first = decorators[0]
    end = stmt.end_lineno
    if end is None or stmt.end_col_offset is None or first.lineno > stmt.lineno:
        return None
    return first.col_offset, stmt.end_col_offset, "\n".join(lines[first.lineno - 1 : end])


_CHILD_FIELDS: dict[type, tuple[tuple[str, bool], ...]] = {}


def _child_fields(kind: type) -> tuple[tuple[str, bool], ...]:
    """The fields of ``kind`` that may hold nodes with names (a context, ``Load`` or
    ``Store``, holds none), each with whether it is a type annotation."""
    found = _CHILD_FIELDS.get(kind)
    if found is None:
        annotation = {"annotation"} if kind in (ast.AnnAssign, ast.arg) else set()
        if kind in (ast.FunctionDef, ast.AsyncFunctionDef):
            annotation = {"returns"}
        names: tuple[str, ...] = getattr(kind, "_fields", ())
        found = tuple((name, name in annotation) for name in names if name != "ctx")
        _CHILD_FIELDS[kind] = found
    return found


def _typing_only(stmt: ast.stmt, elsewhere: set[str]) -> bool:
    """A single-name import from the typing modules whose name nothing but annotations read."""
    if isinstance(stmt, ast.ImportFrom) and stmt.module in _TYPING and not stmt.level:
        alias = stmt.names[0]
        return (alias.asname or alias.name) not in elsewhere
    if isinstance(stmt, ast.Import) and stmt.names[0].name in _TYPING:
        alias = stmt.names[0]
        return (alias.asname or alias.name.split(".")[0]) not in elsewhere
    return False


def fingerprints(tree: ast.Module, lines: list[str] | None = None) -> tuple[str, str]:
    """Two hashes of the canonical form: of the whole module, and of the module without its
    metadata assignments (the code). Top-level imports count wherever they stand."""
    body = tree.body[1:] if tree.body and _is_docstring(tree.body[0]) else tree.body
    elsewhere, annotations_bound = _names(tree, lines)
    keep = not annotations_bound
    imports = [
        _canonical(s) for s in _single_imports(body) if keep or not _typing_only(s, elsewhere)
    ]
    code: list[str] = []
    everything: list[str] = []
    for stmt in body:
        if isinstance(stmt, ast.Import | ast.ImportFrom):
            continue
        key = _statement_key(stmt, lines) if lines is not None else None
        text = _CANONICAL_SEEN.get((key, keep)) if key is not None else None
        if text is None:
            text = _canonical(stmt, annotations=keep)
            if key is not None:
                _remember(_CANONICAL_SEEN, (key, keep), text)
        everything.append(text)
        if _assigned_name(stmt) not in METADATA_FIELDS:
            code.append(text)
    return _sha("\n".join(imports + everything)), _sha("\n".join(imports + code))


def _assigned_name(stmt: ast.stmt) -> str | None:
    if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
        target = stmt.targets[0]
        return target.id if isinstance(target, ast.Name) else None
    if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
        return stmt.target.id
    return None


def _sha(text: str | bytes) -> str:
    data = text.encode("utf-8", errors="surrogatepass") if isinstance(text, str) else text
    return hashlib.sha256(data).hexdigest()


def text_fingerprint(data: bytes) -> str:
    """sha256 of the raw bytes with CRLF and CR line endings made LF."""
    return _sha(data.replace(b"\r\n", b"\n").replace(b"\r", b"\n"))
