"""Fixtures for the team-server tests: an app around the `database` fixture, tokens, a client."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def settings(tmp_path: Path, project, database):  # type: ignore[no-untyped-def]
    from faultbook.config import Settings

    return Settings(
        project_root=tmp_path,
        project_key=project.key,
        project_name=project.name,
        database_url=database.url,
        environ={},
    )


@pytest.fixture
def make_app(database, settings, project):  # type: ignore[no-untyped-def]
    from faultbook.web.app import create_app

    def factory(**kwargs):  # type: ignore[no-untyped-def]
        return create_app(database=database, settings=settings, project=project, **kwargs)

    return factory


@pytest.fixture
def app(make_app):  # type: ignore[no-untyped-def]
    return make_app(host="0.0.0.0")  # not loopback: anonymous gets nothing


@pytest.fixture
def token(database, project):  # type: ignore[no-untyped-def]
    """``token("writer")`` -> a fresh secret with that role for the test's project (``project=None``: all)."""
    from faultbook.services import tokens

    def create(role: str, project: str | None = project.key) -> str:
        with database.session(write=True) as session:
            return tokens.create_token(session, role=role, name=f"test {role}", project=project).secret

    return create


@pytest.fixture
def client(app):  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    with TestClient(app) as c:
        yield c


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}
