"""Error-extraction cases as data: (name, stderr, stdout, exit code) -> expected message, code, endpoint.

The wrangler texts follow the shapes wrangler really prints (esbuild's
formatMessages output, as recorded in workers-sdk's own test snapshots,
``packages/wrangler/src/__tests__/deploy/build.test.ts``), with the colour
codes a terminal gets.
"""

RED_ERROR = "\x1b[31m✘ \x1b[41;31m[\x1b[41;97mERROR\x1b[41;31m]\x1b[0m \x1b[1m"
END = "\x1b[0m"
BUG = (
    "  If you think this is a bug, please open an issue at:\n"
    "  \x1b[4mhttps://github.com/cloudflare/workers-sdk/issues/new/choose\x1b[0m\n"
)

CASES = [
    dict(
        name="seed-1-images-binding",
        stderr=(
            f"{RED_ERROR}A request to the Cloudflare API (/accounts/0123abcd/workers/scripts/quoteviral-api) failed.{END}\n\n"
            "  binding IMAGES has an unknown type Images [code: 10021]\n\n" + BUG + "\n"
        ),
        exit_code=1,
        message="binding IMAGES has an unknown type Images [code: 10021]",
        title="binding IMAGES has an unknown type Images",
        code=10021,
        endpoint="/accounts/0123abcd/workers/scripts/quoteviral-api",
    ),
    dict(
        name="seed-2-r2-bucket-wrapped-at-80-columns",
        stderr=(
            f"{RED_ERROR}A request to the Cloudflare API (/accounts/0123abcd/workers/scripts/quoteviral-api) failed.{END}\n\n"
            "  R2 bucket 'quoteviral-uploads' not found. Please use a different name and try\n"
            "  again. [code: 10085]\n\n" + BUG + "\n"
        ),
        exit_code=1,
        message="R2 bucket 'quoteviral-uploads' not found. Please use a different name and try again. [code: 10085]",
        title="R2 bucket 'quoteviral-uploads' not found",
        code=10085,
        endpoint="/accounts/0123abcd/workers/scripts/quoteviral-api",
    ),
    dict(
        name="startup-timeout-wrapped-note",
        stderr=(
            "X [ERROR] A request to the Cloudflare API (/accounts/some-account-id/workers/scripts/test-name/versions) failed.\n\n"
            "  Worker Startup Timed out. This could be due to script exceeding size limits or expensive code in\n"
            "  the global scope. [code: 11337]\n\n" + BUG
        ),
        exit_code=1,
        message=(
            "Worker Startup Timed out. This could be due to script exceeding size limits or expensive code in "
            "the global scope. [code: 11337]"
        ),
        title="Worker Startup Timed out",
        code=11337,
        endpoint="/accounts/some-account-id/workers/scripts/test-name/versions",
    ),
    dict(
        name="size-limit-with-dash-item-and-wrapped-api-line",
        stderr=(
            "X [ERROR] Your Worker failed validation because it exceeded size limits.\n\n\n"
            "  A request to the Cloudflare API (/accounts/some-account-id/workers/scripts/test-name/versions)\n"
            "  failed.\n"
            "   - workers.api.error.script_too_large [code: 10027]\n"
            "  Here are the 4 largest dependencies included in your script:\n\n"
            "  - index.js - xx KiB\n\n"
            "  If these are unnecessary, consider removing them\n\n\n"
            "X [ERROR] A request to the Cloudflare API (/accounts/some-account-id/workers/scripts/test-name/versions) failed.\n\n"
            "  workers.api.error.script_too_large [code: 10027]\n\n" + BUG
        ),
        exit_code=1,
        message="workers.api.error.script_too_large [code: 10027]",
        title="workers.api.error.script_too_large",
        code=10027,
        endpoint="/accounts/some-account-id/workers/scripts/test-name/versions",
    ),
    dict(
        name="chained-api-errors",
        stderr=(
            "✘ [ERROR] A request to the Cloudflare API (/user) failed.\n\n"
            "  Invalid request headers [code: 6003]\n"
            "  - Invalid format for Authorization header [code: 6111]\n\n" + BUG
        ),
        exit_code=1,
        message="Invalid request headers [code: 6003]\nInvalid format for Authorization header [code: 6111]",
        title="Invalid request headers",
        code=6003,
        endpoint="/user",
    ),
    dict(
        name="documentation-link-is-not-part-of-the-message",
        stderr=(
            "✘ [ERROR] A request to the Cloudflare API (/accounts/abc/workers/scripts/w) failed.\n\n"
            "  Authentication error [code: 10000]\n"
            "  To learn more about this error, visit: https://developers.cloudflare.com/api/\n\n" + BUG
        ),
        exit_code=1,
        message="Authentication error [code: 10000]",
        title="Authentication error",
        code=10000,
        endpoint="/accounts/abc/workers/scripts/w",
    ),
    dict(
        name="no-code-header-is-the-error",
        stderr='✘ [ERROR] The entry-point file at "src/worker.ts" was not found.\n\n\n🪵  Logs were written to "/home/u/.wrangler/logs/wrangler.log"\n',
        exit_code=1,
        message='The entry-point file at "src/worker.ts" was not found.',
        title='The entry-point file at "src/worker.ts" was not found',
        code=None,
        endpoint=None,
    ),
    dict(
        name="pty-output-with-crlf",
        stderr=(
            "✘ [ERROR] A request to the Cloudflare API (/accounts/a/r2/buckets/quoteviral-uploads) failed.\r\n\r\n"
            "  The specified bucket does not exist. [code: 10006]\r\n\r\n"
        ),
        exit_code=1,
        message="The specified bucket does not exist. [code: 10006]",
        title="The specified bucket does not exist",
        code=10006,
        endpoint="/accounts/a/r2/buckets/quoteviral-uploads",
    ),
    dict(
        name="old-wrangler-code-in-parentheses",
        stderr="✘ [ERROR] Failed to publish your Function. Got error: binding IMAGES has an unknown type Images (Code: 10021)\n",
        exit_code=1,
        message="Failed to publish your Function. Got error: binding IMAGES has an unknown type Images (Code: 10021)",
        title="Failed to publish your Function",
        code=10021,
        endpoint=None,
    ),
    dict(
        name="pages-deploy-exit-0-with-error-block",
        stdout="Uploading... (3/3)\n✨ Success! Uploaded 3 files\n",
        stderr=(
            "✘ [ERROR] A request to the Cloudflare API (/accounts/a/pages/projects/quoteviral/deployments) failed.\n\n"
            "  Project not found. The specified project name does not match any of your existing projects. [code: 8000007]\n\n"
        ),
        exit_code=0,
        message="Project not found. The specified project name does not match any of your existing projects. [code: 8000007]",
        title="Project not found",
        code=8000007,
        endpoint="/accounts/a/pages/projects/quoteviral/deployments",
    ),
    dict(
        name="python-traceback-last-line",
        stderr='Traceback (most recent call last):\n  File "deploy.py", line 3, in <module>\n    upload()\nConnectionError: [Errno 111] Connection refused\n',
        exit_code=1,
        message="ConnectionError: [Errno 111] Connection refused",
        title="ConnectionError: [Errno 111] Connection refused",
        code=None,
        endpoint=None,
    ),
    dict(
        name="npm-error-lines",
        stderr="npm ERR! code ELIFECYCLE\nnpm ERR! errno 1\nnpm ERR! quoteviral@1.0.0 deploy: `wrangler deploy`\nsome other line\n",
        exit_code=1,
        message="npm ERR! code ELIFECYCLE\nnpm ERR! errno 1\nnpm ERR! quoteviral@1.0.0 deploy: `wrangler deploy`",
        title="npm ERR! code ELIFECYCLE",
        code=None,
        endpoint=None,
    ),
    dict(
        name="no-error-words-takes-the-stderr-tail",
        stderr="one\ntwo\nthree\n",
        exit_code=2,
        message="one\ntwo\nthree",
        title="three",
        code=None,
        endpoint=None,
    ),
    dict(
        name="nothing-printed",
        stderr="",
        exit_code=5,
        message="command exited with code 5",
        title="command exited with code 5",
        code=None,
        endpoint=None,
    ),
    dict(
        name="clean-success-is-no-error",
        stdout="Uploaded quoteviral-api (1.2 sec)\nDeployed quoteviral-api triggers\n",
        stderr="▲ [WARNING] Processing wrangler.toml configuration:\n\n    - Some warning\n",
        exit_code=0,
        message=None,
    ),
]
