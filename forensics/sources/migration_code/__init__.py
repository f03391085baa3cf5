"""The static reader of Alembic migration files, by what each part owns: ``decoding`` (bytes
to a syntax tree), ``python2`` (Python 2 source), ``constants`` (string constants of the
repository), ``metadata`` (what a migration declares), ``fingerprints``. ``read_migration``
itself is in ``sources.alembic_files``.
"""
