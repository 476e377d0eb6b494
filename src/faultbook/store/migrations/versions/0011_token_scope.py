"""API tokens scoped to a project (a writer token of one project wrote to another on the same database).

``api_tokens.project_key`` (nullable): the project key the token works for; null = every project (an
admin's ``faultbook token create --all-projects``).  Existing tokens:

- in a database with exactly one project, every token is scoped to that project: nothing changes for it;
- with several projects, the server of each project accepted every token, and which project a token was
  meant for is not recorded anywhere.  Admin tokens become all-projects (they manage tokens and must keep
  working); reader and writer tokens get the empty scope, which matches no project: they stop working with
  "this token predates project scopes" until an admin creates scoped ones.  Failing closed is the point of
  the change;
- with no project yet, the same as several (there is no project to give them).

Revision ID: 0011_token_scope
Revises: 0009_merge_state
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op


revision = "0011_token_scope"
down_revision = "0009_merge_state"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("api_tokens") as batch:
        batch.add_column(sa.Column("project_key", sa.String(200), nullable=True))
    bind = op.get_bind()
    keys = [row[0] for row in bind.execute(sa.text("SELECT key FROM projects"))]
    if len(keys) == 1:
        bind.execute(sa.text("UPDATE api_tokens SET project_key = :key"), {"key": keys[0]})
    else:
        bind.execute(sa.text("UPDATE api_tokens SET project_key = '' WHERE role <> 'admin'"))


def downgrade() -> None:
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_column("project_key")
