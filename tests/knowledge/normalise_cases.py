"""Normaliser cases as data: (id, raw message, normalised text), for the current version (v2).

The code is a part of the key of its own, so ``[code: N]`` is dropped from the text; API paths become
``<api>`` because the API family is a part of the key of its own too.
"""

CASES = [
    ("seed-10085-bucket-name",
     "R2 bucket 'quoteviral-uploads' not found. Please use a different name and try again. [code: 10085]",
     "R2 bucket <quoted> not found. Please use a different name and try again"),
    ("seed-10021-binding-name-volatile-type-kept",
     "binding IMAGES has an unknown type Images [code: 10021]",
     "binding <binding> has an unknown type Images"),
    ("account-id-in-api-path",
     "Could not route to /client/v4/accounts/a99ee2e72728dd52902ef288b7b1447d/workers/services/kbf-worker, "
     "perhaps your object identifier is invalid? [code: 7003]",
     "Could not route to <api>, perhaps your object identifier is invalid?"),
    ("uuid-and-quoted",
     "D1 binding 'DB' references database '3276795d-5593-42c0-8e14-947f3ab1172b' which was not found. [code: 10181]",
     "D1 binding <quoted> references database <quoted> which was not found"),
    ("bare-uuid", "version 3276795d-5593-42c0-8e14-947f3ab1172b not found", "version <uuid> not found"),
    ("apostrophe-is-not-a-quote", "Can't set compatibility date in the future: 2099-01-01 [code: 10021]",
     "Can't set compatibility date in the future: <date>"),
    ("iso-timestamp", "failed at 2025-08-20T14:15:00Z", "failed at <date>"),
    ("time-of-day", "failed at 14:15:07 UTC", "failed at <date> UTC"),
    ("sha1", "commit 3f786850e387550fdab836ed7e6dc881de23001b is dirty", "commit <hex> is dirty"),
    ("md5", "etag d41d8cd98f00b204e9800998ecf8427e mismatch", "etag <hex> mismatch"),
    ("0x-hex", "pointer 0xdeadbeef", "pointer <hex>"),
    ("hex-word-without-digit-kept", "deadbeefcafe is fine", "deadbeefcafe is fine"),
    ("ints", "Binding at index 5 must have a name. [code: 10052]", "Binding at index <int> must have a name"),
    ("float", "ratio is 10.5 here", "ratio is <float> here"),
    ("size", "Your Worker exceeded the size limit of 3 MiB. Total upload: 3456.78 KiB / gzip: 812 KiB",
     "Your Worker exceeded the size limit of <size>. Total upload: <size> / gzip: <size>"),
    ("duration", "timed out after 30s (retry in 250 ms)", "timed out after <duration> (retry in <duration>)"),
    ("version", "wrangler 4.86.0 is out of date", "wrangler <version> is out of date"),
    ("url", "see https://developers.cloudflare.com/r2/ for more", "see <url> for more"),
    ("email", "token of ops@quoteviral.app lacks a permission", "token of <email> lacks a permission"),
    ("hostname", "Hostname api.quoteviral.app is taken", "Hostname <hostname> is taken"),
    ("ip", "connect ECONNREFUSED 127.0.0.1:8787", "connect ECONNREFUSED <ip>"),
    ("double-quoted-path", 'The entry-point file at "src/worker.ts" was not found.', "The entry-point file at <quoted> was not found"),
    ("config-field-kept", '- "routes" should be an array of strings', '- "routes" should be an array of strings'),
    ("config-field-path-kept", '"kv_namespaces[0]" bindings should have a string "id" field',
     '"kv_namespaces[0]" bindings should have a string "id" field'),
    ("absolute-path", "ENOENT: no such file or directory, open /home/ci/app/dist/index.js",
     "ENOENT: no such file or directory, open <path>"),
    ("relative-path", "Could not resolve ./src/lib/util.ts", "Could not resolve <path>"),
    ("file-name-kept", "wrangler.toml is invalid", "wrangler.toml is invalid"),
    ("ansi-and-wrapping", "\x1b[31mKV namespace\n   'abc' not found\x1b[0m", "KV namespace <quoted> not found"),
    ("opaque-reference", "internal error; reference = subhugho2re78qb852ji8945 [code: 10002]",
     "internal error; reference = <ref>"),
    ("opaque-token-without-label", "upload session q2x9k4m1p8r7z3w5 expired", "upload session <ref> expired"),
    ("ray-id", "Ray ID: 8f1c2a3b4c5d6e7f", "Ray ID: <ref>"),
    ("code-spellings-dropped", "Code 10000: Authentication error", "Authentication error"),
    ("api-code-spelling", "binding X has an unknown type y [API code: 10021]", "binding <binding> has an unknown type y"),
    ("error-marker-dropped", "✘ [ERROR] fetch failed", "fetch failed"),
    ("error-prefix-dropped", "Error: fetch failed", "fetch failed"),
]

