"""Option text made into domain values for the CLI: statuses, times, long texts from a file or stdin.

Kept apart from ``cli/app.py`` (the commands) so each command body stays a translator; every error is an
``InputError`` naming the option or the file, so ``main()`` turns it into one line and exit 2.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

from faultbook.errors import InputError

if TYPE_CHECKING:
    from datetime import datetime

    from faultbook.domain import Status


def read_long_text(inline: str | None, file: Path | None) -> str | None:
    """An error message from the option, a file or stdin: at most ``limits.MAX_TEXT_BYTES`` of UTF-8."""
    from faultbook.domain.limits import MAX_TEXT_BYTES
    from faultbook.files import decode_utf8, read_capped

    if inline is not None and file is not None:
        raise InputError("give --error-message or --error-message-file, not both")
    if inline == "-" or (file is not None and str(file) == "-"):
        stream = getattr(sys.stdin, "buffer", None)
        if stream is None:  # an already-decoded text stream (an embedding program, a test)
            return sys.stdin.read(MAX_TEXT_BYTES).rstrip("\n")
        data = read_capped(stream, limit=MAX_TEXT_BYTES, what="an error message")
        return decode_utf8(data, path="stdin").rstrip("\n")
    if file is not None:
        data = read_capped(file, limit=MAX_TEXT_BYTES, what="an error message")
        return decode_utf8(data, path=str(file)).rstrip("\n")
    return inline


def parse_status(text: str) -> "Status":
    from faultbook.domain import Status

    try:
        return Status.parse(text)
    except ValueError as exc:
        raise InputError(str(exc)) from None


def parse_time(text: str, flag: str) -> "datetime":
    from faultbook.domain import limits

    if text.strip().lower() == "now":
        from faultbook.domain import utcnow

        return utcnow()
    return limits.parse_time(text, what=flag)
