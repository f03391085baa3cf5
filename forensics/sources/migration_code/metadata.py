"""What a migration declares: the ``revision``, ``down_revision``, ``branch_labels`` and
``depends_on`` assignments (resolved to strings through the file's names and the repository's
constants), the docstring header and message, and the tables ``upgrade()`` creates, drops or
renames.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from forensics.model.migrations import TableOps
from forensics.sources.migration_code.constants import ConstantResolver, assignments, string_literal

METADATA_FIELDS = ("revision", "down_revision", "branch_labels", "depends_on")
_HEADER = re.compile(r"^\s*(Revision ID|Revises)\s*:[ \t]*(.*?)\s*$", re.MULTILINE)


class _Unresolved(Exception):
    pass


@dataclass
class Scope:
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
        value = string_literal(node)
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


def header(doc: str | None) -> tuple[str | None, tuple[str, ...] | None]:
    revision: str | None = None
    revises: tuple[str, ...] | None = None
    for key, value in _HEADER.findall(doc or ""):
        if key == "Revision ID" and revision is None:
            revision = value if value and value != "None" else None
        elif key == "Revises" and revises is None:
            # "Revises: None" (Alembic's template for a base) names no parent.
            revises = tuple(v for v in re.split(r"[\s,]+", value) if v and v != "None")
    return revision, revises


def tables(tree: ast.Module, scope: Scope) -> TableOps:
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


@dataclass(frozen=True)
class Metadata:
    """The metadata assignments of a migration, as far as they resolve to strings."""

    resolved: dict[str, tuple[str, ...]]
    unresolved: tuple[str, ...]
    revision: str | None
    revision_line: int | None

    @classmethod
    def of(cls, tree: ast.Module, scope: Scope) -> Metadata:
        # the last assignment of each field counts, as when Python runs the module
        values = {
            name: (value, line)
            for name, value, line in assignments(tree)
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


def message(doc: str | None) -> str | None:
    """The first line of the docstring: Alembic's ``-m`` message."""
    return doc.strip().splitlines()[0].strip() if doc and doc.strip() else None
