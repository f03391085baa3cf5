"""The kind of change one commit made to one migration file, from its two versions."""

from __future__ import annotations

from forensics.model.migrations import ChangeKind, MigrationFile


def _metadata(m: MigrationFile) -> tuple[object, ...]:
    return (m.revision, m.down_revisions, m.depends_on, m.branch_labels, m.unresolved)


def classify(before: MigrationFile | None, after: MigrationFile | None) -> ChangeKind:
    """``added``, ``deleted``, ``parse-error`` (the new version does not parse),
    ``metadata`` (the graph is rewired: revision, down_revision, depends_on or branch_labels
    changed), ``code`` (upgrade, downgrade or other module code changed) or ``cosmetic``
    (what black, ruff format, isort and pyupgrade's ``u''`` removal change: layout,
    comments, docstrings, quote style, string prefixes, imports' order; the semantic
    fingerprint of ``sources.migration_code.fingerprints`` says exactly what). Python 2
    source compares by its Python 3 translation, so a faithful port is cosmetic.

    Metadata wins over code when both changed, because rewiring is what breaks the graph.
    """
    if after is None:
        return ChangeKind.DELETED
    if not after.parses:
        return ChangeKind.PARSE_ERROR
    if before is None:
        return ChangeKind.ADDED
    if before.text_fingerprint == after.text_fingerprint:
        return ChangeKind.COSMETIC
    if not before.parses:
        return ChangeKind.CODE
    if _metadata(before) != _metadata(after):
        return ChangeKind.METADATA
    if before.body_fingerprint != after.body_fingerprint:
        return ChangeKind.CODE
    return ChangeKind.COSMETIC
