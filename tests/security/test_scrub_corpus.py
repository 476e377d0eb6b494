"""The scrubber against the corpus: every shape in its context line is caught, every ordinary text is kept.

Case by case (a failure names the shape), then all at once (rules must not disturb each other), then the
ordinary texts interleaved with secrets (a neighbour's redaction must not spill onto them).
"""

from __future__ import annotations

import shlex

import pytest

from faultbook.capture.scrub import REDACTED, Scrubber, looks_secret_name
from security.corpus import environment, leaks, load

SHAPES, ORDINARY = load()
SCRUBBER = Scrubber.from_environ(environment(SHAPES))


def test_the_corpus_is_big_enough_and_cites_its_sources():
    assert len(SHAPES) >= 100
    assert len(ORDINARY) >= 50
    assert all(shape.source for shape in SHAPES)


@pytest.mark.parametrize("shape", SHAPES, ids=[s.name for s in SHAPES])
def test_each_shape_is_caught_in_its_context(shape):
    kept = SCRUBBER.scrub(shape.line)
    assert not leaks(kept, [shape]), kept
    assert REDACTED in kept


@pytest.mark.parametrize("text", ORDINARY)
def test_ordinary_text_is_kept_byte_for_byte(text):
    assert SCRUBBER.scrub(text) == text


@pytest.mark.parametrize("shape", [s for s in SHAPES if not s.env], ids=[s.name for s in SHAPES if not s.env])
def test_the_shape_rules_alone_catch_every_shape_that_does_not_need_the_environment(shape):
    # what a team server can do for a client that scrubbed nothing, and a failure typed into the dashboard
    assert not leaks(Scrubber().scrub(shape.line), [shape])


def test_all_shapes_and_ordinary_texts_together():
    lines = [line for shape, text in zip(SHAPES, ORDINARY * 3) for line in (text, shape.line)]
    kept = SCRUBBER.scrub("\n".join(lines))
    assert not leaks(kept, SHAPES)
    kept_lines = set(kept.split("\n"))
    assert [t for t in ORDINARY if "\n" not in t and t not in kept_lines] == []


def test_a_command_line_keeps_ordinary_arguments_and_no_secret():
    argv = ["npx", "wrangler", "deploy", *ORDINARY, *(s.line for s in SHAPES)]
    kept = SCRUBBER.scrub_command(argv)
    assert not leaks(kept, SHAPES)
    assert [t for t in ORDINARY if shlex.quote(t) not in kept] == []


def test_secrets_in_the_environment_are_caught_without_any_shape():
    scrubber = Scrubber.from_environ({"SHOP_DB_PASS": "plain words here", "CLOUDFLARE_API_TOKEN": "short"})
    assert scrubber.scrub("connecting as plain words here now") == f"connecting as {REDACTED} now"
    assert "short" not in scrubber.scrub("token short")


def test_an_ordinary_value_of_a_secret_looking_variable_does_not_redact_ordinary_output():
    # "Permission denied" became "[REDACTED] denied" (issue 14): one word, a number or a path is no secret
    scrubber = Scrubber.from_environ(
        {"AUTH_MODE": "Permission", "GOOGLE_APPLICATION_CREDENTIALS": "/ci/key.json", "SESSION_TTL_TOKEN": "86400"}
    )
    text = "Permission denied reading /ci/key.json after 86400 s"
    assert scrubber.scrub(text) == text


@pytest.mark.parametrize(
    "name, secret",
    [
        ("ADMIN_PASSWORD", True), ("DB_PASS", True), ("MYSQL_PWD", True), ("SSHPASS", True),
        ("apiKey", True), ("X-Auth-Token", True), ("AccountKey", True), ("SESSION_SECRET", True),
        ("SENTRY_DSN", True), ("client_secret", True), ("Proxy-Authorization", True), ("private_key", True),
        ("PWD", False), ("SSH_AUTH_SOCK", False), ("TOKEN_FILE", False), ("SECRET_NAME", False),
        ("public_key", False), ("primary_key", False), ("author", False), ("bypass", False),
        ("password_length", False), ("AUTH_URL", False), ("FRONTEND_ORIGIN", False),
    ],
)
def test_secret_looking_names(name, secret):
    assert looks_secret_name(name) is secret


ADVERSARIAL = {
    "keys": "password=" * 11_000,
    "spaced keys": "password= " * 10_000,
    "url starts": "https://u:" * 10_000,
    "at signs": "https://u:p" + "@" * 100_000,
    "headers": "Cookie: " * 12_000,
    "quotes": 'password="' * 10_000,
    "flags": "--token " * 12_000,
    "logins": "login " * 16_000,
    "bindings": "env.SECRET (" * 8_000,
    "attributes": 'key="password" value="' * 4_500,
    "pem": "-----BEGIN RSA PRIVATE KEY-----\n" * 3_000,
    "dotted words": "aB3dE5fG7h." * 9_000,
}


@pytest.mark.parametrize("text", ADVERSARIAL.values(), ids=ADVERSARIAL.keys())
def test_adversarial_text_scrubs_in_linear_time(text):
    # ~100 KB each: linear rules take well under a second; a quadratic one took minutes (no timing asserted)
    assert SCRUBBER.scrub(text)
