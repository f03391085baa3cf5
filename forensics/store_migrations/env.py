"""Alembic environment of the findings store: runs on the connection ``forensics.store``
passes in ``config.attributes["connection"]``, inside that connection's transaction, so that
the upgrade is serialised with other audits (the store holds its lock before it gets here)."""

from __future__ import annotations

from alembic import context

VERSION_TABLE = "forensics_store_version"

connection = context.config.attributes["connection"]
context.configure(connection=connection, version_table=VERSION_TABLE)
with context.begin_transaction():
    context.run_migrations()
