"""API tokens for the team server: create (shown once), list, revoke, verify.

Only the SHA-256 of a token is stored, so a copy of the database does not
leak working credentials.  Tokens are long random strings (256 bits), which is
why a plain fast hash is enough: there is nothing to brute-force.

Roles are ordered: ``reader`` < ``writer`` < ``admin``.  Readers see
everything, writers also record and report, admins also manage tokens.

Every token is scoped to one project (``project``), or to all of them (``None``, for admins who run
servers of several projects on one database): a server accepts only tokens for the project it serves.
Tokens made before scopes existed: see migration 0011_token_scope.
"""

from __future__ import annotations

import ipaddress

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from faultbook.domain import utcnow
from faultbook.errors import InputError, NotFoundError
from faultbook.store.tables import ApiTokenRow

ROLES = ("reader", "writer", "admin")
TOKEN_PREFIX = "fbk_"
#: last_used_at is refreshed at most this often, so reads do not turn into writes.
TOUCH_INTERVAL = timedelta(minutes=1)


@dataclass(frozen=True)
class ApiToken:
    id: int
    name: str
    role: str
    created_at: datetime
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None
    #: The project key it works for; None = every project; "" = none (made before scopes, see 0011).
    project: str | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def allows_project(self, key: str) -> bool:
        return self.project is None or self.project == key

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "name": self.name,
            "role": self.role,
            "created_at": self.created_at.isoformat(),
            "last_used_at": self.last_used_at.isoformat() if self.last_used_at else None,
            "revoked_at": self.revoked_at.isoformat() if self.revoked_at else None,
            "project": self.project,
        }


@dataclass(frozen=True)
class CreatedToken:
    token: ApiToken
    #: The secret itself: shown to the user once, never stored.
    secret: str


def role_allows(role: str | None, needed: str) -> bool:
    if role is None:
        return False
    return ROLES.index(role) >= ROLES.index(needed)


def hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def create_token(session: Session, *, role: str, project: str | None, name: str | None = None) -> CreatedToken:
    """A new token for ``project`` (a project key), or for every project when ``project`` is None."""
    if role not in ROLES:
        raise InputError(f"unknown role {role!r}: expected one of {', '.join(ROLES)}")
    if project is not None and not project.strip():
        raise InputError("a token needs a project (or all projects)")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiTokenRow(
        name=(name or f"{role} token").strip()[:200],
        role=role,
        token_hash=hash_token(secret),
        created_at=utcnow(),
        project_key=project,
    )
    session.add(row)
    session.flush()
    return CreatedToken(token=_to_token(row), secret=secret)


def list_tokens(session: Session, *, include_revoked: bool = True) -> list[ApiToken]:
    stmt = select(ApiTokenRow).order_by(ApiTokenRow.id)
    if not include_revoked:
        stmt = stmt.where(ApiTokenRow.revoked_at.is_(None))
    return [_to_token(r) for r in session.scalars(stmt)]


def revoke_token(session: Session, *, token_id: int) -> ApiToken:
    row = session.get(ApiTokenRow, token_id)
    if row is None:
        raise NotFoundError(f"there is no token #{token_id}")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        session.flush()
    return _to_token(row)


def verify_token(session: Session, *, secret: str, touch: bool = True) -> ApiToken | None:
    """The active token with this secret, or None (unknown or revoked)."""
    if not secret or len(secret) > 200:
        return None
    row = session.scalar(select(ApiTokenRow).where(ApiTokenRow.token_hash == hash_token(secret)))
    if row is None or row.revoked_at is not None:
        return None
    now = utcnow()
    if touch and (row.last_used_at is None or now - row.last_used_at > TOUCH_INTERVAL):
        row.last_used_at = now
        session.flush()
    return _to_token(row)


def _to_token(row: ApiTokenRow) -> ApiToken:
    return ApiToken(
        id=row.id,
        name=row.name,
        role=row.role,
        created_at=row.created_at,
        last_used_at=row.last_used_at,
        revoked_at=row.revoked_at,
        project=row.project_key,
    )


def active_ids(session: Session, ids: set[int]) -> set[int]:
    """Which of these token ids are not revoked (one indexed query: the report writer asks per batch)."""
    if not ids:
        return set()
    stmt = select(ApiTokenRow.id).where(ApiTokenRow.id.in_(sorted(ids)), ApiTokenRow.revoked_at.is_(None))
    return set(session.scalars(stmt))


def needs_touch(token: ApiToken) -> bool:
    return token.last_used_at is None or utcnow() - token.last_used_at > TOUCH_INTERVAL


def touch_token(session: Session, *, token_id: int) -> None:
    """Record use (in its own write transaction: a read never upgrades to a write lock)."""
    row = session.get(ApiTokenRow, token_id)
    if row is not None:
        row.last_used_at = utcnow()
        session.flush()


# ---------------------------------------------------------------- anonymous access policy

#: ``[server] anonymous`` values and the role each grants.
ANONYMOUS_MODES = {"none": None, "read": "reader", "write": "writer"}


def is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def anonymous_role(setting: object, *, host: str | None) -> str | None:
    """The role of an anonymous user from ``[server] anonymous`` (or its default for ``host``)."""
    if setting is None:
        return "reader" if is_loopback(host) else None
    if isinstance(setting, bool):  # anonymous_read = true/false is accepted too
        return "reader" if setting else None
    text = str(setting).strip().lower()
    if text not in ANONYMOUS_MODES:

        raise InputError(f"[server] anonymous must be one of none, read, write (not {setting!r})")
    return ANONYMOUS_MODES[text]


# ---------------------------------------------------------------- the owner's one-time sign-in link

#: ``faultbook serve`` on loopback puts the SHA-256 of its one-time sign-in code here (its workers inherit it).
SIGN_IN_ENV = "FAULTBOOK_SIGNIN_SHA256"


def new_sign_in_code() -> tuple[str, str]:
    """A one-time sign-in code and the digest the server keeps (the code itself is only printed)."""
    code = secrets.token_urlsafe(24)
    return code, hashlib.sha256(code.encode()).hexdigest()


def redeem_sign_in_code(session: Session, *, code: str, digest: str | None, project: str) -> CreatedToken | None:
    """The admin token a valid, unused sign-in code is exchanged for; None if it is wrong or was used.

    The token is named after the link, so the link works once whichever worker answers it, and the owner sees
    it on the tokens page and can revoke it like any other.  It is scoped to the server's ``project``.
    """
    if not digest or not code:
        return None
    given = hashlib.sha256(code.encode("utf-8", "replace")).hexdigest()
    if not hmac.compare_digest(given, digest):
        return None
    name = f"owner (sign-in link {digest[:8]})"
    if session.scalar(select(ApiTokenRow.id).where(ApiTokenRow.name == name)) is not None:
        return None
    return create_token(session, role="admin", name=name, project=project)
