"""Fingerprint v2: recompute every stored key so that a ledger keeps recognising its failures.

v2 (``faultbook.knowledge.fingerprint``) keys a failure by its code, its API
family (the endpoint template) and a message template that drops more
volatile parts than v1 did.  A v1 key can never equal a v2 key, so without
this migration every failure of an existing ledger would come back as a new
one.  Nothing is renumbered: failures keep their numbers, occurrences stay on
their failures; only the ``fingerprint`` columns change.

Where the API family comes from: the failure's own message when it names an
API path, else the output tail of the deployment of its oldest occurrence
("A request to the Cloudflare API (<path>) failed."), else none -- such a
failure gets the family-less key, which a lookup tries after the exact one.

Two failures that v1 kept apart may share one v2 key (two opaque references,
two concrete endpoints of one API).  Both keep their numbers and history; the
OLDER one (lower number) takes the v2 key and the younger keeps its v1 key,
which no lookup computes any more.  So the next occurrence counts on the
older failure, as if the two had been recorded under v2 from the start, and
nothing is merged behind the user's back (``faultbook merge`` does that,
visibly, if they are one failure).  A merge alias is recomputed from the
occurrences that carried it; when its new key is already a failure's, it
keeps its old one.

Occurrences get the key of their own message and deployment, so the
occurrence rows say which family each one came from.

``downgrade`` recomputes v1 keys by the same rules (v1 has no family).

Revision ID: 0006_fingerprint_v2
Revises: 0005_ingest_indexes
Create Date: 2026-12-01
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0006_fingerprint_v2"
down_revision = "0005_ingest_indexes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    rekey(op.get_bind(), version="v2")


def downgrade() -> None:
    rekey(op.get_bind(), version="v1")


_failures = sa.table(
    "failures",
    sa.column("id", sa.Integer),
    sa.column("project_id", sa.Integer),
    sa.column("number", sa.Integer),
    sa.column("component", sa.String),
    sa.column("error_message", sa.Text),
    sa.column("error_code", sa.Integer),
    sa.column("fingerprint", sa.String),
)
_occurrences = sa.table(
    "occurrences",
    sa.column("id", sa.Integer),
    sa.column("failure_id", sa.Integer),
    sa.column("deployment_id", sa.Integer),
    sa.column("error_message", sa.Text),
    sa.column("fingerprint", sa.String),
)
_deployments = sa.table("deployments", sa.column("id", sa.Integer), sa.column("output_tail", sa.Text))
_aliases = sa.table(
    "fingerprint_aliases",
    sa.column("id", sa.Integer),
    sa.column("project_id", sa.Integer),
    sa.column("fingerprint", sa.String),
    sa.column("failure_id", sa.Integer),
)
_events = sa.table(
    "timeline_events",
    sa.column("failure_id", sa.Integer),
    sa.column("kind", sa.String),
    sa.column("details", sa.JSON),
)


def rekey(conn: Any, *, version: str) -> None:
    """Recompute the fingerprints of failures, occurrences and merge aliases under ``version``."""
    from faultbook.knowledge.fingerprint import api_path_in, extract_code, fingerprint

    def key(message: str, code: int | None, component: str, endpoint: str | None) -> str:
        if code is None:
            code = extract_code(message, version=version)
        return fingerprint(message, code=code, component=component or "", endpoint=endpoint, version=version)

    failures = {
        r.id: r
        for r in conn.execute(
            sa.select(_failures).order_by(_failures.c.project_id, _failures.c.number)
        )
    }
    # Occurrences, oldest first, with the API path their deployment's output named.
    occurrence_rows = conn.execute(
        sa.select(
            _occurrences.c.id,
            _occurrences.c.failure_id,
            _occurrences.c.error_message,
            _occurrences.c.fingerprint,
            _deployments.c.output_tail,
        )
        .select_from(_occurrences.outerjoin(_deployments, _deployments.c.id == _occurrences.c.deployment_id))
        .order_by(_occurrences.c.id)
        # Output tails are kilobytes each: read them in batches (a server-side cursor on PostgreSQL).
        .execution_options(stream_results=True, yield_per=500)
    )
    endpoint_of_failure: dict[int, str] = {}
    renamed: dict[str, str] = {}  # old key -> new key, as the occurrences that carried it were recomputed
    occurrence_updates: list[dict[str, Any]] = []
    for occ in occurrence_rows:
        failure = failures.get(occ.failure_id)
        if failure is None:
            continue
        endpoint = api_path_in(occ.output_tail)
        if endpoint and occ.fingerprint == failure.fingerprint:
            endpoint_of_failure.setdefault(failure.id, endpoint)
        message = occ.error_message or failure.error_message or ""
        if not message:
            continue
        new = key(message, failure.error_code, failure.component, endpoint)
        if occ.fingerprint:
            renamed.setdefault(occ.fingerprint, new)
        if new != occ.fingerprint:
            occurrence_updates.append({"b_id": occ.id, "b_fp": new})

    owned: dict[tuple[int, str], int] = {}  # (project, key) -> number of the failure that owns it
    failure_updates: list[dict[str, Any]] = []
    for failure in failures.values():  # by project, then number: the older failure claims a key first
        if not failure.fingerprint or not failure.error_message:
            continue  # never fingerprinted (recorded by hand, imported): recognition does it on first use
        new = key(failure.error_message, failure.error_code, failure.component, endpoint_of_failure.get(failure.id))
        renamed[failure.fingerprint] = new
        if (failure.project_id, new) in owned:
            continue  # collapses onto an older failure: keeps its old key (see the module docstring)
        owned[(failure.project_id, new)] = failure.number
        if new != failure.fingerprint:
            failure_updates.append({"b_id": failure.id, "b_fp": new})

    # A merged failure's key lives on as an alias; its occurrences moved, so ``renamed`` usually knows it,
    # else the merged failure's own message (its "merged-into" event names the key) gives it.
    merged_from: dict[str, Any] = {}
    for event in conn.execute(sa.select(_events).where(_events.c.kind == "merged-into")):
        details = event.details or {}
        if isinstance(details, dict) and details.get("fingerprint") and event.failure_id in failures:
            merged_from[details["fingerprint"]] = failures[event.failure_id]
    alias_updates: list[dict[str, Any]] = []
    taken = set(owned)
    aliases = list(conn.execute(sa.select(_aliases).order_by(_aliases.c.id)))
    taken.update((a.project_id, a.fingerprint) for a in aliases)
    for alias in aliases:
        target = renamed.get(alias.fingerprint)
        source = merged_from.get(alias.fingerprint)
        if target is None and source is not None and source.error_message:
            target = key(source.error_message, source.error_code, source.component, None)
        if target is None or target == alias.fingerprint or (alias.project_id, target) in taken:
            continue
        taken.add((alias.project_id, target))
        alias_updates.append({"b_id": alias.id, "b_fp": target})

    for table, rows in ((_occurrences, occurrence_updates), (_failures, failure_updates), (_aliases, alias_updates)):
        if rows:
            conn.execute(
                table.update().where(table.c.id == sa.bindparam("b_id")).values(fingerprint=sa.bindparam("b_fp")),
                rows,
            )
