"""Initial schema: projects, failures, potential failures, timeline, deployments, occurrences, aliases.

Revision ID: 0001
Revises: 
Create Date: 2026-11-28
"""

from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table('projects',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('document_layout', sa.JSON(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('key')
    )
    op.create_table('failures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('component', sa.String(length=200), nullable=False),
    sa.Column('component_detail', sa.String(length=500), nullable=True),
    sa.Column('step', sa.Text(), nullable=False),
    sa.Column('error_message', sa.Text(), nullable=False),
    sa.Column('root_cause', sa.Text(), nullable=False),
    sa.Column('resolution', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('lessons_learned', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('fingerprint', sa.String(length=100), nullable=True),
    sa.Column('error_code', sa.Integer(), nullable=True),
    sa.Column('occurrence_count', sa.Integer(), nullable=False),
    sa.Column('first_seen', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_seen', sa.DateTime(timezone=True), nullable=True),
    sa.Column('suggested_fields', sa.JSON(), nullable=False),
    sa.CheckConstraint("status IN ('open', 'resolved', 'workaround')", name='ck_failures_status'),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('project_id', 'number', name='uq_failures_project_number')
    )
    with op.batch_alter_table('failures', schema=None) as batch_op:
        batch_op.create_index('ix_failures_project_fingerprint', ['project_id', 'fingerprint'], unique=False)
        batch_op.create_index('ix_failures_project_occurred', ['project_id', 'occurred_at'], unique=False)
        batch_op.create_index('ix_failures_project_status', ['project_id', 'status'], unique=False)

    op.create_table('potential_failures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('component', sa.String(length=200), nullable=False),
    sa.Column('step', sa.Text(), nullable=False),
    sa.Column('possible_error_messages', sa.JSON(), nullable=False),
    sa.Column('likely_root_causes', sa.JSON(), nullable=False),
    sa.Column('planned_resolution', sa.JSON(), nullable=False),
    sa.Column('prevention', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('project_id', 'number', name='uq_potential_project_number')
    )
    op.create_table('deployments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=100), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('component', sa.String(length=200), nullable=True),
    sa.Column('step', sa.Text(), nullable=True),
    sa.Column('environment', sa.String(length=200), nullable=True),
    sa.Column('command', sa.Text(), nullable=False),
    sa.Column('cwd', sa.Text(), nullable=True),
    sa.Column('outcome', sa.String(length=20), nullable=False),
    sa.Column('exit_code', sa.Integer(), nullable=True),
    sa.Column('git_commit', sa.String(length=64), nullable=True),
    sa.Column('git_branch', sa.String(length=300), nullable=True),
    sa.Column('git_dirty', sa.Boolean(), nullable=True),
    sa.Column('config_hash', sa.String(length=100), nullable=True),
    sa.Column('version_id', sa.String(length=100), nullable=True),
    sa.Column('url', sa.Text(), nullable=True),
    sa.Column('host', sa.String(length=300), nullable=True),
    sa.Column('pid', sa.Integer(), nullable=True),
    sa.Column('output_tail', sa.Text(), nullable=True),
    sa.Column('failure_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("outcome IN ('running', 'succeeded', 'failed', 'interrupted')", name='ck_deployments_outcome'),
    sa.ForeignKeyConstraint(['failure_id'], ['failures.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('project_id', 'key', name='uq_deployments_project_key')
    )
    with op.batch_alter_table('deployments', schema=None) as batch_op:
        batch_op.create_index('ix_deployments_project_started', ['project_id', 'started_at'], unique=False)

    op.create_table('fingerprint_aliases',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('fingerprint', sa.String(length=100), nullable=False),
    sa.Column('failure_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['failure_id'], ['failures.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('project_id', 'fingerprint', name='uq_alias_project_fp')
    )
    op.create_table('timeline_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('failure_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('kind', sa.String(length=50), nullable=False),
    sa.Column('actor', sa.String(length=200), nullable=True),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['failure_id'], ['failures.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('timeline_events', schema=None) as batch_op:
        batch_op.create_index('ix_timeline_failure', ['failure_id'], unique=False)

    op.create_table('occurrences',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('failure_id', sa.Integer(), nullable=False),
    sa.Column('deployment_id', sa.Integer(), nullable=True),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('error_message', sa.Text(), nullable=False),
    sa.Column('fingerprint', sa.String(length=100), nullable=True),
    sa.ForeignKeyConstraint(['deployment_id'], ['deployments.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['failure_id'], ['failures.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('occurrences', schema=None) as batch_op:
        batch_op.create_index('ix_occurrences_failure', ['failure_id'], unique=False)




def downgrade() -> None:

    with op.batch_alter_table('occurrences', schema=None) as batch_op:
        batch_op.drop_index('ix_occurrences_failure')

    op.drop_table('occurrences')
    with op.batch_alter_table('timeline_events', schema=None) as batch_op:
        batch_op.drop_index('ix_timeline_failure')

    op.drop_table('timeline_events')
    op.drop_table('fingerprint_aliases')
    with op.batch_alter_table('deployments', schema=None) as batch_op:
        batch_op.drop_index('ix_deployments_project_started')

    op.drop_table('deployments')
    op.drop_table('potential_failures')
    with op.batch_alter_table('failures', schema=None) as batch_op:
        batch_op.drop_index('ix_failures_project_status')
        batch_op.drop_index('ix_failures_project_occurred')
        batch_op.drop_index('ix_failures_project_fingerprint')

    op.drop_table('failures')
    op.drop_table('projects')

