"""Start-up stays light: the CLI's entry module and --help load no heavy library."""

import os
import subprocess
import sys

from conftest import ROOT

HEAVY = ("sqlalchemy", "alembic", "cloudflare", "fastapi", "starlette", "uvicorn", "httpx", "jinja2", "psycopg",
         "dns", "rich", "tomlkit", "json5")


def test_help_imports_no_heavy_module():
    code = (
        "import sys, runpy\n"
        "sys.argv = ['faultbook', '--help']\n"
        "try:\n"
        "    runpy.run_module('faultbook', run_name='__main__')\n"
        "except SystemExit:\n"
        "    pass\n"
        f"heavy = sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r}))\n"
        "print('HEAVY=' + ','.join(heavy), file=sys.stderr)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert "Usage: faultbook" in proc.stdout
    assert "HEAVY=\n" in proc.stderr + "\n", proc.stderr
