from datetime import datetime, timezone

import pytest

from faultbook.knowledge.fingerprint import fingerprint
from faultbook.domain import Failure, PotentialFailure, Status
from faultbook.knowledge.catalog import load_catalog
from faultbook.knowledge.match import KnowledgeIndex, Match, find_matches, render_match

CATALOG = load_catalog()
SEED_10021 = "binding IMAGES has an unknown type Images [code: 10021]"
SEED_10085 = "R2 bucket 'quoteviral-uploads' not found. Please use a different name and try again. [code: 10085]"
WHEN = datetime(2025, 8, 20, 14, 15, tzinfo=timezone.utc)

FAILURE_1 = Failure(
    number=1,
    title="Incorrect Images Binding Type",
    occurred_at=WHEN,
    component="Backend",
    component_detail="Cloudflare Worker",
    step="Worker deployment",
    error_message=SEED_10021,
    root_cause='The Images binding type was incorrectly specified as "Images" instead of "images" in wrangler.toml',
    resolution='Changed the binding type from "Images" to "images" in wrangler.toml',
    status=Status.RESOLVED,
    lessons_learned="Cloudflare binding types are case-sensitive.",
)
POTENTIAL_2 = PotentialFailure(
    number=2,
    title="Asset Upload Failures",
    component="Assets/R2",
    step="Template asset upload",
    possible_error_messages=("Failed to upload to R2", "R2 bucket permissions error", "File size limit exceeded"),
    likely_root_causes=("Incorrect R2 bucket permissions", "File size exceeding limits"),
    planned_resolution=("Check bucket permissions and CORS settings",),
    prevention=("Verify bucket permissions before upload",),
)


def test_a_ledger_failure_with_the_same_fingerprint_beats_the_catalog():
    matches = find_matches(message=SEED_10021, code=10021, component="Backend", endpoint=None,
                           catalog=CATALOG, resolved=[FAILURE_1])
    # The pattern-less 10021 fallback is not printed once the binding-type entry's pattern confirms the message.
    assert [(m.source, m.known_error_id) for m in matches] == [("ledger", None), ("catalog", "workers-unknown-binding-type")]
    assert matches[0].failure_number == 1 and matches[0].score == 1.0


def test_without_a_component_the_ledger_is_searched_under_every_component():
    index = KnowledgeIndex(catalog=CATALOG, failures=[FAILURE_1])
    assert index.lookup(SEED_10021, code=None, component=None) is FAILURE_1
    assert index.lookup(SEED_10021, code=None, component="Frontend") is None


def test_different_codes_never_match_a_failure_or_an_entry():
    matches = find_matches(message="binding IMAGES has an unknown type Images [code: 10085]", code=10085,
                           component="Backend", endpoint=None, catalog=CATALOG, resolved=[FAILURE_1])
    assert all(m.failure_number != 1 for m in matches)
    assert all(m.code in (10085, None) for m in matches)


def test_similar_text_finds_a_potential_failure():
    matches = find_matches(message="Error: Failed to upload to R2: templates/hero.png", code=None,
                           component="Assets", endpoint=None, catalog=CATALOG, potential=[POTENTIAL_2])
    assert matches[0].source == "potential" and matches[0].failure_number == 2
    assert "Incorrect R2 bucket permissions" in matches[0].root_cause


def test_similar_text_finds_a_resolved_failure_with_another_fingerprint():
    other = "binding MEDIA has an unknown type Media [code: 10021]"
    matches = find_matches(message=other, code=10021, component="Backend", endpoint=None, catalog=CATALOG,
                           resolved=[FAILURE_1])
    ledger = [m for m in matches if m.source == "ledger"]
    assert ledger and ledger[0].failure_number == 1 and ledger[0].score < 0.9
    assert matches[0].source == "catalog"  # code + message in the catalog outranks mere similarity


def test_nothing_known_gives_no_matches():
    assert find_matches(message="zzz qqq", code=None, component="Backend", endpoint=None, catalog=CATALOG) == []


def test_render_ledger_match():
    text = render_match(find_matches(message=SEED_10021, code=None, component="Backend", endpoint=None,
                                     catalog=CATALOG, resolved=[FAILURE_1])[0])
    assert text.splitlines() == [
        "Seen before as Failure #1, Resolved: Incorrect Images Binding Type",
        '  root cause: The Images binding type was incorrectly specified as "Images" instead of "images" in wrangler.toml',
        '  resolution: Changed the binding type from "Images" to "images" in wrangler.toml',
        "  lessons: Cloudflare binding types are case-sensitive.",
    ]


