"""``faultbook mcp``: serve the project's ledger to coding agents over MCP (stdio).

Thin: the server lives in ``faultbook.mcp.server``; this only finds the
project's settings and hands stdin/stdout over to the SDK.
"""

from __future__ import annotations

from typing import Any


def register(app: Any, state: Any) -> None:
    @app.command("mcp")
    def mcp_() -> None:
        """Run an MCP server on stdin/stdout (for Claude Desktop, Cursor and other MCP clients)."""
        from faultbook.mcp.server import run_stdio

        run_stdio(state.settings())
