"""Module-level string constants and imports of Python files, and ``ConstantResolver``, which
finds a string constant of another module of the same repository (following re-exports).
"""

from __future__ import annotations

import ast
import posixpath
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from forensics.sources.migration_code.decoding import decode, parse

_MAX_HOPS = 8  # re-exports followed before giving up (also stops import loops)


@dataclass
class _Module:
    """The string constants and imports at module level of one Python file."""

    constants: dict[str, str] = field(default_factory=dict)
    # local name -> (module path or None when relative resolution failed, attribute or None)
    imports: dict[str, tuple[str, str | None]] = field(default_factory=dict)


def string_literal(node: ast.expr | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def assignments(tree: ast.Module) -> Iterable[tuple[str, ast.expr, int]]:
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


def imports(tree: ast.Module, path: str) -> dict[str, tuple[str, str | None]]:
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


def string_constants(tree: ast.Module) -> dict[str, str]:
    """The module-level names whose last assignment is a string literal, with its value."""
    found: dict[str, str] = {}
    for name, value, _line in assignments(tree):
        text = string_literal(value)
        if text is not None:
            found[name] = text
        else:
            found.pop(name, None)
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
                    tree, _dialect = parse(decode(data)[0], path)
                except SyntaxError:
                    tree = None
                if tree is not None:
                    module = _Module(string_constants(tree), imports(tree, path))
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
