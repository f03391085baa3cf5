"""Delivery metrics and the fleet's bookkeeping: one row per audit, week and metric, and
each audit's status and report path (a fleet run skips repositories already done this week).

Revision ID: 0002_metrics
Revises: 0001_initial
Create Date: 2025-11-17 00:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_metrics"
down_revision = "0001_initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("forensics_audits", sa.Column("status", sa.String(16), nullable=True))
    op.add_column("forensics_audits", sa.Column("report", sa.Text, nullable=True))
    op.create_table(
        "forensics_metrics",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "audit_pk",
            sa.Integer,
            sa.ForeignKey("forensics_audits.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("repo_key", sa.String(512), nullable=False),
        sa.Column("audit_id", sa.String(64), nullable=False),
        sa.Column("week", sa.String(10), nullable=False),
        sa.Column("metric", sa.String(64), nullable=False),
        sa.Column("value", sa.Float, nullable=True),
        sa.UniqueConstraint("audit_pk", "week", "metric", name="uq_forensics_metrics_row"),
    )
    op.create_index("ix_forensics_metrics_repo_week", "forensics_metrics", ["repo_key", "week"])


def downgrade() -> None:
    op.drop_index("ix_forensics_metrics_repo_week", "forensics_metrics")
    op.drop_table("forensics_metrics")
    with op.batch_alter_table("forensics_audits") as batch:
        batch.drop_column("report")
        batch.drop_column("status")
