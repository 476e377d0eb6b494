"""`faultbook mcp` spoken to by the SDK's own client over stdio: list, call each tool, read the ledger resource.

The server is a real subprocess (``python -m faultbook mcp``) on a project whose ledger was seeded through the
services, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import anyio
import pytest

from conftest import ROOT

mcp = pytest.importorskip("mcp")
from mcp import Client, StdioServerParameters  # noqa: E402

ERROR = "binding IMAGES has an unknown type Images [code: 10021]"
WRANGLER = """name = "quoteviral-api"
main = "src/index.ts"
compatibility_date = "2025-08-01"

[[r2_buckets]]
binding = "UPLOADS"
"""


def _seed(database, project):
    from faultbook.domain import Failure, Status
    from faultbook.services import ledger

    with database.session(write=True) as session:
        ledger.record_failure(session, project=project, failure=Failure(
            number=None, title="Worker deploy failed on an unknown binding type", occurred_at=None,
            component="Backend", step="Worker deployment", error_message=ERROR,
            root_cause="The IMAGES binding was declared under [[unsafe.bindings]] with a type the API does not know.",
            resolution="Declare it as `[images]` with `binding = \"IMAGES\"`.", status=Status.RESOLVED))
        ledger.record_failure(session, project=project, failure=Failure(
            number=None, title="Pages build ran out of memory", occurred_at=None, component="Frontend",
            error_message="FATAL ERROR: Reached heap limit", status=Status.OPEN))


def _project_dir(tmp_path: Path, db_url: str, project, *, writes: bool) -> Path:
    root = tmp_path / "proj"
    root.mkdir()
    toml = f'project = "{project.key}"\ndatabase_url = "{db_url}"\n'
    if writes:
        toml += "\n[mcp]\nallow_writes = true\n"
    (root / "faultbook.toml").write_text(toml, encoding="utf-8")
    (root / "wrangler.toml").write_text(WRANGLER, encoding="utf-8")
    return root


def _params(root: Path) -> StdioServerParameters:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLOUDFLARE_")}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return StdioServerParameters(command=sys.executable, args=["-m", "faultbook", "mcp"], env=env, cwd=str(root))


def _data(result) -> dict:
    assert not result.is_error, result.content
    if result.structured_content is not None:
        return result.structured_content
    return json.loads(result.content[0].text)


async def _session(root: Path, body):
    async with Client(_params(root), read_timeout_seconds=60) as client:
        return await body(client)


def test_an_agent_finds_the_teams_fix_and_the_ledger(database, project, db_url, tmp_path):
    _seed(database, project)
    root = _project_dir(tmp_path, db_url, project, writes=False)

    async def body(client):
        tools = {t.name for t in (await client.list_tools()).tools}
        fix = _data(await client.call_tool("lookup_fix", {"error_text": f"✘ [ERROR] {ERROR}"}))
        recent = _data(await client.call_tool("recent_failures", {"status": "open"}))
        everything = _data(await client.call_tool("recent_failures", {"limit": 1}))
        one = _data(await client.call_tool("get_failure", {"number": 1}))
        missing = await client.call_tool("get_failure", {"number": 99})
        check = _data(await client.call_tool("check_config", {}))
        resources = [str(r.uri) for r in (await client.list_resources()).resources]
        ledger_md = await client.read_resource("faultbook://ledger.md")
        return tools, fix, recent, everything, one, missing, check, resources, ledger_md

    tools, fix, recent, everything, one, missing, check, resources, ledger_md = anyio.run(_session, root, body)

    # Reads only: record_failure is not offered without [mcp] allow_writes.
    assert tools == {"lookup_fix", "recent_failures", "get_failure", "check_config"}
    best = fix["matches"][0]
    assert (best["source"], best["failure_number"]) == ("ledger", 1)
    assert "[images]" in best["resolution"]
    assert [f["number"] for f in recent["failures"]] == [2]
    assert len(everything["failures"]) == 1
    assert one["number"] == 1 and one["status"] == "resolved" and one["timeline"]
    assert one["suspect_changes"] == []  # recorded by hand: no deployment to compare with
    assert missing.is_error and "#99" in missing.content[0].text
    assert check["files"] and check["files"][0].endswith("wrangler.toml")
    assert isinstance(check["diagnostics"], list) and check["exit_code"] in (0, 1)
    assert "faultbook://ledger.md" in resources
    text = ledger_md.contents[0].text
    assert "Worker deploy failed on an unknown binding type" in text and "Pages build ran out of memory" in text


def test_record_failure_only_where_the_config_allows_writes(database, project, db_url, tmp_path):
    from faultbook.services import ledger

    root = _project_dir(tmp_path, db_url, project, writes=True)

    async def body(client):
        tools = {t.name for t in (await client.list_tools()).tools}
        stored = _data(await client.call_tool("record_failure", {
            "title": "D1 migration failed", "component": "Backend", "error_message": "no such table: quotes",
        }))
        bad = await client.call_tool("record_failure", {"title": "x", "component": "Backend", "status": "maybe"})
        return tools, stored, bad

    tools, stored, bad = anyio.run(_session, root, body)
    assert "record_failure" in tools
    assert stored["number"] == 1 and stored["title"] == "D1 migration failed"
    assert bad.is_error and "unknown status" in bad.content[0].text
    with database.session() as session:
        assert [f.title for f in ledger.list_failures(session, project=project)] == ["D1 migration failed"]
