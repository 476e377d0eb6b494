"""The seed document parsed field by field: what `faultbook import` stores from it."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from md_golden import SEED, read

from faultbook.domain.models import Status
from faultbook.markdown import parse_document


@pytest.fixture(scope="module")
def seed():
    return parse_document(read(SEED), path="examples/quoteviral/FAILURES.md")


def test_failures_in_document_order_with_numbers_as_written(seed):
    assert [f.number for f in seed.failures] == [1, 2]
    assert seed.failure_lines == (24, 40)


def test_failure_2(seed):
    failure = seed.failures[1]
    assert failure.title == "Missing R2 Buckets"
    assert failure.occurred_at == datetime(2025, 8, 20, 14, 5, tzinfo=timezone.utc)
    assert failure.occurred_at.utcoffset().total_seconds() == 0
    assert failure.component == "Backend"
    assert failure.component_detail == "Cloudflare Worker"
    assert failure.step == "Worker deployment"
    assert failure.error_message == (
        "R2 bucket 'quoteviral-uploads' not found. Please use a different name and try again. [code: 10085]"
    )
    assert failure.root_cause == "The required R2 buckets were not created in the Cloudflare account"
    assert failure.resolution == (
        "Created the missing R2 buckets using Wrangler CLI:\n"
        "```bash\n"
        "wrangler r2 bucket create quoteviral-uploads\n"
        "wrangler r2 bucket create quoteviral-generated\n"
        "wrangler r2 bucket create quoteviral-templates\n"
        "```"
    )
    assert failure.status is Status.RESOLVED
    assert failure.lessons_learned == (
        "Always verify that all required resources (buckets, databases, namespaces) exist before attempting "
        "deployment."
    )


def test_failure_1(seed):
    failure = seed.failures[0]
    assert failure.title == "Incorrect Images Binding Type"
    assert failure.occurred_at == datetime(2025, 8, 20, 14, 15, tzinfo=timezone.utc)
    assert failure.error_message == "binding IMAGES has an unknown type Images [code: 10021]"
    assert failure.root_cause == (
        'The Images binding type was incorrectly specified as "Images" instead of "images" in wrangler.toml'
    )
    assert failure.resolution == (
        'Changed the binding type from "Images" to "images" in wrangler.toml:\n'
        "```toml\n"
        "[[unsafe.bindings]]\n"
        'name = "IMAGES"\n'
        'type = "images"\n'
        "```"
    )
    assert failure.status is Status.RESOLVED
    assert failure.lessons_learned.startswith("Cloudflare binding types are case-sensitive")
    # Bookkeeping is the store's business, not the document's.
    assert failure.created_at is None and failure.fingerprint is None


def test_failure_2_happened_before_failure_1(seed):
    one, two = seed.failures
    assert two.occurred_at < one.occurred_at


def test_potential_failures(seed):
    assert [p.number for p in seed.potential_failures] == [1, 2, 3]
    assert seed.potential_failure_lines == (58, 78, 98)
    dns = seed.potential_failures[0]
    assert dns.title == "DNS Configuration Issues"
    assert dns.component == "DNS/Routing"
    assert dns.step == "Custom domain configuration"
    assert dns.possible_error_messages == (
        "DNS resolution failed",
        "SSL certificate provisioning failed",
        "Domain not pointing to correct target",
    )
    assert dns.likely_root_causes == (
        "Incorrect DNS records",
        "DNS propagation delays",
        "SSL certificate provisioning issues",
    )
    assert dns.planned_resolution[1] == "Check DNS propagation with tools like dig or nslookup"
    assert dns.prevention[-1] == "Monitor certificate status in dashboard"
    frontend = seed.potential_failures[2]
    assert frontend.component == "Frontend/API"
    assert frontend.possible_error_messages[1] == "CORS policy blocked"
