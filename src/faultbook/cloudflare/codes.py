"""Cloudflare API error codes that faultbook's logic acts on, named in one place.

Only codes that change what faultbook *does* live here (retry, roll back with force, treat as "not
found", blame the credentials).  Codes quoted in messages, rule docs and the knowledge catalog stay
where they are: they are text, not behaviour.  Sources: the API's ``errors[].code`` as wrangler and
the SDK report them (wrangler's own constant names in brackets where it has one).
"""

from __future__ import annotations

#: "Please wait and consider throttling your request speed": slow down, then retry.
RATE_LIMITED = 971
#: The credentials themselves are refused: missing, invalid, or not allowed for this account/zone.
AUTH_CODES: frozenset[int] = frozenset({1000, 9106, 9109, 10000, 10001})
#: "This Worker does not exist on your account" (Workers scripts / versions endpoints).
WORKER_NOT_FOUND = 10007
#: "R2 bucket not found" (a bucket created seconds ago may still be propagating).
R2_BUCKET_NOT_FOUND = 10085
#: A Worker with no versions / deployments yet (versions endpoint).
WORKER_HAS_NO_VERSIONS = 10090
#: Rollback refused because secrets changed since the target version [CANNOT_ROLLBACK_WITH_MODIFIED_SECERT_CODE].
ROLLBACK_SECRETS_CHANGED = 10220
#: Codes that mean the call is worth repeating as it was.
TRANSIENT_CODES: frozenset[int] = frozenset({RATE_LIMITED})
