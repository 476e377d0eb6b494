"""Merge state in a column: ``failures.merged_into`` (the number of the failure it was merged into).

Before, "was this failure merged?" was answered by scanning its timeline for a "merged-into" event, so
every merge and every fingerprint backfill loaded the events of the failures involved.  The column is
filled here from those events (their ``details.into``), so existing ledgers keep their merges.

Revision ID: 0009_merge_state
Revises: 0010_deployment_snapshot (chained after the last one on main; the lead may re-chain)
Create Date: 2026-12-02
"""

import json

import sqlalchemy as sa
from alembic import op


revision = "0009_merge_state"
down_revision = "0010_deployment_snapshot"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("failures") as batch:
        batch.add_column(sa.Column("merged_into", sa.Integer(), nullable=True))
    conn = op.get_bind()
    rows = conn.execute(
        sa.text("SELECT failure_id, details FROM timeline_events WHERE kind = 'merged-into' ORDER BY id")
    ).all()
    for failure_id, details in rows:
        if isinstance(details, str):
            details = json.loads(details or "{}")
        into = (details or {}).get("into")
        if into is not None:
            conn.execute(
                sa.text("UPDATE failures SET merged_into = :into WHERE id = :id AND merged_into IS NULL"),
                {"into": int(into), "id": failure_id},
            )


def downgrade() -> None:
    with op.batch_alter_table("failures") as batch:
        batch.drop_column("merged_into")
