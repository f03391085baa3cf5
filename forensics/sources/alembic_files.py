"""Static reading of Alembic migration files with ``ast``: never imported, never executed.

Owns the metadata reader (``revision``, ``down_revision``, ``branch_labels``, ``depends_on``,
the docstring header, the tables ``upgrade()`` touches), the resolution of names that refer
to string constants of the same repository (``ConstantResolver``), and the fingerprints that
let ``analysis.changes.classify`` tell cosmetic edits from code and metadata edits.
"""

from __future__ import annotations

import ast
import hashlib
import posixpath
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from forensics.model.migrations import MigrationFile, ParseError, TableOps

METADATA_FIELDS = ("revision", "down_revision", "branch_labels", "depends_on")
_HEADER = re.compile(r"^\s*(Revision ID|Revises)\s*:[ \t]*(.*?)\s*$", re.MULTILINE)
_MAX_HOPS = 8  # re-exports followed before giving up (also stops import loops)


def _parse(text: str, path: str) -> ast.Module:
    """``ast.parse`` whose every failure is a ``SyntaxError`` (null bytes, deep nesting)."""
    try:
        return ast.parse(text, filename=path)
    except SyntaxError:
        raise
    except (ValueError, RecursionError, MemoryError, OverflowError) as exc:
        raise SyntaxError(str(exc) or type(exc).__name__) from None


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
                    tree = _parse(_decode(data)[0], path)
                except SyntaxError:
                    tree = None
                if tree is not None:
                    module = _Module(imports=_imports(tree, path))
                    for name, value, _line in _assignments(tree):
                        text = _string(value)
                        if text is not None:
                            module.constants[name] = text
                        else:
                            module.constants.pop(name, None)
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

    def is_module(self, dotted: str) -> bool:
        return self.module_path(dotted) is not None


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


def _strip_docstrings(tree: ast.AST) -> None:
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and _string(body[0].value) is not None:
                node.body = body[1:] or [ast.Pass()]


def _fingerprints(tree: ast.Module) -> tuple[str, str]:
    """Two hashes of the AST without docstrings, with top-level imports (and their names)
    sorted, so that formatting, comments, quote style and import order do not count: the
    whole module, and the module without its metadata assignments (the code)."""
    _strip_docstrings(tree)
    imports: list[str] = []
    code: list[str] = []
    everything: list[str] = []
    for stmt in tree.body:
        if isinstance(stmt, ast.Import | ast.ImportFrom):
            stmt.names = sorted(stmt.names, key=lambda a: (a.name, a.asname or ""))
            imports.append(ast.dump(stmt))
            continue
        dumped = ast.dump(stmt)
        everything.append(dumped)
        if _assigned_name(stmt) not in METADATA_FIELDS:
            code.append(dumped)
    imports.sort()
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
    text, valid_utf8 = _decode(data)
    warnings: list[str] = []
    if not valid_utf8:
        warnings.append("not valid UTF-8: read with replacement characters")
    fingerprint = text_fingerprint(data)
    try:
        tree = _parse(text, path)
    except SyntaxError as exc:
        # The header still tells which revision the broken file is, so that the graph
        # can keep it in place instead of reporting its children as orphans.
        doc_revision, doc_revises = _header(text)
        return MigrationFile(
            path=path,
            revision=None,
            doc_revision=doc_revision,
            doc_revises=doc_revises,
            parse_error=ParseError(message=exc.msg or str(exc), line=exc.lineno),
            text_fingerprint=fingerprint,
            blob=blob,
            warnings=tuple(warnings),
        )
    doc = ast.get_docstring(tree, clean=True)
    module_constants: dict[str, str] = {}
    values: dict[str, tuple[ast.expr, int]] = {}
    for name, value, line in _assignments(tree):
        literal = _string(value)
        if literal is not None:
            module_constants[name] = literal
        else:
            module_constants.pop(name, None)
        if name in METADATA_FIELDS:
            values[name] = (value, line)
    scope = _Scope(path, module_constants, _imports(tree, path), constants)

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

    # A header that disagrees with the code is not a warning of the file: callers summarise
    # them per environment (MigrationFile.docstring_mismatches).
    doc_revision, doc_revises = _header(doc)
    down = resolved.get("down_revision", ())

    message = doc.strip().splitlines()[0].strip() if doc and doc.strip() else None
    tables = _tables(tree, scope)
    ast_fingerprint, body_fingerprint = _fingerprints(tree)
    return MigrationFile(
        path=path,
        revision=revision,
        down_revisions=down,
        depends_on=resolved.get("depends_on", ()),
        branch_labels=resolved.get("branch_labels", ()),
        unresolved=tuple(unresolved),
        message=message,
        doc_revision=doc_revision,
        doc_revises=doc_revises,
        tables=tables,
        revision_line=values["revision"][1] if "revision" in values else None,
        text_fingerprint=fingerprint,
        ast_fingerprint=ast_fingerprint,
        body_fingerprint=body_fingerprint,
        blob=blob,
        warnings=tuple(warnings),
    )
