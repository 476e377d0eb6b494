"""Team server: API tokens, and full-text search over failures.

Revision ID: 0002_web
Revises: 0001
Create Date: 2026-11-28

Full text is backend-specific and so is written as SQL here:

* SQLite: an FTS5 *external-content* table ``failures_fts`` over ``failures``
  (the text is stored once, in ``failures``), kept in step by three triggers,
  and rebuilt once here for rows that already exist.
* PostgreSQL: a GIN index over ``to_tsvector('simple', ...)`` of the same
  columns.  ``faultbook.services.search`` queries with the identical
  expression (a test compares the two strings) so the planner can use it.

The 'simple' configuration (no stemming, no stop words) is deliberate: error
messages are full of codes and identifiers that an English stemmer mangles.
"""

from alembic import op
import sqlalchemy as sa


revision = '0002_web'
down_revision = '0001'
branch_labels = None
depends_on = None

FTS_COLUMNS = ("title", "error_message", "root_cause", "resolution", "lessons_learned", "step", "component")

#: Must equal faultbook.services.search.PG_TSVECTOR (asserted by a test).
PG_TSVECTOR = (
    "to_tsvector('simple', coalesce(title, '') || ' ' || coalesce(error_message, '') || ' ' || "
    "coalesce(root_cause, '') || ' ' || coalesce(resolution, '') || ' ' || coalesce(lessons_learned, '') "
    "|| ' ' || coalesce(step, '') || ' ' || coalesce(component, ''))"
)


def upgrade() -> None:
    op.create_table('api_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("role IN ('reader', 'writer', 'admin')", name='ck_api_tokens_role'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token_hash', name='uq_api_tokens_hash'),
    )
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        cols = ", ".join(FTS_COLUMNS)
        new = ", ".join(f"new.{c}" for c in FTS_COLUMNS)
        old = ", ".join(f"old.{c}" for c in FTS_COLUMNS)
        op.execute(
            f"CREATE VIRTUAL TABLE failures_fts USING fts5({cols}, content='failures', "
            "content_rowid='id', tokenize='unicode61')"
        )
        op.execute(
            f"CREATE TRIGGER failures_fts_ai AFTER INSERT ON failures BEGIN "
            f"INSERT INTO failures_fts(rowid, {cols}) VALUES (new.id, {new}); END"
        )
        op.execute(
            f"CREATE TRIGGER failures_fts_ad AFTER DELETE ON failures BEGIN "
            f"INSERT INTO failures_fts(failures_fts, rowid, {cols}) VALUES ('delete', old.id, {old}); END"
        )
        op.execute(
            f"CREATE TRIGGER failures_fts_au AFTER UPDATE OF {cols} ON failures BEGIN "
            f"INSERT INTO failures_fts(failures_fts, rowid, {cols}) VALUES ('delete', old.id, {old}); "
            f"INSERT INTO failures_fts(rowid, {cols}) VALUES (new.id, {new}); END"
        )
        op.execute("INSERT INTO failures_fts(failures_fts) VALUES ('rebuild')")
    elif dialect == "postgresql":
        op.execute(f"CREATE INDEX ix_failures_fulltext ON failures USING GIN ({PG_TSVECTOR})")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for name in ("failures_fts_ai", "failures_fts_ad", "failures_fts_au"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS failures_fts")
    elif dialect == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_failures_fulltext")
    op.drop_table('api_tokens')
