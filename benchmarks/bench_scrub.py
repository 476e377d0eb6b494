"""Benchmark the secret scrubber: how much it catches, how much it keeps, what it costs.

Run: ``python benchmarks/bench_scrub.py [--seeds 20]`` from the repository root.  Prints:

* the corpus (``tests/security/secrets.toml``): shapes caught / planted, ordinary texts kept;
* held-out shapes the corpus does not hold (other gitleaks / trufflehog detectors and other contexts),
  each generated afresh for ``--seeds`` seeds: caught / planted — the rules must generalise;
* wrangler's own messages (every string literal in the pinned ``wrangler-dist/cli.js`` that names a token,
  password, secret, key, credential or cookie): kept unchanged / total — over-redaction changes an error;
* cost: milliseconds to scrub a 32 KiB output tail (what ``faultbook run`` keeps) and one small report (what a
  team server scrubs per report), against the peer ``extract.normalise`` (ANSI stripping) of the same tail,
  which every stored tail goes through anyway.  Target: at most 100 ms per tail, 0.5 ms per small report.
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import string
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tests"))

A62 = string.ascii_letters + string.digits
TAIL_TARGET_MS = 100.0
REPORT_TARGET_MS = 0.5


def held_out(r: random.Random) -> list[tuple[str, str, str]]:
    """(name, secret, line): shapes and contexts that are not in the corpus."""

    def rnd(n: int, a: str = A62) -> str:
        return "".join(r.choice(a) for _ in range(n))

    def hexs(n: int) -> str:
        return rnd(n, "0123456789abcdef")

    up = string.ascii_uppercase + string.digits
    return [
        ("airtable-pat", "pat" + rnd(14) + "." + hexs(64), "airtable {s}"),
        ("artifactory", "AKCp" + rnd(69), "jfrog {s}"),
        ("clickhouse", "4b1d" + rnd(38), "clickhouse secret {s}"),
        ("dropbox-short-lived", "sl." + rnd(135, A62 + "-_="), "dropbox {s}"),
        ("duffel", "duffel_live_" + rnd(43, A62 + "_-="), "{s}"),
        ("dynatrace", "dt0c01." + rnd(24, up) + "." + rnd(64, up), "Api-Token {s}"),
        ("easypost", "EZAK" + rnd(54), "easypost {s}"),
        ("facebook-page", "EAAC" + rnd(120), "fb {s}"),
        ("flyio", "fo1_" + rnd(43, A62 + "_-"), "FLY {s}"),
        ("frameio", "fio-u-" + rnd(64, A62 + "_-="), "frame {s}"),
        ("harness", "pat." + rnd(22, A62 + "_-") + "." + rnd(24) + "." + rnd(20), "harness {s}"),
        ("mapbox", "pk.eyJ1Ijoi" + rnd(49) + "." + rnd(22), "mapbox {s}"),
        ("maxmind", rnd(6) + "_" + rnd(29) + "_mmk", "maxmind {s}"),
        ("notion", "ntn_" + rnd(11, string.digits) + rnd(35), "notion {s}"),
        ("octopus", "API-" + rnd(26, up), "octopus {s}"),
        ("okta", "00" + rnd(40, A62 + "-_"), "okta {s}"),
        ("perplexity", "pplx-" + rnd(48), "{s}"),
        ("prefect", "pnu_" + rnd(36), "{s}"),
        ("readme", "rdme_" + rnd(70, string.ascii_lowercase + string.digits), "{s}"),
        ("scalingo", "tk-us-" + rnd(48, A62 + "_-"), "{s}"),
        ("sendinblue", "xkeysib-" + hexs(64) + "-" + rnd(16), "{s}"),
        ("settlemint", "sm_pat_" + rnd(16), "settlemint {s}"),
        ("sourcegraph", "sgp_" + hexs(16) + "_" + hexs(40), "{s}"),
        ("typeform", "tfp_" + rnd(59, A62 + "_-.="), "{s}"),
        ("vault-batch", "hvb." + rnd(140, A62 + "_-"), "{s}"),
        ("yandex", "t1." + rnd(20) + "." + rnd(86, A62 + "_-"), "{s}"),
        ("yandex-api", "AQVN" + rnd(36, A62 + "_-"), "{s}"),
        ("1password", "A3-" + rnd(6, up) + "-" + rnd(11, up) + "-" + "-".join(rnd(5, up) for _ in range(3)), "1password {s}"),
        ("beamer", "b_" + rnd(44, A62 + "_-="), "BEAMER_TOKEN={s}"),
        ("fastly-keyed", rnd(32, A62 + "_-"), "FASTLY_API_TOKEN: {s}"),
        ("algolia-keyed", rnd(32, string.ascii_lowercase + string.digits), "ALGOLIA_ADMIN_KEY={s}"),
        ("datadog-keyed", hexs(32), "DD_API_KEY={s}"),
        ("datadog-app", hexs(40), "DD_APP_KEY: {s}"),
        ("launchdarkly", "sdk-" + hexs(8) + "-" + hexs(4) + "-" + hexs(4) + "-" + hexs(4) + "-" + hexs(12), "LAUNCHDARKLY_SDK_KEY={s}"),
        ("vercel", rnd(24), "VERCEL_TOKEN={s}"),
        ("netlify", rnd(43, A62 + "_-"), "netlify deploy --auth {s}"),
        ("resend", "re_" + rnd(8) + "_" + rnd(24), "{s}"),
        ("posthog-personal", "phx_" + rnd(43), "{s}"),
        ("groq", "gsk_" + rnd(52), "{s}"),
        ("replicate", "r8_" + rnd(37), "{s}"),
        ("mistral-keyed", rnd(32), "MISTRAL_API_KEY={s}"),
        ("cohere", rnd(40), "CO_API_KEY={s}"),
        ("deepseek", "sk-" + hexs(32), "{s}"),
        ("openrouter", "sk-or-v1-" + hexs(64), "{s}"),
        ("xai", "xai-" + rnd(80), "{s}"),
        ("google-refresh", "1//0" + rnd(60, A62 + "_-"), "refresh {s}"),
        ("upstash-keyed", "AX" + rnd(60, A62 + "="), "UPSTASH_REDIS_REST_TOKEN={s}"),
        ("upstash-bare", "AX" + rnd(60), "token for redis {s}"),
        ("turso-jwt", "eyJhbGciOiJFZERTQSIsInR5cCI6IkpXVCJ9.eyJhIjoicnciLCJpYXQiOjE3M" + rnd(30) + "." + rnd(86, A62 + "_-"), "{s}"),
        ("neon-url", rnd(12), "postgresql://neondb_owner:{s}@ep-cool-darkness-123456.us-east-2.aws.neon.tech/neondb"),
        ("hyperdrive-url", rnd(16), "HYPERDRIVE conn postgres://user:{s}@pg.acme.internal/db"),
        ("token-as-url-user", "ghp_" + rnd(36), "https://{s}@github.com/acme/private.git"),
        ("password-quoted-single", "Sp ace " + rnd(6), "--password '{s}'"),
        ("pass-colon", rnd(12), "DB_PASS: {s}"),
        ("secret-yaml-quoted", rnd(30), '  secret: "{s}"'),
        ("json-password", rnd(14), '{"password":"{s}"}'),
        ("json-pretty-api-key", rnd(32), '    "apiKey": "{s}",'),
        ("cf-access-client-secret", hexs(64), "CF-Access-Client-Secret: {s}"),
        ("cf-access-client-secret-env", hexs(64), "CF_ACCESS_CLIENT_SECRET={s}"),
        ("x-auth-key-global", hexs(37), "curl -H 'X-Auth-Email: a@b.c' -H 'X-Auth-Key: {s}'"),
        ("global-key-in-text", hexs(37), "key is {s}"),
        ("jwt-bare", "eyJ" + rnd(30) + ".eyJ" + rnd(60) + "." + rnd(43, A62 + "_-"), "{s}"),
        ("private-key-json-escaped", "MIIEv" + rnd(59), '{"type":"service_account","private_key":"-----BEGIN PRIVATE KEY-----\\n{s}\\n-----END PRIVATE KEY-----\\n"}'),
        ("pem-dsa", rnd(64), "-----BEGIN DSA PRIVATE KEY-----\n{s}\n-----END DSA PRIVATE KEY-----"),
        ("cookie-lowercase", rnd(30), "cookie: sid={s}"),
        ("set-cookie-js", rnd(30), "'set-cookie': ['auth={s}; HttpOnly']"),
        ("auth-header-apikey", rnd(30), "Authorization: ApiKey {s}"),
        ("auth-header-template", rnd(30), "headers: { Authorization: `Bearer {s}` }"),
        ("sshpass-env", rnd(16), "SSHPASS={s} sshpass -e ssh host"),
        ("htpasswd", "$apr1$" + rnd(8) + "$" + rnd(22, A62 + "./"), "admin:{s}"),
        ("k8s-token-flag", "eyJhbGciOiJSUzI1NiIsImtpZCI6I" + rnd(40) + ".eyJ" + rnd(80) + "." + rnd(86, A62 + "_-"), "--token={s}"),
        ("twilio-auth-token-text", hexs(32), "twilio auth token {s}"),
        ("password-after-colon", "q9" + rnd(10), "the new password: {s}"),
        ("passphrase-env", "four words " + rnd(6) + " here", 'GPG_PASSPHRASE="{s}"'),
        ("env-json-dump", rnd(40), '{"env":{"SECRET_TOKEN":"{s}"}}'),
        ("wrangler-json-var", rnd(30), 'env.CONFIG ({"apiKey":"{s}","region":"eu"})   Environment Variable'),
        ("wrangler-binding-camel", rnd(20), 'env.stripeSecret ("{s}")   Environment Variable'),
        ("wrangler-binding-wrapped", rnd(20), 'env.AUTH_TOKEN    Environment Variable\n  "{s}"'),
        ("docker-login-p", "Dk" + rnd(14), "docker login -u ci -p {s} ghcr.io"),
        ("bare-basic", "dXNl" + rnd(16), "curl -H x Basic {s}"),
        ("cloudflare-token-dashes", rnd(12, A62) + "-" + rnd(14, A62) + "_" + rnd(12, A62), "token {s}"),
        # contexts the corpus does not have
        ("ruby-hash", "Ru by " + rnd(8), '"password" => "{s}"'),
        ("make-assign", rnd(14), "PASSWORD := {s}"),
        ("set-x-trace", rnd(32), "+ curl -sS -H 'Authorization: Bearer {s}' https://api.acme.example"),
        ("k8s-from-literal", rnd(16), "kubectl create secret generic db --from-literal=password={s}"),
        ("aws-configure-prompt", rnd(40, A62 + "/+"), "AWS Secret Access Key [None]: {s}"),
        ("java-properties", rnd(12), "spring.datasource.password={s}"),
        ("dotnet-connection-string", rnd(12), 'ConnectionStrings__Default="Server=db;User Id=sa;Password={s};"'),
        ("pem-base64", "LS0tLS1CRUdJTiBQUklWQVRFIEtFWS0tLS0t" + rnd(60, A62 + "+/"), "SSH_KEY_B64={s}"),
        ("cloudflare-cookies", rnd(43, A62 + "_-."), "Cookie: __cf_bm={s}; cf_clearance=" + rnd(40)),
        ("amz-security-token", rnd(80, A62 + "%"), "https://s3.amazonaws.com/b/k?X-Amz-Security-Token={s}&X-Amz-Date=20240101"),
        ("jwt-in-fragment", "eyJ" + rnd(20) + ".eyJ" + rnd(40) + "." + rnd(43, A62 + "_-"), "https://app.acme.example/cb#access_token={s}&x=1"),
        ("slack-xoxc", "xoxc-" + rnd(12, string.digits) + "-" + rnd(12, string.digits) + "-" + rnd(64, string.ascii_lowercase + string.digits), "{s}"),
        ("discord-bot", "MTE" + rnd(21) + "." + rnd(6) + "." + rnd(38, A62 + "_-"), "DISCORD {s}"),
        ("twitter-bearer", "A" * 22 + rnd(80, A62 + "%"), "bearer: {s}"),
        ("gh-actions-debug", rnd(40), "##[debug]Evaluating: secrets.DEPLOY_KEY => '{s}'"),
        ("python-repr", rnd(24), "{'user': 'deploy', 'passwd': '{s}'}"),
        ("logfmt", rnd(26), 'level=info msg="login" user=bob token={s} ip=10.0.0.1'),
    ]


def leaked(out: str, secret: str) -> bool:
    return secret in out or any(secret[i : i + 12] in out for i in range(0, max(len(secret) - 12, 0), 6))


def wrangler_messages() -> list[str]:
    cli = ROOT / "examples/quoteviral/node_modules/wrangler/wrangler-dist/cli.js"
    if not cli.exists():
        return []
    source = cli.read_text(encoding="utf-8")
    found = set(re.findall(r'"((?:[^"\\\n]|\\.){12,200})"', source))
    found |= set(re.findall(r"`((?:[^`\\\n$]|\\.){12,200})`", source))
    words = re.compile(r"(?i)token|passw|secret|auth|key|credential|cookie|bearer|basic")
    return sorted(t for t in found if " " in t and words.search(t))


def timed(fn, rounds: int = 15) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=20)
    args = parser.parse_args()

    from faultbook.capture.extract import normalise
    from faultbook.capture.scrub import Scrubber, scrub_fields
    from security.corpus import environment, leaks, load

    shapes, ordinary = load()
    scrubber = Scrubber.from_environ(environment(shapes))
    caught = sum(not leaks(scrubber.scrub(s.line), [s]) for s in shapes)
    kept = sum(scrubber.scrub(t) == t for t in ordinary)
    print(f"corpus: {caught}/{len(shapes)} shapes caught, {kept}/{len(ordinary)} ordinary texts kept")

    shapes_only = Scrubber()
    total = hit = 0
    missed: dict[str, int] = {}
    for seed in range(args.seeds):
        for name, secret, context in held_out(random.Random(seed)):
            total += 1
            if leaked(shapes_only.scrub(context.replace("{s}", secret)), secret):
                missed[name] = missed.get(name, 0) + 1
            else:
                hit += 1
    print(f"held-out: {hit}/{total} caught ({len(held_out(random.Random(0)))} shapes x {args.seeds} seeds, no environment)")
    for name, count in sorted(missed.items()):
        print(f"  missed {name}: {count}/{args.seeds}")

    messages = wrangler_messages()
    changed = [m for m in messages if shapes_only.scrub(m) != m]
    print(f"wrangler 4.86 messages naming a secret: {len(messages) - len(changed)}/{len(messages)} kept unchanged")
    for message in changed[:10]:
        print(f"  changed: {message[:120]}")

    tail = ("\n".join(ordinary * 8 + [s.line for s in shapes]) * 4)[-32768:]
    report = {"title": "Queue 'jobs' not found. [code: 11000]", "component": "Backend", "step": "deploy",
              "error_message": "Queue 'jobs' not found. [code: 11000]", "command": "npx wrangler deploy",
              "cwd": "/home/ci/work", "git_branch": "main"}
    peer = timed(lambda: normalise(tail))
    tail_ms = timed(lambda: scrubber.scrub(tail))
    report_ms = timed(lambda: scrub_fields(report), rounds=200)
    print(f"cost: 32 KiB tail {tail_ms:.1f} ms (target <= {TAIL_TARGET_MS:.0f}; peer normalise {peer:.2f} ms, "
          f"ratio {tail_ms / peer:.0f}x); small report {report_ms:.3f} ms (target <= {REPORT_TARGET_MS})")


if __name__ == "__main__":
    main()