#: Messages that MUST keep different fingerprints: (id, (message, code, component[, endpoint]), (...)).
NON_MERGES = [
    ("codes-differ-in-text", ("failed [code: 10021]", None, "Backend"), ("failed [code: 10085]", None, "Backend")),
    ("codes-differ-given", ("request failed", 10021, "Backend"), ("request failed", 10085, "Backend")),
    ("components-differ", ("request failed", 10021, "Backend"), ("request failed", 10021, "Frontend")),
    ("binding-type-words-differ",
     ("binding IMAGES has an unknown type Images [code: 10021]", None, "Backend"),
     ("binding IMAGES has an unknown type Image [code: 10021]", None, "Backend")),
    ("same-code-different-api-family",
     ("Authentication error [code: 10000]", None, "Backend", "/zones/0123456789abcdef0123456789abcdef/workers/routes"),
     ("Authentication error [code: 10000]", None, "Backend", "/accounts/0123456789abcdef0123456789abcdef/workers/scripts/api")),
    ("config-fields-differ",
     ('Processing wrangler.toml configuration:\n  - "routes" should be an array', None, "Backend"),
     ('Processing wrangler.toml configuration:\n  - "vars" should be an object', None, "Backend")),
]

#: Messages that MUST share a fingerprint.
MERGES = [
    ("bucket-names",
     ("R2 bucket 'quoteviral-uploads' not found. Please use a different name and try again. [code: 10085]", None, "Backend"),
     ("R2 bucket 'quoteviral-templates' not found. Please use a different name and try again. [code: 10085]", 10085, "Backend")),
    ("component-case", ("request failed", 10021, "Backend"), ("request failed", 10021, " backend ")),
    ("whitespace", ("KV namespace 'a' not found.\n  [code: 10041]", None, "Backend"),
     ("KV namespace 'b' not found. [code: 10041]", None, "Backend")),
    ("same-api-family-two-concrete-endpoints",
     ("Authentication error [code: 10000]", None, "Backend", "/accounts/0123456789abcdef0123456789abcdef/workers/scripts/api"),
     ("Authentication error [code: 10000]", None, "Backend", "/client/v4/accounts/fedcba9876543210fedcba9876543210/workers/scripts/web")),
    ("api-path-in-the-message",
     ("Could not route to /client/v4/accounts/a99ee2e72728dd52902ef288b7b1447d/workers/services/kbf-worker, "
      "perhaps your object identifier is invalid? [code: 7003]", None, "Backend"),
     ("Could not route to /client/v4/accounts/0123456789abcdef0123456789abcdef/workers/services/other, "
      "perhaps your object identifier is invalid? [code: 7003]", None, "Backend")),
    ("opaque-references",
     ("internal error; reference = subhugho2re78qb852ji8945 [code: 10002]", None, "Backend"),
     ("internal error; reference = k1m2n3b4v5c6x7z8l9 [code: 10002]", None, "Backend")),
    ("code-spellings", ("Authentication error [code: 10000]", None, "Backend"), ("Code 10000: Authentication error", None, "Backend")),
    ("sizes", ("Script too large: 1.2 MiB [code: 10027]", None, "Backend"), ("Script too large: 987 KiB [code: 10027]", None, "Backend")),
]
