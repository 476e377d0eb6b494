import re

import pytest

from faultbook.knowledge.fingerprint import api_family, extract_code, fingerprint, fingerprints, normalise
from normalise_cases import CASES, MERGES, NON_MERGES


@pytest.mark.parametrize("raw,expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_normalise(raw, expected):
    assert normalise(raw) == expected


@pytest.mark.parametrize("a,b", [c[1:] for c in NON_MERGES], ids=[c[0] for c in NON_MERGES])
def test_never_merged(a, b):
    assert key(*a) != key(*b)


@pytest.mark.parametrize("a,b", [c[1:] for c in MERGES], ids=[c[0] for c in MERGES])
def test_merged(a, b):
    assert key(*a) == key(*b)


def key(message, code, component, endpoint=None):
    return fingerprint(message, code=code, component=component, endpoint=endpoint)


def test_fingerprint_is_versioned_and_stable():
    value = fingerprint("binding IMAGES has an unknown type Images [code: 10021]", code=10021, component="Backend")
    assert re.fullmatch(r"v2:[0-9a-f]{40}", value)
    assert value == fingerprint("binding IMAGES has an unknown type Images [code: 10021]", code=None, component="backend")
    # A stored key never changes under its version: these are the seed's Failure #1 under v1 and v2.
    assert fingerprint("binding IMAGES has an unknown type Images [code: 10021]", code=10021, component="Backend",
                       version="v1") == "v1:" + V1_SEED_1
    assert value == "v2:" + V2_SEED_1


V1_SEED_1 = "881e9a8429bb2ef1695022f7c52e700c4d4b2c58"
V2_SEED_1 = "61be65a4503726a868cba9becd16832ac51ace86"


def test_the_endpoint_or_an_api_path_in_the_message_gives_the_family():
    upload = "/accounts/0123456789abcdef0123456789abcdef/workers/scripts/api"
    assert api_family(upload) == "/accounts/:id/workers/scripts/:name"
    assert api_family("https://api.cloudflare.com/client/v4/zones/0123456789abcdef0123456789abcdef/workers/routes?x=1") \
        == "/zones/:id/workers/routes"
    assert api_family("r2") == "" and api_family(None) == ""
    with_path = f"A request to the Cloudflare API ({upload}) failed."
    assert fingerprint(with_path, code=None, component="Backend") == fingerprint(
        with_path, code=None, component="Backend", endpoint=upload.replace("api", "web"))
    assert fingerprint(with_path, code=None, component="Backend") != fingerprint(
        with_path, code=None, component="Backend", endpoint="/zones/0123456789abcdef0123456789abcdef/workers/routes")


def test_lookup_keys_are_the_exact_then_the_family_less_one():
    upload = "/accounts/0123456789abcdef0123456789abcdef/workers/scripts/api"
    keys = fingerprints("Authentication error [code: 10000]", code=None, component="Backend", endpoint=upload)
    assert keys == (
        fingerprint("Authentication error [code: 10000]", code=None, component="Backend", endpoint=upload),
        fingerprint("Authentication error [code: 10000]", code=None, component="Backend"),
    )
    assert len(fingerprints("Authentication error", code=10000, component="Backend")) == 1


@pytest.mark.parametrize(
    "text,code",
    [("x [code: 10085]", 10085), ("x (Code: 10021)", 10021), ("Code 10000: Authentication error", 10000),
     ("x [API code: 10021]", 10021), ('{"code": 10022, "message": "x"}', 10022), ("none", None)],
)
def test_extract_code(text, code):
    assert extract_code(text) == code
