"""Deployment kinds and triage: what counts as a deployment, and what triage leaves behind.

- ``deployments.kind``: ``deploy`` / ``provision`` / ``other`` (domain/classify.py).  Only deploys count in
  the metrics.  Existing rows are classified from their stored command here, once.
- ``failures.triage``: ``not_deployment`` marks a failure that is not a failure of the project's deploy
  (a typo'd command, a local tool); it stays in the ledger but leaves the metrics and the default list.
- ``audit_events``: who deleted, merged, marked or undid what, and when; a deleted failure's text is kept
  here (its row is gone) so a deletion can be checked afterwards.
- ``(project_id, last_seen)``: the failures list's default order (most recently seen first) over 100,000
  failures reads an index instead of sorting the table.

Revision ID: 0007_deployment_kind_triage
Revises: 0006_fingerprint_v2
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op


revision = "0007_deployment_kind_triage"
down_revision = "0006_fingerprint_v2"
branch_labels = None
depends_on = None


def upgrade() -> None:
    from faultbook.domain.classify import classify_command

    with op.batch_alter_table("deployments") as batch:
        batch.add_column(sa.Column("kind", sa.String(length=20), nullable=True))
    with op.batch_alter_table("failures") as batch:
        batch.add_column(sa.Column("triage", sa.String(length=30), nullable=True))
    op.create_index("ix_failures_project_last_seen", "failures", ["project_id", "last_seen"])
    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=True),
        sa.Column("action", sa.String(length=50), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["project_id"], ["projects.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_audit_project_at", "audit_events", ["project_id", "at"])

    connection = op.get_bind()
    deployments = sa.table("deployments", sa.column("id", sa.Integer), sa.column("command", sa.Text),
                           sa.column("kind", sa.String))
    rows = connection.execute(sa.select(deployments.c.id, deployments.c.command)).all()
    by_kind: dict[str, list[int]] = {}
    for row_id, command in rows:
        by_kind.setdefault(classify_command(command or ""), []).append(row_id)
    for kind, ids in by_kind.items():
        for start in range(0, len(ids), 500):
            connection.execute(
                sa.update(deployments).where(deployments.c.id.in_(ids[start:start + 500])).values(kind=kind)
            )


def downgrade() -> None:
    op.drop_index("ix_audit_project_at", table_name="audit_events")
    op.drop_table("audit_events")
    op.drop_index("ix_failures_project_last_seen", table_name="failures")
    with op.batch_alter_table("failures") as batch:
        batch.drop_column("triage")
    with op.batch_alter_table("deployments") as batch:
        batch.drop_column("kind")
