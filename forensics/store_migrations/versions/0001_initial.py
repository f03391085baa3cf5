"""The first schema of the findings store: one row per audit, its findings beside it.

Revision ID: 0001_initial
Revises:
Create Date: 2025-11-16 00:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_initial"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "forensics_audits",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("repo_key", sa.String(512), nullable=False),
        sa.Column("audit_id", sa.String(64), nullable=False),
        sa.Column("week", sa.String(10), nullable=False),
        sa.Column("rev", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("previous", sa.String(64), nullable=True),
        sa.Column("finding_count", sa.Integer, nullable=False, server_default="0"),
        sa.UniqueConstraint("repo_key", "audit_id", name="uq_forensics_audits_repo_audit"),
    )
    op.create_index("ix_forensics_audits_repo_week", "forensics_audits", ["repo_key", "week"])
    op.create_table(
        "forensics_findings",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "audit_pk",
            sa.Integer,
            sa.ForeignKey("forensics_audits.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("rule", sa.String(16), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("revision", sa.String(255), nullable=True),
        sa.Column("path", sa.Text, nullable=True),
        sa.Column("payload", sa.Text, nullable=False),
    )
    op.create_index("ix_forensics_findings_audit", "forensics_findings", ["audit_pk"])


def downgrade() -> None:
    op.drop_index("ix_forensics_findings_audit", "forensics_findings")
    op.drop_table("forensics_findings")
    op.drop_index("ix_forensics_audits_repo_week", "forensics_audits")
    op.drop_table("forensics_audits")
