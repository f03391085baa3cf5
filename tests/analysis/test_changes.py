"""``classify``: what black/ruff/isort change is cosmetic; bodies are code; edges are metadata."""

from __future__ import annotations

from forensics.analysis.changes import classify
from forensics.model.migrations import ChangeKind, MigrationFile
from forensics.sources.alembic_files import read_migration

ORIGINAL = '''"""add users

Revision ID: 774225e563ca
Revises: 1111
"""
import sqlalchemy as sa
from alembic import op

revision = '774225e563ca'
down_revision = '1111'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('users', {columns})


def downgrade():
    op.drop_table('users')
'''.replace(
    "{columns}",
    "sa.Column('id', sa.Integer(), primary_key=True), "
    "sa.Column('email', sa.String(255), nullable=False)",
)

BLACKENED = '''"""add users

Revision ID: 774225e563ca
Revises: 1111
"""
import sqlalchemy as sa
from alembic import op

revision = "774225e563ca"
down_revision = "1111"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("email", sa.String(255), nullable=False),
    )


def downgrade():
    op.drop_table("users")
'''


def _read(text: str) -> MigrationFile:
    return read_migration("migrations/versions/774225e563ca.py", text.encode())


def test_formatting_quotes_comments_docstrings_imports_are_cosmetic() -> None:
    before = _read(ORIGINAL)
    variants = {
        "black": BLACKENED,
        "quotes": ORIGINAL.replace("'users'", '"users"'),
        "comment": ORIGINAL.replace("def downgrade():", "# keep in sync\ndef downgrade():"),
        "docstring": ORIGINAL.replace('"""add users', '"""Add the users table'),
        "function docstring": ORIGINAL.replace(
            "def downgrade():\n", 'def downgrade():\n    """Undo."""\n'
        ),
        "isort": ORIGINAL.replace(
            "import sqlalchemy as sa\nfrom alembic import op\n",
            "from alembic import op\nimport sqlalchemy as sa\n",
        ),
        "crlf": ORIGINAL.replace("\n", "\r\n"),
    }
    for name, text in variants.items():
        assert classify(before, _read(text)) is ChangeKind.COSMETIC, name


def test_body_change_is_code() -> None:
    after = _read(ORIGINAL.replace("String(255)", "String(320)"))
    assert classify(_read(ORIGINAL), after) is ChangeKind.CODE
    helper = _read(ORIGINAL + "\n\ndef helper():\n    return 1\n")
    assert classify(_read(ORIGINAL), helper) is ChangeKind.CODE


def test_graph_edges_are_metadata_even_with_code() -> None:
    before = _read(ORIGINAL)
    rewired = _read(ORIGINAL.replace("down_revision = '1111'", "down_revision = '2222'"))
    assert classify(before, rewired) is ChangeKind.METADATA
    both = _read(
        ORIGINAL.replace("down_revision = '1111'", "down_revision = '2222'").replace(
            "'users')\n", "'people')\n"
        )
    )
    assert classify(before, both) is ChangeKind.METADATA
    labelled = _read(ORIGINAL.replace("branch_labels = None", "branch_labels = ('expand',)"))
    assert classify(before, labelled) is ChangeKind.METADATA
    lost = _read(ORIGINAL.replace("revision = '774225e563ca'\n", ""))
    assert classify(before, lost) is ChangeKind.METADATA


def test_added_deleted_parse_error() -> None:
    good = _read(ORIGINAL)
    broken = _read(ORIGINAL.replace("def upgrade():", "def upgrade(:"))
    assert classify(None, good) is ChangeKind.ADDED
    assert classify(good, None) is ChangeKind.DELETED
    assert classify(good, broken) is ChangeKind.PARSE_ERROR
    assert classify(None, broken) is ChangeKind.PARSE_ERROR
    assert classify(broken, good) is ChangeKind.CODE
