"""The findings store's schema revisions (loaded by Alembic by path)."""
