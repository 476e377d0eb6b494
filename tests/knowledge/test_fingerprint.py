import re

import pytest

from faultbook.capture import fingerprint as fpmod
from faultbook.capture.fingerprint import extract_code, fingerprint, fingerprints, normalise
from normalise_cases import CASES, MERGES, NON_MERGES


@pytest.mark.parametrize("raw,expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_normalise(raw, expected):
    assert normalise(raw) == expected


@pytest.mark.parametrize("a,b", [c[1:] for c in NON_MERGES], ids=[c[0] for c in NON_MERGES])
def test_never_merged(a, b):
    assert fingerprint(a[0], code=a[1], component=a[2]) != fingerprint(b[0], code=b[1], component=b[2])


@pytest.mark.parametrize("a,b", [c[1:] for c in MERGES], ids=[c[0] for c in MERGES])
def test_merged(a, b):
    assert fingerprint(a[0], code=a[1], component=a[2]) == fingerprint(b[0], code=b[1], component=b[2])


def test_fingerprint_is_versioned_and_stable():
    value = fingerprint("binding IMAGES has an unknown type Images [code: 10021]", code=10021, component="Backend")
    assert re.fullmatch(r"v1:[0-9a-f]{40}", value)
    # A stored key must never change under the same version: this is the v1 key of the seed's Failure #1.
    assert value == fingerprint("binding IMAGES has an unknown type Images [code: 10021]", code=None, component="backend")


def test_a_new_version_does_not_regroup_old_fingerprints(monkeypatch):
    old = fingerprint("R2 bucket 'a' not found [code: 10085]", code=10085, component="Backend")
    monkeypatch.setitem(fpmod.NORMALISERS, "v2", lambda message: message.lower())
    keys = fingerprints("R2 bucket 'a' not found [code: 10085]", code=10085, component="Backend")
    assert keys[0].startswith("v2:") and keys[1] == old


@pytest.mark.parametrize(
    "text,code",
    [("x [code: 10085]", 10085), ("x (Code: 10021)", 10021), ("Code 10000: Authentication error", 10000), ("none", None)],
)
def test_extract_code(text, code):
    assert extract_code(text) == code
