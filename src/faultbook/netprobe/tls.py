"""TLS certificate inspection with the standard library: is the chain valid for this name, and until when?

``inspect_certificate`` connects to ``host:port`` (an address, possibly from a
DNS answer) and verifies the certificate against ``server_name`` (sent as SNI),
with the system's trust store or ``cafile``.  When verification fails it
connects a second time without verification, only to describe the certificate
it was shown — the dates, issuer and names are what a person checks first.
"""

from __future__ import annotations

import socket
import ssl
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone

from faultbook.netprobe._der import decode_certificate

#: OpenSSL X509_V_ERR_* codes → our reasons.
_REASONS = {
    9: "not-yet-valid", 10: "expired", 18: "untrusted", 19: "untrusted", 20: "untrusted", 21: "untrusted",
    62: "hostname-mismatch", 64: "hostname-mismatch",
}


@dataclass(frozen=True)
class TlsResult:
    host: str
    port: int
    server_name: str
    #: The chain verified and covers ``server_name``.
    valid: bool
    #: None when valid; else "unreachable" | "handshake" | "hostname-mismatch" | "expired" |
    #: "not-yet-valid" | "untrusted" | "invalid".
    reason: str | None = None
    error: str | None = None
    subject: str = ""
    issuer: str = ""
    san: tuple[str, ...] = ()
    not_before: datetime | None = None
    not_after: datetime | None = None
    checked_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))

    @property
    def days_left(self) -> int | None:
        if self.not_after is None:
            return None
        return int((self.not_after - self.checked_at).total_seconds() // 86400)

    @property
    def self_signed(self) -> bool:
        return bool(self.issuer) and self.issuer == self.subject

    def expires_within(self, days: int) -> bool:
        return self.days_left is not None and self.days_left < days

    @property
    def problem(self) -> str | None:
        if self.valid:
            return None
        name = self.server_name
        if self.reason == "unreachable":
            return f"cannot connect to {self.host}:{self.port}: {self.error}"
        if self.reason == "handshake":
            return f"TLS handshake with {name} failed: {self.error}"
        if self.reason == "hostname-mismatch":
            covers = ", ".join(self.san) or self.subject or "other names"
            return f"the certificate is not valid for {name} (it covers {covers})"
        if self.reason == "expired" and self.not_after:
            return f"the certificate for {name} expired on {self.not_after:%Y-%m-%d}"
        if self.reason == "not-yet-valid" and self.not_before:
            return f"the certificate for {name} is not valid before {self.not_before:%Y-%m-%d}"
        if self.reason == "untrusted":
            what = "a self-signed certificate" if self.self_signed else f"a certificate from an untrusted issuer ({self.issuer})"
            return f"{name} presents {what}: {self.error}"
        return f"the certificate for {name} is invalid: {self.error}"


def inspect_certificate(
    host: str,
    port: int = 443,
    *,
    server_name: str | None = None,
    cafile: str | None = None,
    timeout: float = 5.0,
) -> TlsResult:
    """Connect to ``host:port``, verify the certificate for ``server_name`` (default ``host``)."""
    name = server_name or host
    base = TlsResult(host=host, port=port, server_name=name, valid=False)
    try:
        context = ssl.create_default_context(cafile=cafile)
    except (OSError, ssl.SSLError) as exc:
        return replace(base, reason="invalid", error=f"cannot load CA file {cafile}: {exc}")
    try:
        der = _handshake(host, port, name, context, timeout)
    except ssl.SSLCertVerificationError as exc:
        reason = _REASONS.get(exc.verify_code, "invalid")
        message = exc.verify_message or str(exc)
        failed = replace(base, reason=reason, error=message)
        try:
            return replace(failed, **decode_certificate(_handshake(host, port, name, _unverified(), timeout)))
        except (OSError, ValueError, IndexError, StopIteration):
            return failed
    except ssl.SSLError as exc:
        return replace(base, reason="handshake", error=exc.reason or str(exc))
    except OSError as exc:
        return replace(base, reason="unreachable", error=_os_error(exc))
    try:
        return replace(base, valid=True, **decode_certificate(der))
    except (ValueError, IndexError, StopIteration):
        return replace(base, valid=True)


def _unverified() -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def _handshake(host: str, port: int, name: str, context: ssl.SSLContext, timeout: float) -> bytes:
    with socket.create_connection((host, port), timeout=timeout) as raw:
        with context.wrap_socket(raw, server_hostname=name) as tls:
            return tls.getpeercert(binary_form=True) or b""


def _os_error(exc: OSError) -> str:
    if isinstance(exc, socket.timeout):
        return "timed out"
    return exc.strerror or str(exc) or type(exc).__name__