def test_render_catalog_match():
    match = find_matches(message=SEED_10085, code=None, component="Backend", endpoint=None, catalog=CATALOG)[0]
    lines = render_match(match).splitlines()
    assert lines[0] == "Known Cloudflare error 10085 (R2 bucket missing)"
    assert lines[1].startswith("  cause: An `r2_buckets` binding names a bucket")
    assert "    wrangler r2 bucket create <bucket-name>" in lines


def test_transient_entries_say_so():
    match = find_matches(message="Please wait and consider throttling your request speed [code: 971]", code=971,
                         component="Backend", endpoint=None, catalog=CATALOG)[0]
    assert match.transient and "retrying usually helps" in render_match(match)


def test_match_json_shape():
    data = Match(source="catalog", title="t", root_cause="c", resolution="f", lessons="", failure_number=None,
                 status=None, score=0.95, known_error_id="x-y", transient=False).to_json()
    assert list(data) == ["source", "title", "root_cause", "resolution", "lessons", "failure_number", "status",
                          "score", "known_error_id", "transient", "code", "docs", "reason"]


def test_stored_fingerprint_is_used_when_present():
    stored = FAILURE_1.with_changes(fingerprint=fingerprint("other text", code=1, component="x"), error_message="abc")
    index = KnowledgeIndex(catalog=(), failures=[stored])
    assert index.lookup("other text", code=1, component="x") is stored


# ---------------------------------------------------------------- what is shown, and why (issue 12)

UPLOAD = "/accounts/0123456789abcdef0123456789abcdef/workers/scripts/api"


def catalog_ids(message, *, code=None, endpoint=None):
    return [m.known_error_id for m in find_matches(message=message, code=code, component="Backend",
                                                   endpoint=endpoint, catalog=CATALOG, limit=10)
            if m.source == "catalog"]


@pytest.mark.parametrize(
    "message,known_id",
    [
        ('The entry-point file at "src/index.ts" was not found.', "config-entry-point-missing"),
        ("fetch failed", "network-fetch-failed"),
        ("TypeError: fetch failed", "network-fetch-failed"),
    ],
)
def test_an_entry_without_a_code_explains_an_error_without_one(message, known_id):
    assert catalog_ids(message)[:1] == [known_id]


def test_entries_whose_pattern_does_not_match_are_not_shown():
    # A 10021 no specific entry describes: only the generic upload-validation entry, not every 10021 entry.
    assert catalog_ids("Something new went wrong [code: 10021]", endpoint=UPLOAD) == ["workers-upload-validation"]
    # One that an entry describes: that entry alone (the generic fallback is not printed under it).
    assert catalog_ids("Can't set compatibility date in the future: 2099-01-01 [code: 10021]", endpoint=UPLOAD) == [
        "workers-compat-date-future"]


def test_an_api_specific_entry_needs_evidence():
    bare = catalog_ids("workers.api.error.unknown [code: 10013]", code=10013)
    assert bare[0] == "api-unknown-error" and "kv-namespace-not-found" not in bare
    on_kv = catalog_ids("workers.api.error.unknown [code: 10013]", code=10013,
                        endpoint="/accounts/x/storage/kv/namespaces/abc/values/k")
    assert on_kv[0] == "kv-namespace-not-found"


def test_the_api_that_answered_outranks_a_generic_message_match():
    routes = "/accounts/0123456789abcdef0123456789abcdef/workers/scripts/api/routes"
    assert catalog_ids("workers.api.error.internal_server [code: 10002]", code=10002, endpoint=routes)[0] == \
        "routes-update-failed"
    assert catalog_ids("workers.api.error.internal_server [code: 10002]", code=10002, endpoint=UPLOAD)[0] == \
        "api-internal-error-10002"


def test_an_api_error_without_its_code_is_not_explained_as_that_api_error():
    # "Uncaught ReferenceError" at runtime is not the upload's 10021 startup error.
    assert "workers-startup-undefined-global" not in catalog_ids("Uncaught ReferenceError: quoteStore is not defined")
    assert catalog_ids("Uncaught ReferenceError: process is not defined [code: 10021]")[0] == \
        "workers-startup-undefined-global"


def test_a_fallback_entry_gives_way_to_any_pattern_that_explains_the_message():
    timeout = ('binding HYPERDRIVE of type hyperdrive failed to generate: Failed to perform request against x: '
               'context deadline exceeded (Client.Timeout exceeded while awaiting headers). [code: 10021]')
    assert catalog_ids(timeout, endpoint=UPLOAD) == ["api-internal-timeout"]
