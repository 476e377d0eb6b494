"""No secret survives scrubbing, and ordinary deploy output is left alone."""

from __future__ import annotations

import pytest

from faultbook.capture.scrub import REDACTED, Scrubber

CF_TOKEN = "aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5bC7d"  # 40 chars, Cloudflare API token shape
ENV = {
    "CLOUDFLARE_API_TOKEN": "tok-short1",
    "MY_DB_PASSWORD": "hunter2hunter2",
    "STRIPE_SECRET_KEY": "sk_live_0123456789abcdef",
    "AUTH_ENABLED": "true",
    "PATH": "/usr/bin:/bin",
    "SSH_AUTH_SOCK": "/tmp/ssh-abc/agent.1",
}


@pytest.fixture
def scrubber():
    return Scrubber.from_environ(ENV)


@pytest.mark.parametrize(
    "text, secret",
    [
        ("using token tok-short1 now", "tok-short1"),
        ("connecting with hunter2hunter2", "hunter2hunter2"),
        ("key sk_live_0123456789abcdef loaded", "sk_live_0123456789abcdef"),
        ("Authorization: Bearer abcdefghijklmnop123", "abcdefghijklmnop123"),
        ("curl -H 'authorization: bearer zzzzyyyyxxxx1111'", "zzzzyyyyxxxx1111"),
        ("password=opensesame42", "opensesame42"),
        ('{"api_key": "k-123456789"}', "k-123456789"),
        ("deploy --token=abc123def456", "abc123def456"),
        ("deploy --api-key abc123def456 --env prod", "abc123def456"),
        (f"the token is {CF_TOKEN}.", CF_TOKEN),
        ("jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U", "dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"),
        ("aws AKIAIOSFODNN7EXAMPLE here", "AKIAIOSFODNN7EXAMPLE"),
        ("gh ghp_abcdefghijklmnopqrstuvwxyz0123456789 x", "ghp_abcdefghijklmnopqrstuvwxyz0123456789"),
        ("postgresql://app:s3cr3tpass@db.internal:5432/ledger", "s3cr3tpass"),
        (
            "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7\nabc\n-----END RSA PRIVATE KEY-----",
            "MIIEowIBAAKCAQEA7",
        ),
    ],
)
def test_secrets_are_redacted(scrubber, text, secret):
    scrubbed = scrubber.scrub(text)
    assert secret not in scrubbed
    assert REDACTED in scrubbed


@pytest.mark.parametrize(
    "text",
    [
        "binding IMAGES has an unknown type Images [code: 10021]",
        "R2 bucket 'quoteviral-uploads' not found. Please use a different name and try again. [code: 10085]",
        "Authentication error [code: 10000]",
        "A request to the Cloudflare API (/accounts/0123456789abcdef0123456789abcdef/workers/scripts/x) failed.",
        "commit 3f786850e387550fdab836ed7e6dc881de23001b on main",  # a git sha is not a token
        "Current Version ID: 9a8b7c6d-0000-4000-8000-000000000001",
        "AUTH_ENABLED is true",
        "agent at /tmp/ssh-abc/agent.1",
        "https://quoteviral-api.example.workers.dev",
    ],
)
def test_ordinary_output_is_untouched(scrubber, text):
    assert scrubber.scrub(text) == text


def test_keys_and_separators_are_kept_for_reading(scrubber):
    assert scrubber.scrub("password=opensesame42") == f"password={REDACTED}"
    assert scrubber.scrub("Authorization: Bearer abcdefghijklmnop123") == f"Authorization: Bearer {REDACTED}"
    assert scrubber.scrub("--token=abc123def456") == f"--token={REDACTED}"
    assert scrubber.scrub("postgresql://app:s3cr3tpass@db/x") == f"postgresql://app:{REDACTED}@db/x"


def test_long_runs_without_spaces_scrub_in_linear_time(scrubber):
    # A quadratic pattern would take minutes on this; it must finish (no timing asserted).
    blob = "a." * 200_000 + "b" * 300_000
    assert scrubber.scrub(blob) == blob


def test_kept_text_is_storable_even_when_it_held_bytes_that_are_not_utf8(scrubber):
    kept = scrubber.scrub("deploy caf\udce9 \ud800 ok")
    kept.encode("utf-8")  # a database, a file and a terminal take it
    assert kept == "deploy caf\\xe9 \\ud800 ok"
