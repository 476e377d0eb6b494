"""Recovery: rollback snapshots (state preserved before a rollback, and its outcome) and follow-ups.

Revision ID: 0004_recovery
Revises: 0003_search
Create Date: 2026-11-28
"""

from alembic import op
import sqlalchemy as sa


revision = "0004_recovery"
down_revision = "0003_search"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "recovery_snapshots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("failure_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("target_name", sa.String(length=300), nullable=False),
        sa.Column("environment", sa.String(length=200), nullable=True),
        sa.Column("account_id", sa.String(length=100), nullable=True),
        sa.Column("live_deployment_id", sa.String(length=100), nullable=True),
        sa.Column("live_versions", sa.JSON(), nullable=False),
        sa.Column("target_id", sa.String(length=100), nullable=True),
        sa.Column("config_path", sa.Text(), nullable=True),
        sa.Column("config_text", sa.Text(), nullable=True),
        sa.Column("deployment_id", sa.Integer(), nullable=True),
        sa.Column("output_tail", sa.Text(), nullable=True),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("new_deployment_id", sa.String(length=100), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("verified", sa.Boolean(), nullable=True),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.CheckConstraint(
            "outcome IN ('planned', 'rolled_back', 'not_rolled_back', 'unknown')", name="ck_recovery_outcome"
        ),
        sa.ForeignKeyConstraint(["deployment_id"], ["deployments.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["failure_id"], ["failures.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["project_id"], ["projects.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("recovery_snapshots", schema=None) as batch_op:
        batch_op.create_index("ix_recovery_project_created", ["project_id", "created_at"], unique=False)

    op.create_table(
        "followups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("failure_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("source", sa.String(length=50), nullable=False),
        sa.CheckConstraint("status IN ('open', 'done')", name="ck_followups_status"),
        sa.ForeignKeyConstraint(["failure_id"], ["failures.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["project_id"], ["projects.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("followups", schema=None) as batch_op:
        batch_op.create_index("ix_followups_project_status", ["project_id", "status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("followups", schema=None) as batch_op:
        batch_op.drop_index("ix_followups_project_status")
    op.drop_table("followups")
    with op.batch_alter_table("recovery_snapshots", schema=None) as batch_op:
        batch_op.drop_index("ix_recovery_project_created")
    op.drop_table("recovery_snapshots")
