"""Which failures ``faultbook run --retry`` retries: the transient ones, with exponential backoff."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import TYPE_CHECKING

from faultbook.capture.extract import ExtractedError
from faultbook.capture.wrangler_output import WranglerOutput
from faultbook.domain import DeploymentOutcome, utcnow
from faultbook.knowledge.codes import TRANSIENT_CODES, ApiCode

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from faultbook.services.ledger import ProjectRef

BACKOFF_BASE_SECONDS = 2.0
BACKOFF_MAX_SECONDS = 60.0
#: A 10085 this soon after faultbook saw the bucket being created is propagation, not a missing bucket.
BUCKET_PROPAGATION_WINDOW = timedelta(minutes=10)

#: Text that marks a failure as transient: network errors, 5xx, rate limits (wrangler retries these itself
#: a few times — retryOnAPIFailure: 5xx, 429 and fetch TypeErrors — so seeing one means it persisted).
#: (Patterns, compiled on first use by ``re``'s cache: only a failed command needs them.)
TRANSIENT_TEXT = (
    r"(?i)\b(?:fetch failed|ECONNRESET|ETIMEDOUT|EAI_AGAIN|ENETUNREACH|ECONNREFUSED|socket hang up|"
    r"network (?:error|timeout)|timed? ?out|rate[- ]limit(?:ed)?|too many requests|"
    r"internal server error|bad gateway|service unavailable|gateway time-?out|"
    r"status(?: code)?:? 5\d\d|\b50[0234]\b|\b429\b|Retry-After)"
)
TRANSIENT_API_TEXT = (
    r"(?i)\b(?:rate[- ]limit(?:ed)?|too many requests|internal server error|bad gateway|service unavailable|"
    r"gateway time-?out|please wait and consider throttling)"
)
#: The bucket named by a 10085 message.
R2_NOT_FOUND = r"R2 bucket '([^']+)' not found"


def transient_reason(
    session: "Session", *, project: "ProjectRef", error: ExtractedError, wrangler: WranglerOutput
) -> str | None:
    """Why this failure is worth retrying (None: it is not)."""
    if wrangler.retry_after_ms is not None:
        return "the API asked to retry later"
    if error.code in TRANSIENT_CODES:
        return f"rate limited [code: {error.code}]"
    if error.code == ApiCode.R2_BUCKET_NOT_FOUND:
        bucket = re.search(R2_NOT_FOUND, error.message)
        if bucket and _bucket_just_created(session, project=project, bucket=bucket.group(1)):
            return f"R2 bucket '{bucket.group(1)}' was created moments ago and is still propagating"
        return None
    # An API error with a code is transient only when its text says "slow down" or "server error";
    # "Worker Startup Timed out [code: 11337]" is not a network time-out.
    pattern = TRANSIENT_TEXT if error.code is None else TRANSIENT_API_TEXT
    match = re.search(pattern, error.message)
    return match.group(0) if match else None


def _bucket_just_created(session: "Session", *, project: "ProjectRef", bucket: str) -> bool:
    from faultbook.services import deployments

    since = utcnow() - BUCKET_PROPAGATION_WINDOW
    for command in deployments.recent_commands(
        session, project=project, since=since, outcome=DeploymentOutcome.SUCCEEDED
    ):
        words = command.split()
        if "r2" in words and "bucket" in words and "create" in words and bucket in words:
            return True
    return False


def backoff(attempt: int, retry_after_ms: int | None) -> float:
    """Seconds to wait before retry number ``attempt`` (what the API asked for, else 2, 4, 8 ... up to 60)."""
    if retry_after_ms is not None:
        return min(max(retry_after_ms / 1000.0, 0.0), BACKOFF_MAX_SECONDS)
    return min(BACKOFF_BASE_SECONDS * 2 ** (attempt - 1), BACKOFF_MAX_SECONDS)
