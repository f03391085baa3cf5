"""The Alembic environment of the findings store's own schema (see ``forensics.store``).

Alembic loads ``env.py`` and the files of ``versions/`` by path; nothing imports them.
"""
