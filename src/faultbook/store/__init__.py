"""Storage: engines and sessions (db.py), tables (tables.py), queries (repo.py), migrations/."""
