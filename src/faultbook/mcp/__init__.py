"""faultbook as an MCP server (``faultbook mcp``): the ledger for coding agents."""
