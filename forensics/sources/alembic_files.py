"""Static reading of Alembic migration files with ``ast``: never imported, never executed.

Owns ``read_migration``, which puts together what the ``sources.migration_code`` modules
read from one file: its text (``decoding``), what it declares (``metadata``, with names
resolved by ``constants``) and its fingerprints (``fingerprints``); and ``parses``.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from forensics.model.migrations import MigrationFile, ParseError, SourceDialect
from forensics.sources.migration_code.constants import ConstantResolver, imports, string_constants
from forensics.sources.migration_code.decoding import decode, parse
from forensics.sources.migration_code.fingerprints import (
    fingerprints,
    source_lines,
    text_fingerprint,
)
from forensics.sources.migration_code.metadata import Metadata, Scope, header, message, tables


def parses(path: str, data: bytes) -> bool:
    """Whether the file parses, as ``read_migration(path, data).parses`` says, without
    reading its metadata and fingerprints."""
    try:
        parse(decode(data)[0], path)
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
        text, valid_utf8 = decode(data)
        warnings = () if valid_utf8 else ("not valid UTF-8: read with replacement characters",)
        return cls(path, text, blob, text_fingerprint(data), warnings)


def _unparsed(source: _Source, error: SyntaxError) -> MigrationFile:
    """A file that does not parse. The header still tells which revision the broken file
    is, so that the graph can keep it in place instead of reporting its children as
    orphans."""
    doc_revision, doc_revises = header(source.text)
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
        tree, dialect = parse(source.text, path)
    except SyntaxError as exc:
        return _unparsed(source, exc)
    doc = ast.get_docstring(tree, clean=True)
    scope = Scope(path, string_constants(tree), imports(tree, path), constants)
    metadata = Metadata.of(tree, scope)
    # A header that disagrees with the code is not a warning of the file: callers summarise
    # them per environment (MigrationFile.docstring_mismatches).
    doc_revision, doc_revises = header(doc)
    # A tree translated from Python 2 has the positions of its translation, not of ``text``.
    lines = source_lines(source.text) if dialect is SourceDialect.PYTHON3 else None
    ast_fingerprint, body_fingerprint = fingerprints(tree, lines)
    return MigrationFile(
        path=path,
        revision=metadata.revision,
        down_revisions=metadata.resolved.get("down_revision", ()),
        depends_on=metadata.resolved.get("depends_on", ()),
        branch_labels=metadata.resolved.get("branch_labels", ()),
        unresolved=metadata.unresolved,
        message=message(doc),
        doc_revision=doc_revision,
        doc_revises=doc_revises,
        tables=tables(tree, scope),
        revision_line=metadata.revision_line,
        text_fingerprint=source.text_fingerprint,
        ast_fingerprint=ast_fingerprint,
        body_fingerprint=body_fingerprint,
        blob=blob,
        warnings=source.warnings,
        dialect=dialect,
    )
