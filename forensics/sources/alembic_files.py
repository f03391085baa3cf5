"""Static reading of Alembic migration files with ``ast``: never imported, never executed.

Owns the metadata reader (``revision``, ``down_revision``, ``branch_labels``, ``depends_on``,
the docstring header, the tables ``upgrade()`` touches), the resolution of names that refer
to string constants of the same repository (``ConstantResolver``), and the fingerprints that
let ``analysis.changes.classify`` tell cosmetic edits from code and metadata edits.
"""

from __future__ import annotations

import ast
import builtins
import functools
import hashlib
import posixpath
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from forensics.model.migrations import MigrationFile, ParseError, SourceDialect, TableOps

if TYPE_CHECKING:
    from fissix.refactor import RefactoringTool

METADATA_FIELDS = ("revision", "down_revision", "branch_labels", "depends_on")
_HEADER = re.compile(r"^\s*(Revision ID|Revises)\s*:[ \t]*(.*?)\s*$", re.MULTILINE)
_MAX_HOPS = 8  # re-exports followed before giving up (also stops import loops)
_TOO_NESTED = "too many nested parentheses"  # CPython's message beyond 200 levels
_PYTHON2_MAX_CHARS = 512 * 1024
_INDENT = re.compile(r"^[ \t]+", re.MULTILINE)


def _parse(text: str, path: str) -> tuple[ast.Module, SourceDialect]:
    """The module's tree and the Python it is written in. Every failure is a
    ``SyntaxError``, deep nesting included: the interpreter rejects such a file too.

    A file that Python 3 rejects but a Python 2 grammar accepts is Python 2 source (it ran
    under Python 2) and is read from its translation to Python 3 syntax."""
    try:
        return ast.parse(text, filename=path), SourceDialect.PYTHON3
    except SyntaxError as exc:
        error = exc
    except ValueError as exc:  # null bytes
        raise SyntaxError(str(exc)) from None
    except (RecursionError, MemoryError, OverflowError) as exc:
        # CPython's own parser gives up on deep nesting: so would `alembic upgrade`.
        why = type(exc).__name__
        raise SyntaxError(f"nested too deeply for the Python parser ({why})") from None
    # Python 2's parser overflowed its stack at less than half of Python 3's 200 levels of
    # brackets, so such a file is not Python 2 source either. fissix reads some 10,000
    # tokens a second: past a size no real migration reaches, it is not tried.
    tried = error.msg != _TOO_NESTED and len(text) <= _PYTHON2_MAX_CHARS
    translated = _from_python2(text, path) if tried else None
    if translated is None:
        raise error
    return translated, SourceDialect.PYTHON2


# The 2to3 fixers that turn Python 2 syntax into Python 3 syntax with the same meaning (print
# and exec statements, `except E, e`, `raise E, v`, backticks, `<>`, 0777 and 10L literals,
# tuple parameters, u'' and ur'' strings); none of the library renames.
_PYTHON2_FIXERS = tuple(
    f"fissix.fixes.fix_{name}"
    for name in (
        "print", "exec", "except", "raise", "repr", "ne", "numliterals", "tuple_params",
        "unicode",
    )
)  # fmt: skip


@functools.cache
def _python2_tool() -> RefactoringTool:
    # Imported on first need: fissix loads its grammar tables, and Python 2 files are rare.
    from fissix.refactor import RefactoringTool

    return RefactoringTool(list(_PYTHON2_FIXERS))


def _from_python2(text: str, path: str) -> ast.Module | None:
    """The tree of ``text`` read with fissix's Python 2 grammar and translated, or ``None``
    when it is not Python 2 source either."""
    # Python 2 took a tab to the next multiple of 8 columns; Python 3 refuses to guess.
    text = _INDENT.sub(lambda m: m.group(0).expandtabs(8), text.rstrip("\n") + "\n")
    try:
        translated = str(_python2_tool().refactor_string(text, path))
        return ast.parse(translated, filename=path)
    # fissix is a third-party parser fed untrusted text: whatever it raises (its parse and
    # token errors, deep recursion) means "not readable as Python 2", never a stopped run.
    except Exception:
        return None


def _decode(data: bytes) -> tuple[str, bool]:
    """The text and whether it was valid UTF-8 (a BOM is accepted)."""
    try:
        return data.decode("utf-8-sig"), True
    except UnicodeDecodeError:
        return data.decode("utf-8", errors="replace"), False


