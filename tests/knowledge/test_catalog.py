import re

import pytest

from faultbook.knowledge.catalog import (
    ENDPOINT_NAMES,
    CatalogError,
    classify_endpoint,
    load_catalog,
    parse_catalog,
)
from faultbook.knowledge.match import find_matches

CATALOG = load_catalog()
SEED_10021 = "binding IMAGES has an unknown type Images [code: 10021]"
SEED_10085 = "R2 bucket 'quoteviral-uploads' not found. Please use a different name and try again. [code: 10085]"
UPLOAD = "/accounts/0123456789abcdef0123456789abcdef/workers/scripts/quoteviral-api"


def test_catalog_has_at_least_30_entries_with_unique_ids():
    assert len(CATALOG) >= 30
    ids = [e.id for e in CATALOG]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("entry", CATALOG, ids=[e.id for e in CATALOG])
def test_every_entry_is_complete(entry):
    assert re.fullmatch(r"[a-z0-9]+(?:-[a-z0-9]+)+", entry.id)
    assert entry.endpoint in ENDPOINT_NAMES
    assert entry.code is not None or entry.message  # a code-less entry is recognised by its message
    if entry.message:
        re.compile(entry.message)
    for text in (entry.title, entry.component, entry.step, entry.cause, entry.fix):
        assert text.strip()
    assert entry.docs is None or entry.docs.startswith("https://")
    assert isinstance(entry.transient, bool)


@pytest.mark.parametrize(
    "message,code,known_id",
    [
        (SEED_10021, 10021, "workers-unknown-binding-type"),
        (SEED_10085, 10085, "workers-r2-bucket-missing"),
        ("R2 bucket 'quoteviral-uploads' not found. Verify the bucket exists in your account and that the "
         "bucket_name is correct. [code: 10085]", 10085, "workers-r2-bucket-missing"),
        ("Script startup exceeded CPU time limit. [code: 10021]", 10021, "workers-startup-cpu-limit"),
        ("In order to use Durable Objects with a free plan, you must create a namespace using a "
         "`new_sqlite_classes` migration. [code: 10097]", 10097, "workers-do-free-plan-sqlite"),
        ("KV namespace 'f0814f19589a484da200cc3c3ba4d717' not found. [code: 10041]", 10041,
         "workers-kv-namespace-missing"),
        ("Hostname 'farmkit.app' already has externally managed DNS records (A, CNAME, etc). Either delete them, "
         "try a different hostname, or use the option 'override_existing_dns_record' to override. [code: 100117]",
         100117, "domains-externally-managed-dns"),
    ],
)
def test_real_messages_match_their_entry(message, code, known_id):
    entry = next(e for e in CATALOG if e.id == known_id)
    assert entry.code == code and entry.matches_message(message)
    best = find_matches(message=message, code=None, component="Backend", endpoint=UPLOAD, catalog=CATALOG)[0]
    assert best.known_error_id == known_id


def test_seed_entries_carry_the_seed_lessons():
    by_id = {e.id: e for e in CATALOG}
    assert "case-sensitive" in by_id["workers-unknown-binding-type"].lessons
    assert "wrangler r2 bucket create" in by_id["workers-r2-bucket-missing"].fix
    assert by_id["workers-r2-bucket-missing"].lessons.startswith("Always verify that all required resources")


@pytest.mark.parametrize(
    "path,api",
    [
        (UPLOAD, "script-upload"),
        (UPLOAD + "/versions", "script-upload"),
        (UPLOAD + "/secrets", "workers-secrets"),
        (UPLOAD + "/deployments", "workers-deployments"),
        ("/accounts/x/workers/services/api", "workers"),
        ("/accounts/x/r2/buckets/uploads", "r2"),
        ("/accounts/x/storage/kv/namespaces/abc", "kv"),
        ("/accounts/x/d1/database/abc", "d1"),
        ("/accounts/x/pages/projects/site/deployments", "pages"),
        ("/zones/abc/dns_records", "zones"),
        ("/user/tokens/verify", "tokens"),
        ("/nothing/known", None),
        (None, None),
    ],
)
def test_classify_endpoint(path, api):
    assert classify_endpoint(path) == api


@pytest.mark.parametrize(
    "endpoint,message,known_id",
    [
        ("/accounts/x/r2/buckets/uploads", "The specified bucket does not exist. [code: 10006]", "r2-no-such-bucket"),
        (UPLOAD, "Uncaught SyntaxError: Unexpected token '<' [code: 10006]", "workers-parse-error"),
    ],
)
def test_a_code_is_interpreted_by_the_api_that_returned_it(endpoint, message, known_id):
    best = find_matches(message=message, code=10006, component="Backend", endpoint=endpoint, catalog=CATALOG)[0]
    assert best.known_error_id == known_id


def test_10013_means_namespace_not_found_only_on_kv():
    on_kv = find_matches(message="failed [code: 10013]", code=10013, component="Backend",
                         endpoint="/accounts/x/storage/kv/namespaces/abc", catalog=CATALOG)
    elsewhere = find_matches(message="An unknown error has occurred [code: 10013]", code=10013, component="Backend",
                             endpoint=UPLOAD, catalog=CATALOG)
    assert on_kv[0].known_error_id == "kv-namespace-not-found"
    assert elsewhere[0].known_error_id == "api-unknown-error" and elsewhere[0].transient
    assert "kv-namespace-not-found" not in [m.known_error_id for m in elsewhere]


@pytest.mark.parametrize(
    "text,reason",
    [
        ("[[error]]\nid = 'x-y'\nendpoint = 'any'\ntitle = 't'\ncomponent = 'c'\nstep = 's'\ncause = 'c'\nfix = 'f'\n"
         "message = '(unclosed'\n", "not a valid regular expression"),
        ("[[error]]\nid = 'x-y'\nendpoint = 'mars'\ntitle = 't'\ncomponent = 'c'\nstep = 's'\ncause = 'c'\nfix = 'f'\n"
         "code = 1\n", "unknown endpoint"),
        ("[[error]]\nid = 'x-y'\nendpoint = 'any'\ntitle = 't'\ncomponent = 'c'\nstep = 's'\ncause = 'c'\n", "'fix'"),
        ("[[error]]\nid = 'x-y'\nendpoint = 'any'\ntitle = 't'\ncomponent = 'c'\nstep = 's'\ncause = 'c'\nfix = 'f'\n",
         "needs a message pattern"),
        ("[[error]]\nid = 'x-y'\nendpoint = 'any'\ntitle = 't'\ncomponent = 'c'\nstep = 's'\ncause = 'c'\nfix = 'f'\n"
         "code = 'ten'\n", "positive integer"),
        ("[[error]\n", "catalog/bad.toml"),
    ],
)
def test_a_bad_catalog_file_is_an_input_error_naming_file_and_entry(text, reason):
    with pytest.raises(CatalogError) as info:
        parse_catalog(text, source="catalog/bad.toml")
    assert reason in str(info.value) and "catalog/bad.toml" in str(info.value)


def test_duplicate_ids_are_refused():
    one = "[[error]]\nid = 'x-y'\nendpoint = 'any'\ncode = 1\ntitle = 't'\ncomponent = 'c'\nstep = 's'\ncause = 'c'\nfix = 'f'\n"
    with pytest.raises(CatalogError, match="duplicate id 'x-y'"):
        parse_catalog(one + one, source="catalog/dup.toml")
