"""Alembic environment: always handed a live connection by faultbook.store.db."""

from alembic import context

from faultbook.store.tables import Base

config = context.config
connection = config.attributes.get("connection")
if connection is None:  # pragma: no cover - faultbook always passes one
    raise RuntimeError("faultbook migrations run through faultbook.store.db.upgrade()")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
