"""The Cloudflare API error codes faultbook's code refers to by name — one module, one name per code.

The catalog (``catalog/*.toml``) holds what each code means to a user; this
module holds the few codes that code branches on (is this an auth failure,
a rate limit, a missing Worker, a rollback blocked by changed secrets).  A
code means what its API says it means: 10013 is "namespace not found" on KV
and a generic error elsewhere, 10006 NoSuchBucket on R2 and "could not parse"
on the script upload, so the names here say which API they are for.
"""

from __future__ import annotations

from enum import IntEnum


class ApiCode(IntEnum):
    """Codes from the ``errors[].code`` of a Cloudflare API response (``[code: N]`` in wrangler's output)."""

    RATE_LIMITED = 971
    INVALID_API_TOKEN = 1000
    NO_ROUTE = 7000
    COULD_NOT_ROUTE = 7003
    AUTHENTICATION_FAILED = 9106
    UNAUTHORIZED_TO_ACCESS = 9109
    AUTHENTICATION_ERROR = 10000
    UNABLE_TO_AUTHENTICATE = 10001
    INTERNAL_ERROR = 10002
    SCRIPT_NOT_FOUND = 10007
    UPLOAD_VALIDATION = 10021
    #: On the script upload: an ``r2_buckets`` binding names a bucket that does not exist.
    R2_BUCKET_NOT_FOUND = 10085
    SERVICE_NOT_FOUND = 10090
    #: On a rollback: the target version's secrets changed since (wrangler asks before forcing it).
    ROLLBACK_SECRETS_CHANGED = 10220


#: The credentials were refused: a token problem, never a project problem.
AUTH_CODES = frozenset({ApiCode.INVALID_API_TOKEN, ApiCode.AUTHENTICATION_FAILED, ApiCode.UNAUTHORIZED_TO_ACCESS,
                        ApiCode.AUTHENTICATION_ERROR, ApiCode.UNABLE_TO_AUTHENTICATE})
#: "Slow down": retrying later helps.
TRANSIENT_CODES = frozenset({ApiCode.RATE_LIMITED})
#: The Worker addressed does not exist (yet).
WORKER_MISSING_CODES = frozenset({ApiCode.SCRIPT_NOT_FOUND, ApiCode.SERVICE_NOT_FOUND})
