"""Routers per domain: each module has ``api`` (JSON under /api/v1) and ``pages`` (HTML)."""
