"""A local emulation of the Cloudflare v4 API for end-to-end tests (see README.md).

    from cfapi import Emulator, CloudflareState
    with Emulator() as api:
        api.state.create_r2_bucket("quoteviral-uploads")
        subprocess.run([wrangler, "deploy"], env={**os.environ, **api.env(home=tmp)})
        assert api.calls("PUT", "/workers/scripts/")
"""

from .app import ApiError, Emulator, Reply, RequestRecord, route
from .state import ALL_SCOPES, CloudflareState

__all__ = ["ALL_SCOPES", "ApiError", "CloudflareState", "Emulator", "Reply", "RequestRecord", "route"]
