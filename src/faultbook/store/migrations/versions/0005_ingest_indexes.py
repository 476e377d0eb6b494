"""Indexes that keep a busy team server's writes cheap on a large ledger.

- ``(project_id, position)``: a new failure takes the next position; without
  it ``max(position)`` read every failure of the project on every insert.
- ``(project_id, updated_at)``: recognition keeps its knowledge index in
  memory and asks only for failures changed since it last looked.

Revision ID: 0005_ingest_indexes
Revises: 0004_recovery
Create Date: 2026-11-28
"""

from alembic import op


revision = "0005_ingest_indexes"
down_revision = "0004_recovery"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_failures_project_position", "failures", ["project_id", "position"])
    op.create_index("ix_failures_project_updated", "failures", ["project_id", "updated_at"])


def downgrade() -> None:
    op.drop_index("ix_failures_project_updated", table_name="failures")
    op.drop_index("ix_failures_project_position", table_name="failures")
