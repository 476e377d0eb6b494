"""Errors that carry what the user must be told, and the exit code that goes with it.

The core raises these; only the CLI (``faultbook.cli``) and the web layer turn
them into output.  ``ExitCode`` is the documented contract for scripts; ``http_status``
is the team server's answer for the same error (``faultbook.web.errors``), so neither
edge decides by class.
"""

from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    OK = 0
    #: ``check``: findings at or above --fail-on; ``run``: never (run exits with the command's code).
    FINDINGS = 1
    #: Bad input, bad usage, unreadable file, unreachable database: nothing was written.
    USAGE = 2
    #: An operation against an outside system (API, rollback) failed.
    OPERATION_FAILED = 3
    #: A bug: an unexpected exception (one line on stderr; FAULTBOOK_DEBUG=1 shows the traceback).
    INTERNAL = 70


class FaultbookError(Exception):
    """Base class: ``str(error)`` is the message for the user."""

    exit_code: ExitCode = ExitCode.USAGE
    #: The HTTP status the team server answers with (422: the request cannot be carried out as given).
    http_status: int = 422

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


class InputError(FaultbookError):
    """Bad input in a file: carries the file and (1-based) line when known."""

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        line: int | None = None,
        column: int | None = None,
        hint: str | None = None,
    ) -> None:
        location = ""
        if path:
            location = path
            if line is not None:
                location += f":{line}"
                if column is not None:
                    location += f":{column}"
            location += ": "
        super().__init__(f"{location}{message}", hint=hint)
        self.path = path
        self.line = line
        self.column = column
        self.reason = message


class ConflictError(FaultbookError):
    """The change would overwrite something that exists (e.g. failure numbers on import)."""

    http_status = 409


class NotFoundError(FaultbookError):
    """A failure number, deployment or project that does not exist."""

    http_status = 404


class DatabaseError(FaultbookError):
    """The database cannot be reached or used; the message never shows a password."""

    http_status = 503


class OperationFailed(FaultbookError):
    exit_code = ExitCode.OPERATION_FAILED
