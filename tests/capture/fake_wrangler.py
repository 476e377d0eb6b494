"""A stand-in for wrangler in service tests: behaves as FAKE_WRANGLER_MODE says.

It prints what wrangler prints (esbuild-formatted blocks on stderr) and
appends ND-JSON to WRANGLER_OUTPUT_FILE_PATH like workers-utils' writeOutput.
FAKE_WRANGLER_COUNTER (a file) lets a test make the first N runs fail.
"""

import json
import os
import sys


def out(entry):
    path = os.environ.get("WRANGLER_OUTPUT_FILE_PATH")
    if path:
        with open(path, "a") as handle:
            handle.write(json.dumps({"version": 1, "timestamp": "2026-01-01T00:00:00Z", **entry}) + "\n")


def error_block(message, endpoint="/accounts/acc/workers/scripts/quoteviral-api"):
    sys.stderr.write(
        f"\x1b[31m✘ \x1b[41;31m[\x1b[41;97mERROR\x1b[41;31m]\x1b[0m \x1b[1mA request to the Cloudflare API ({endpoint}) failed.\x1b[0m\n\n"
        f"  {message}\n\n"
        "  If you think this is a bug, please open an issue at:\n"
        "  https://github.com/cloudflare/workers-sdk/issues/new/choose\n\n"
    )


mode = os.environ.get("FAKE_WRANGLER_MODE", "ok")
counter = os.environ.get("FAKE_WRANGLER_COUNTER")
if counter:
    n = int(open(counter).read() or 0) if os.path.exists(counter) else 0
    open(counter, "w").write(str(n + 1))
    fail_first = int(os.environ.get("FAKE_WRANGLER_FAIL_FIRST", "0"))
    if n >= fail_first:
        mode = "ok"

print(" ⛅️ wrangler 4.86.0")
print(f"args: {' '.join(sys.argv[1:])}")
print(f"token in env: {os.environ.get('CLOUDFLARE_API_TOKEN', '')}")
sys.stdout.flush()
if mode == "ok":
    print("Uploaded quoteviral-api (1.00 sec)")
    print("Current Version ID: 11111111-2222-4333-8444-555555555555")
    out({"type": "deploy", "worker_name": "quoteviral-api", "version_id": "11111111-2222-4333-8444-555555555555",
         "targets": ["https://quoteviral-api.example.workers.dev"]})
    sys.exit(0)
if mode == "images":
    error_block("binding IMAGES has an unknown type Images [code: 10021]")
    out({"type": "command-failed", "code": 10021, "message": "A request to the Cloudflare API (/accounts/acc/workers/scripts/quoteviral-api) failed."})
    sys.exit(1)
if mode == "leaky":
    error_block(f"Authentication error [code: 10000] (sent Authorization: Bearer {os.environ['CLOUDFLARE_API_TOKEN']})")
    sys.exit(1)
if mode == "unavailable":
    error_block("Service Unavailable [code: 10013]")
    sys.exit(1)
if mode == "exit0-error":
    error_block("Project not found. The specified project name does not match any of your existing projects. [code: 8000007]",
                endpoint="/accounts/acc/pages/projects/qv/deployments")
    sys.exit(0)
sys.exit(2)
