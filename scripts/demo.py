"""The QuoteViral walk-through: faultbook on the bundled example, on the embedded SQLite ledger.

Replays August 20, 2025 with the real wrangler against a local emulation of the Cloudflare API
(tests/cfapi, on 127.0.0.1 — nothing leaves the machine): the hand-kept FAILURES.md becomes a
database, preflight finds Failure #1 before deploying, the same deploy fails again and faultbook
recognises it with the known fix, the fix is applied, Failure #2 is caught the same way, and the
third deploy succeeds. Finally the ledger is exported back to Markdown.

Run through scripts/demo.sh (which sets up .venv and wrangler first).
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / ".demo"
PROJECT = DEMO / "quoteviral"
WRANGLER = ROOT / "examples" / "quoteviral" / "node_modules" / ".bin" / "wrangler"
FAULTBOOK = [sys.executable, "-m", "faultbook"]
#: Set by scripts/package-check.sh: run the faultbook installed from the wheel, not the checkout's src/.
FROM_INSTALL = os.environ.get("FAULTBOOK_DEMO_FROM_INSTALL") == "1"
SOURCE_PATH = {} if FROM_INSTALL else {"PYTHONPATH": str(ROOT / "src")}
BOLD, DIM, RESET = ("\033[1m", "\033[2m", "\033[0m") if sys.stderr.isatty() else ("", "", "")


def chapter(title: str) -> None:
    print(f"\n{BOLD}== {title}{RESET}", file=sys.stderr, flush=True)


def sh(*argv: str, env: dict[str, str] | None = None, expect: tuple[int, ...] = (0,)) -> int:
    shown = " ".join(shlex.quote(a) for a in argv).replace(str(WRANGLER), "wrangler")
    print(f"{BOLD}$ {shown}{RESET}", file=sys.stderr, flush=True)
    command = [*FAULTBOOK, *argv[1:]] if argv[0] == "faultbook" else list(argv)
    code = subprocess.run(command, cwd=PROJECT, env=env).returncode
    if code not in expect:
        raise SystemExit(f"demo: `{shown}` exited {code}, expected {expect}")
    return code


def main() -> None:
    shutil.rmtree(DEMO, ignore_errors=True)
    shutil.copytree(ROOT / "examples" / "quoteviral", PROJECT, ignore=shutil.ignore_patterns("node_modules", ".faultbook"))
    base_env = {k: v for k, v in os.environ.items() if not k.startswith(("FAULTBOOK_", "CLOUDFLARE_"))}
    base_env.pop("PYTHONPATH", None)
    base_env.update(SOURCE_PATH)
    if FROM_INSTALL:
        import faultbook

        assert ROOT not in Path(faultbook.__file__).resolve().parents, f"faultbook came from {faultbook.__file__}"
        print(f"{DIM}(faultbook {faultbook.__version__} installed at {Path(faultbook.__file__).parent}){RESET}",
              file=sys.stderr)

    chapter("1. The hand-kept failure log becomes a database (.faultbook/faultbook.db)")
    sh("faultbook", "import", "FAILURES.md", env=base_env)
    sh("faultbook", "list", env=base_env)

    chapter("2. Preflight, before deploying: the config still has the binding of Failure #1")
    sh("faultbook", "check", "--offline", env=base_env, expect=(1,))
    sh("faultbook", "explain", "binding IMAGES has an unknown type Images [code: 10021]", env=base_env)

    if not WRANGLER.exists() or shutil.which("node") is None:
        print("demo: wrangler is not installed (needs Node 20 + npm); skipping the deploys", file=sys.stderr)
        return export(base_env)

    sys.path.insert(0, str(ROOT / "tests"))
    from cfapi import Emulator

    with Emulator() as api:
        env = {**base_env, **api.env(home=str(DEMO / "home"))}
        env.pop("PYTHONPATH", None)
        env.update(SOURCE_PATH)
        deploy = [str(WRANGLER), "deploy", "--no-x-provision"]

        chapter("3. Deploy as on August 20 (Cloudflare API emulated on 127.0.0.1): the old failure comes back")
        sh("faultbook", "run", "--", *deploy, env=env, expect=(1,))

        chapter("4. Apply preflight's fix, deploy again: the buckets are missing (Failure #2)")
        sh("faultbook", "check", "--offline", "--fix", "--select", "FB101", env=base_env, expect=(0,))
        sh("faultbook", "run", "--", *deploy, env=env, expect=(1,))

        chapter("5. Online preflight names each missing bucket; create them as the fix says")
        sh("faultbook", "check", "--select", "FB4", env=env, expect=(1,))
        for bucket in ("quoteviral-uploads", "quoteviral-generated", "quoteviral-templates"):
            sh("faultbook", "run", "--", str(WRANGLER), "r2", "bucket", "create", bucket, env=env)

        chapter("6. The deploy succeeds; both failures are resolved again")
        sh("faultbook", "run", "--", *deploy, env=env)
        sh("faultbook", "deployments", env=env)
        sh("faultbook", "update", "1", "--status", "resolved", env=base_env)
        sh("faultbook", "update", "2", "--status", "resolved", env=base_env)
        sh("faultbook", "show", "1", env=base_env)

        chapter("7. The support bundle for Failure #2, secrets scrubbed (ready to attach to a ticket)")
        sh("faultbook", "bundle", "2", "-o", "support-failure-2.zip", env=env)
        import zipfile

        with zipfile.ZipFile(PROJECT / "support-failure-2.zip") as bundle:
            for info in bundle.infolist():
                print(f"  {info.file_size:>8}  {info.filename}", file=sys.stderr)
    export(base_env)


def export(env: dict[str, str]) -> None:
    chapter("8. Export the ledger back to the team's Markdown log")
    sh("faultbook", "export", "-o", "FAILURES.exported.md", env=env)
    original = (ROOT / "examples" / "quoteviral" / "FAILURES.md").read_bytes()
    exported = (PROJECT / "FAILURES.exported.md").read_bytes()
    same = original == exported  # byte for byte, trailing spaces included
    verdict = "identical to the hand-kept original" if same else "the original plus what happened since (diff below)"
    print(f"{DIM}exported {PROJECT / 'FAILURES.exported.md'}: {verdict}{RESET}", file=sys.stderr)
    if not same:
        subprocess.run(["diff", "-u", str(ROOT / "examples" / "quoteviral" / "FAILURES.md"), "FAILURES.exported.md"],
                       cwd=PROJECT)
    print(f"\n{BOLD}Next:{RESET} cd {PROJECT} && {ROOT}/.venv/bin/faultbook serve   # the dashboard", file=sys.stderr)


if __name__ == "__main__":
    main()
