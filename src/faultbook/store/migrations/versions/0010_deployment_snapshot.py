"""A scrubbed snapshot of what each deployment deployed (the suspect change's input).

``deployments.snapshot`` (JSON, nullable): the wrangler config's bindings,
compatibility date and flags, var and secret *names*, hashes of its other
keys, and the lockfile's direct dependency versions (``services.snapshot``).
About 1 KB per deployment; null for deployments recorded before this.

Revision ID: 0010_deployment_snapshot
Revises: 0006_fingerprint_v2 (for now; the lead re-chains it after 0009 at merge)
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op


revision = "0010_deployment_snapshot"
down_revision = "0007_deployment_kind_triage"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("deployments", sa.Column("snapshot", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("deployments") as batch:
        batch.drop_column("snapshot")