# -- constants of the repository ------------------------------------------------------------
@dataclass
class _Module:
    """The string constants and imports at module level of one Python file."""

    constants: dict[str, str] = field(default_factory=dict)
    # local name -> (module path or None when relative resolution failed, attribute or None)
    imports: dict[str, tuple[str, str | None]] = field(default_factory=dict)


def _string(node: ast.expr | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def _assignments(tree: ast.Module) -> Iterable[tuple[str, ast.expr, int]]:
    """Top-level ``name = value`` and ``name: T = value``, in source order."""
    for stmt in tree.body:
        if isinstance(stmt, ast.Assign):
            for target in stmt.targets:
                if isinstance(target, ast.Name):
                    yield target.id, stmt.value, stmt.lineno
        elif (
            isinstance(stmt, ast.AnnAssign)
            and isinstance(stmt.target, ast.Name)
            and stmt.value is not None
        ):
            yield stmt.target.id, stmt.value, stmt.lineno


def _imports(tree: ast.Module, path: str) -> dict[str, tuple[str, str | None]]:
    """Local names bound by top-level imports: ``name -> (dotted module, attribute)``.

    ``import a.b as m`` gives ``m -> (a.b, None)``; ``from a import b`` gives ``b -> (a, b)``
    (``b`` may be a module or a constant of ``a``). Relative imports are made absolute from
    the file's own folder, written as a path-like dotted name.
    """
    found: dict[str, tuple[str, str | None]] = {}
    for stmt in tree.body:
        if isinstance(stmt, ast.Import):
            for alias in stmt.names:
                if alias.asname:
                    found[alias.asname] = (alias.name, None)
        elif isinstance(stmt, ast.ImportFrom):
            module = stmt.module or ""
            if stmt.level:
                base = posixpath.dirname(path)
                for _ in range(stmt.level - 1):
                    base = posixpath.dirname(base)
                prefix = base.replace("/", ".")
                module = ".".join(p for p in (prefix, module) if p)
            for alias in stmt.names:
                found[alias.asname or alias.name] = (module, alias.name)
    return found


class ConstantResolver:
    """Resolves module-level string constants of other modules of the same repository.

    Built from the repository's python file paths at one revision and a ``read(path)`` that
    returns the bytes at that revision (git objects, never the working tree). Modules are
    found by dotted name, also below a source root (``src/pkg/cli.py`` for ``pkg.cli``).
    """

    def __init__(self, paths: Iterable[str], read: Callable[[str], bytes | None]) -> None:
        self._read = read
        self._paths = frozenset(p for p in paths if p.endswith(".py"))
        self._by_suffix: dict[str, list[str]] = {}
        for path in self._paths:
            stem = path[:-3]
            if stem.endswith("/__init__") or stem == "__init__":
                stem = stem[: -len("__init__")].rstrip("/")
            parts = stem.split("/")
            for i in range(len(parts)):
                self._by_suffix.setdefault(".".join(parts[i:]), []).append(path)
        self._modules: dict[str, _Module | None] = {}

    def module_path(self, dotted: str) -> str | None:
        """The file of module ``dotted``; the shortest path wins when several match."""
        candidates = self._by_suffix.get(dotted)
        if not candidates:
            return None
        return min(candidates, key=lambda p: (p.count("/"), p))

    def _module(self, path: str) -> _Module | None:
        if path not in self._modules:
            data = self._read(path)
            module: _Module | None = None
            if data is not None:
                try:
                    tree, _dialect = _parse(_decode(data)[0], path)
                except SyntaxError:
                    tree = None
                if tree is not None:
                    module = _Module(_string_constants(tree), _imports(tree, path))
            self._modules[path] = module
        return self._modules[path]

    def constant(self, dotted: str, name: str, hops: int = 0) -> str | None:
        """The string value of ``dotted.name``, following ``from x import name`` re-exports."""
        path = self.module_path(dotted)
        module = self._module(path) if path else None
        if module is None or hops > _MAX_HOPS:
            return None
        if name in module.constants:
            return module.constants[name]
        if name in module.imports:
            source, attr = module.imports[name]
            if attr is not None:
                return self.constant(source, attr, hops + 1)
        return None


# -- the reader -----------------------------------------------------------------------------
class _Unresolved(Exception):
    pass


@dataclass
class _Scope:
    """Names visible in the migration file being read."""

    path: str
    constants: dict[str, str]
    imports: dict[str, tuple[str, str | None]]
    resolver: ConstantResolver | None

    def name(self, name: str) -> str:
        if name in self.constants:
            return self.constants[name]
        if name in self.imports and self.resolver is not None:
            module, attr = self.imports[name]
            if attr is not None:
                value = self.resolver.constant(module, attr)
                if value is not None:
                    return value
        raise _Unresolved(name)

    def attribute(self, node: ast.Attribute) -> str:
        """``alias.NAME`` where ``alias`` is an imported module of the repository."""
        if not isinstance(node.value, ast.Name) or self.resolver is None:
            raise _Unresolved(node.attr)
        bound = self.imports.get(node.value.id)
        if bound is None:
            raise _Unresolved(node.attr)
        module, attr = bound
        dotted = f"{module}.{attr}" if attr else module
        value = self.resolver.constant(dotted, node.attr)
        if value is None:
            raise _Unresolved(node.attr)
        return value

    def text(self, node: ast.expr) -> str:
        value = _string(node)
        if value is not None:
            return value
        if isinstance(node, ast.Name):
            return self.name(node.id)
        if isinstance(node, ast.Attribute):
            return self.attribute(node)
        raise _Unresolved(type(node).__name__)

    def texts(self, node: ast.expr) -> tuple[str, ...]:
        """A string, tuple, list or ``None`` as a tuple of strings."""
        if isinstance(node, ast.Constant) and node.value is None:
            return ()
        if isinstance(node, ast.Tuple | ast.List):
            return tuple(self.text(element) for element in node.elts)
        return (self.text(node),)


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
    return isinstance(stmt, ast.Expr) and _string(stmt.value) is not None


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


def _lines(text: str) -> list[str]:
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


def _fingerprints(tree: ast.Module, lines: list[str] | None = None) -> tuple[str, str]:
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


def _header(doc: str | None) -> tuple[str | None, tuple[str, ...] | None]:
    revision: str | None = None
    revises: tuple[str, ...] | None = None
    for key, value in _HEADER.findall(doc or ""):
        if key == "Revision ID" and revision is None:
            revision = value if value and value != "None" else None
        elif key == "Revises" and revises is None:
            # "Revises: None" (Alembic's template for a base) names no parent.
            revises = tuple(v for v in re.split(r"[\s,]+", value) if v and v != "None")
    return revision, revises


def _tables(tree: ast.Module, scope: _Scope) -> TableOps:
    """Tables created, dropped or renamed by ``op.*`` calls inside ``upgrade()``."""
    create: list[str] = []
    drop: list[str] = []
    rename: list[tuple[str, str]] = []
    upgrades = [
        s
        for s in tree.body
        if isinstance(s, ast.FunctionDef | ast.AsyncFunctionDef) and s.name == "upgrade"
    ]
    for function in upgrades[-1:]:
        for node in ast.walk(function):
            if not (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "op"
            ):
                continue
            op_name = node.func.attr
            args = list(node.args)
            keywords = {k.arg: k.value for k in node.keywords if k.arg}
            try:
                if op_name in ("create_table", "drop_table"):
                    first = args[0] if args else keywords.get("table_name") or keywords["name"]
                    (create if op_name == "create_table" else drop).append(scope.text(first))
                elif op_name == "rename_table":
                    old = args[0] if args else keywords["old_table_name"]
                    new = args[1] if len(args) > 1 else keywords["new_table_name"]
                    rename.append((scope.text(old), scope.text(new)))
            except (_Unresolved, KeyError, IndexError):
                continue
    return TableOps(create=tuple(create), drop=tuple(drop), rename=tuple(rename))


def parses(path: str, data: bytes) -> bool:
    """Whether the file parses, as ``read_migration(path, data).parses`` says, without
    reading its metadata and fingerprints."""
    try:
        _parse(_decode(data)[0], path)
    except SyntaxError:
        return False
    return True


@dataclass(frozen=True)
class _Source:
    """What is known of a migration file before it is parsed."""

    path: str
    text: str
    blob: str | None
    text_fingerprint: str
    warnings: tuple[str, ...]

    @classmethod
    def of(cls, path: str, data: bytes, blob: str | None) -> _Source:
        text, valid_utf8 = _decode(data)
        warnings = () if valid_utf8 else ("not valid UTF-8: read with replacement characters",)
        return cls(path, text, blob, text_fingerprint(data), warnings)


def _unparsed(source: _Source, error: SyntaxError) -> MigrationFile:
    """A file that does not parse. The header still tells which revision the broken file
    is, so that the graph can keep it in place instead of reporting its children as
    orphans."""
    doc_revision, doc_revises = _header(source.text)
    return MigrationFile(
        path=source.path,
        revision=None,
        doc_revision=doc_revision,
        doc_revises=doc_revises,
        parse_error=ParseError(message=error.msg or str(error), line=error.lineno),
        text_fingerprint=source.text_fingerprint,
        blob=source.blob,
        warnings=source.warnings,
    )


def _string_constants(tree: ast.Module) -> dict[str, str]:
    """The module-level names whose last assignment is a string literal, with its value."""
    found: dict[str, str] = {}
    for name, value, _line in _assignments(tree):
        text = _string(value)
        if text is not None:
            found[name] = text
        else:
            found.pop(name, None)
    return found


@dataclass(frozen=True)
class _Metadata:
    """The metadata assignments of a migration, as far as they resolve to strings."""

    resolved: dict[str, tuple[str, ...]]
    unresolved: tuple[str, ...]
    revision: str | None
    revision_line: int | None

    @classmethod
    def of(cls, tree: ast.Module, scope: _Scope) -> _Metadata:
        # the last assignment of each field counts, as when Python runs the module
        values = {
            name: (value, line)
            for name, value, line in _assignments(tree)
            if name in METADATA_FIELDS
        }
        unresolved: list[str] = []
        resolved: dict[str, tuple[str, ...]] = {}
        for name in METADATA_FIELDS:
            if name not in values:
                continue
            try:
                resolved[name] = scope.texts(values[name][0])
            except _Unresolved:
                unresolved.append(name)
        revisions = resolved.get("revision", ())
        revision = revisions[0] if len(revisions) == 1 else None
        if "revision" in resolved and revision is None:
            unresolved.insert(0, "revision")
        line = values["revision"][1] if "revision" in values else None
        return cls(resolved, tuple(unresolved), revision, line)


def _message(doc: str | None) -> str | None:
    """The first line of the docstring: Alembic's ``-m`` message."""
    return doc.strip().splitlines()[0].strip() if doc and doc.strip() else None


def read_migration(
    path: str,
    data: bytes,
    *,
    blob: str | None = None,
    constants: ConstantResolver | None = None,
) -> MigrationFile:
    """Read one migration file's metadata statically. Never raises on any input: a file that
    does not parse gets ``parse_error``; values that are not literals (and cannot be
    resolved as string constants of this repository) are listed in ``unresolved``."""
    source = _Source.of(path, data, blob)
    try:
        tree, dialect = _parse(source.text, path)
    except SyntaxError as exc:
        return _unparsed(source, exc)
    doc = ast.get_docstring(tree, clean=True)
    scope = _Scope(path, _string_constants(tree), _imports(tree, path), constants)
    metadata = _Metadata.of(tree, scope)
    # A header that disagrees with the code is not a warning of the file: callers summarise
    # them per environment (MigrationFile.docstring_mismatches).
    doc_revision, doc_revises = _header(doc)
    # A tree translated from Python 2 has the positions of its translation, not of ``text``.
    lines = _lines(source.text) if dialect is SourceDialect.PYTHON3 else None
    ast_fingerprint, body_fingerprint = _fingerprints(tree, lines)
    return MigrationFile(
        path=path,
        revision=metadata.revision,
        down_revisions=metadata.resolved.get("down_revision", ()),
        depends_on=metadata.resolved.get("depends_on", ()),
        branch_labels=metadata.resolved.get("branch_labels", ()),
        unresolved=metadata.unresolved,
        message=_message(doc),
        doc_revision=doc_revision,
        doc_revises=doc_revises,
        tables=_tables(tree, scope),
        revision_line=metadata.revision_line,
        text_fingerprint=source.text_fingerprint,
        ast_fingerprint=ast_fingerprint,
        body_fingerprint=body_fingerprint,
        blob=blob,
        warnings=source.warnings,
        dialect=dialect,
    )
