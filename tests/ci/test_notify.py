"""Notifications: one notice, rendered for Slack, Discord and JSON, posted to a local receiver."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from faultbook.services.notify import DeployNotice, KnownFix, detect_format, parse_format, payload, send

NOTICE = DeployNotice(
    project="QuoteViral", outcome="failed", command="npx wrangler deploy", exit_code=1, deployment_id=3,
    component="Backend", failure_number=1, failure_title="Cloudflare Images binding type error", regression=True,
    occurrences=2, error_message="binding IMAGES has an unknown type Images [code: 10021]", error_code=10021,
    fixes=(KnownFix(source="ledger", title="Cloudflare Images binding type error",
                    fix="Remove the IMAGES binding from wrangler.toml", failure_number=1),),
    link="https://faultbook.example/failures/1",
)


@pytest.mark.parametrize("url, expected", [
    ("https://hooks.slack.com/services/T000/B000/XXXX", "slack"),
    ("https://discord.com/api/webhooks/123/abc", "discord"),
    ("https://discordapp.com/api/webhooks/123/abc", "discord"),
    ("https://discord.com/channels/1/2", "json"),
    ("https://example.com/hooks/slack", "json"),
    ("http://127.0.0.1:9000/", "json"),
])
def test_the_format_is_detected_from_the_webhook(url, expected):
    assert detect_format(url) == expected
    assert parse_format(None, url) == expected


def test_slack_gets_block_kit_with_the_error_the_fix_and_a_link():
    body = payload(NOTICE, "slack")
    assert "REGRESSION of Failure #1" in body["text"]
    texts = json.dumps(body["blocks"])
    assert "[code: 10021]" in texts and "Remove the IMAGES binding" in texts
    assert any(b["type"] == "actions" and b["elements"][0]["url"] == NOTICE.link for b in body["blocks"])


def test_discord_gets_an_embed_with_the_error_the_fix_and_a_link():
    body = payload(NOTICE, "discord")
    [embed] = body["embeds"]
    assert "REGRESSION of Failure #1" in embed["title"] and embed["url"] == NOTICE.link
    assert "[code: 10021]" in embed["description"]
    assert embed["fields"][0]["value"] == "Remove the IMAGES binding from wrangler.toml"


def test_json_carries_every_field():
    body = payload(NOTICE, "json")
    assert (body["failure_number"], body["regression"], body["link"]) == (1, True, NOTICE.link)
    assert body["known_fixes"][0]["fix"] == "Remove the IMAGES binding from wrangler.toml"


def test_an_unknown_format_is_refused():
    from faultbook.errors import InputError

    with pytest.raises(InputError):
        parse_format("teams", "https://example.com")


def test_send_posts_to_a_receiver_and_reports_trouble_as_a_value():
    received = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(500 if len(received) > 1 else 200)
            self.send_header("Content-Length", "0")
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    try:
        assert send(url, NOTICE, fmt="discord") is None
        assert received[0]["embeds"][0]["color"]
        assert send(url, NOTICE, fmt="json") == "HTTP 500"
        assert send("http://127.0.0.1:9/", NOTICE, fmt="json", timeout=2).startswith("ConnectError")
    finally:
        server.shutdown()
