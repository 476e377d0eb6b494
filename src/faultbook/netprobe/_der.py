"""Just enough X.509 DER reading to describe a certificate the handshake refused.

``ssl`` only decodes a peer certificate after it verified it; for an expired,
self-signed or wrong-name certificate we still want its dates, issuer and names
(what a person checks first), without adding a cryptography dependency.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Iterator, TypedDict


class CertificateDetails(TypedDict):
    """What ``decode_certificate`` reads from a certificate (the fields of ``tls.TlsResult`` it fills)."""

    subject: str
    issuer: str
    not_before: datetime | None
    not_after: datetime | None
    san: tuple[str, ...]

_OIDS = {b"\x55\x04\x03": "CN", b"\x55\x04\x0a": "O", b"\x55\x04\x0b": "OU", b"\x55\x04\x06": "C"}
_SAN = b"\x55\x1d\x11"


def _items(data: bytes, start: int, end: int) -> Iterator[tuple[int, int, int]]:
    """(tag, content start, content end) of each TLV between start and end."""
    i = start
    while i < end:
        tag, length = data[i], data[i + 1]
        i += 2
        if length & 0x80:
            count = length & 0x7F
            length = int.from_bytes(data[i:i + count], "big")
            i += count
        yield tag, i, i + length
        i += length


def _name(data: bytes, item: tuple[int, int, int]) -> str:
    parts = []
    for _, s, e in _items(data, item[1], item[2]):  # SET
        for _, s2, e2 in _items(data, s, e):  # SEQUENCE { OID, value }
            (_, os, oe), (_, vs, ve) = list(_items(data, s2, e2))[:2]
            label = _OIDS.get(data[os:oe])
            if label:
                parts.append(f"{label}={data[vs:ve].decode('utf-8', 'replace')}")
    return ", ".join(parts)


def _time(data: bytes, item: tuple[int, int, int]) -> datetime:
    text = data[item[1]:item[2]].decode("ascii").rstrip("Z")
    if item[0] == 0x17:  # UTCTime, YY: 50-99 → 19YY
        year = int(text[:2])
        text = f"{1900 + year if year >= 50 else 2000 + year}{text[2:]}"
    return datetime.strptime(text[:14], "%Y%m%d%H%M%S").replace(tzinfo=timezone.utc)


def decode_certificate(der: bytes) -> CertificateDetails:
    """{"subject", "issuer", "not_before", "not_after", "san"} of a DER certificate."""
    cert = next(_items(der, 0, len(der)))
    tbs = next(_items(der, cert[1], cert[2]))
    fields = list(_items(der, tbs[1], tbs[2]))
    if fields[0][0] == 0xA0:  # explicit version
        fields = fields[1:]
    issuer, validity, subject = fields[2], fields[3], fields[4]
    not_before, not_after = list(_items(der, validity[1], validity[2]))[:2]
    san: list[str] = []
    for tag, s, e in fields[5:]:
        if tag != 0xA3:
            continue
        for _, es, ee in _items(der, *next(_items(der, s, e))[1:]):
            parts = list(_items(der, es, ee))
            if der[parts[0][1]:parts[0][2]] != _SAN:
                continue
            octets = parts[-1]
            names = next(_items(der, octets[1], octets[2]))
            for gtag, gs, ge in _items(der, names[1], names[2]):
                if gtag == 0x82:
                    san.append(der[gs:ge].decode("ascii", "replace"))
                elif gtag == 0x87:
                    import ipaddress

                    san.append(str(ipaddress.ip_address(der[gs:ge])))
    return {
        "subject": _name(der, subject),
        "issuer": _name(der, issuer),
        "not_before": _time(der, not_before),
        "not_after": _time(der, not_after),
        "san": tuple(san),
    }
