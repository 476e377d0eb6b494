"""Alembic migrations shipped inside the package (run on first use and by `faultbook db upgrade`).

``HEAD`` names the newest revision so that the common case (schema already
current) is a single cheap query with no Alembic import; a test asserts it
matches Alembic's own idea of the head.
"""

HEAD = "0011_token_scope"
