"""Twenty real processes record at once on an empty database: numbers 1..20, each exactly once.

This also exercises the first-use migration racing in twenty processes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from conftest import ROOT


def test_twenty_processes_get_gapless_unique_numbers(fresh_db_url, tmp_path):
    env = {
        **os.environ,
        "FAULTBOOK_DATABASE_URL": fresh_db_url,
        "FAULTBOOK_PROJECT": "race",
        "PYTHONPATH": str(ROOT / "src"),
    }
    barrier = tmp_path / "go"
    # Each child waits for the barrier file, so all twenty hit the database together.
    script = (
        "import os, sys, time\n"
        f"while not os.path.exists({str(barrier)!r}): time.sleep(0.005)\n"
        "from faultbook.cli.app import main\n"
        "sys.exit(main(['record', '--title', 'race ' + sys.argv[1], '--component', 'Backend']))\n"
    )
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", script, str(i)],
            env=env,
            cwd=tmp_path,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(20)
    ]
    barrier.touch()
    results = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0] * 20, [err for _, err in results]

    listing = subprocess.run(
        [sys.executable, "-m", "faultbook", "list", "--json"],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60, check=True,
    )
    failures = json.loads(listing.stdout)
    assert sorted(f["number"] for f in failures) == list(range(1, 21))
    assert sorted(f["title"] for f in failures) == sorted(f"race {i}" for i in range(20))
