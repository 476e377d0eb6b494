"""Re-run the pinned wrangler on every corpus case and rewrite the ``wrangler`` part of each case.json.

Usage (from the repository root; needs scripts/install-wrangler.sh done, no network):

    python tests/checks/corpus/regen.py [--only SLUG ...] [--wrangler PATH]

For each case the config is copied, alone, into a fresh temporary folder.  What the config points
at but the corpus does not keep (the ``main`` entry point of the top level and of every
environment, ``assets.directory``, ``site.bucket``, ``pages_build_output_dir``, ``tsconfig``,
module/blob files) is created there as a minimal stub: an entry point that exports a default
handler plus every Durable Object / Workflow / container class the config names.  Custom build
commands run against stub ``npm``/``npx``/``pnpm``/``yarn``/``bun``/``cargo``/``worker-build``
that do nothing, so wrangler's verdict is about the config, not about a build that cannot run here.

Then ``wrangler deploy --dry-run --outdir <tmp>`` runs once for the top level and once per
environment (``-e NAME``).  A Pages config (``pages_build_output_dir``) is also put through
Pages' own validation, the one ``wrangler pages deploy`` runs (``readPagesConfig``), reached
offline through ``wrangler pages functions build --project-directory . --build-metadata-path``.

Each run is recorded as ``accepted`` (exit 0), ``refused`` (wrangler said ERROR about the config),
``unparsable`` (wrangler could not parse the file) or ``failed`` (it stopped for another reason,
e.g. a bundling problem of the stub; kept for inspection, counted as neither).  The ``justified``
list of a case (a real problem wrangler cannot see offline) is written by hand and kept.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
CASES = HERE / "cases"
WRANGLER = ROOT / "examples" / "quoteviral" / "node_modules" / ".bin" / "wrangler"
CONFIG_NAMES = ("wrangler.json", "wrangler.jsonc", "wrangler.toml")
ANSI = re.compile(r"\x1b\[[0-9;]*m")
STUB_TOOLS = ("npm", "npx", "pnpm", "yarn", "bun", "cargo", "worker-build", "make", "go", "pip", "uv", "docker")


def config_file(case: Path) -> Path:
    for name in CONFIG_NAMES:
        if (case / name).is_file():
            return case / name
    raise SystemExit(f"{case}: no wrangler config")


def _strip_jsonc(text: str) -> str:
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append(text[i:j + 1])
            i = j + 1
        elif text.startswith("//", i):
            while i < n and text[i] != "\n":
                i += 1
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = n if end < 0 else end + 2
        else:
            out.append(c)
            i += 1
    return re.sub(r",(\s*[}\]])", r"\1", "".join(out))


def read_data(file: Path) -> dict[str, Any] | None:
    """Best effort, only to know which stubs to create and which envs exist."""
    text = file.read_bytes().decode("utf-8", "replace").lstrip("\ufeff")
    try:
        data = tomllib.loads(text) if file.suffix == ".toml" else json.loads(_strip_jsonc(text))
    except Exception:
        return None
    return data if isinstance(data, dict) else None


def _scopes(data: dict[str, Any]) -> list[dict[str, Any]]:
    envs = data.get("env") if isinstance(data.get("env"), dict) else {}
    return [data] + [v for v in envs.values() if isinstance(v, dict)]


def _classes(data: dict[str, Any]) -> set[str]:
    names: set[str] = set()
    for scope in _scopes(data):
        do = scope.get("durable_objects")
        for b in (do.get("bindings") or []) if isinstance(do, dict) else []:
            if isinstance(b, dict) and isinstance(b.get("class_name"), str) and not b.get("script_name"):
                names.add(b["class_name"])
        for key in ("workflows", "containers"):
            for b in scope.get(key) or []:
                if isinstance(b, dict) and isinstance(b.get("class_name"), str) and not b.get("script_name"):
                    names.add(b["class_name"])
        for m in scope.get("migrations") or []:
            if not isinstance(m, dict):
                continue
            for key in ("new_classes", "new_sqlite_classes"):
                names.update(c for c in m.get(key) or [] if isinstance(c, str))
            for r in m.get("renamed_classes") or []:
                if isinstance(r, dict) and isinstance(r.get("to"), str):
                    names.add(r["to"])
    return {n for n in names if re.fullmatch(r"[A-Za-z_$][\w$]*", n)}


def _stub_entry(path: Path, classes: set[str], workflows: set[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        return
    if path.suffix == ".py":
        body = "from workers import WorkerEntrypoint, Response\n\nclass Default(WorkerEntrypoint):\n" \
               "    async def fetch(self, request):\n        return Response('ok')\n"
        body += "".join(f"\nclass {c}:\n    pass\n" for c in sorted(classes))
    elif path.suffix in (".js", ".mjs", ".ts", ".mts", ".jsx", ".tsx", ".cjs", ""):
        body = "export default { async fetch() { return new Response('ok'); }, async scheduled() {}, async queue() {} };\n"
        if workflows:
            body = 'import { WorkflowEntrypoint } from "cloudflare:workers";\n' + body
        for c in sorted(classes):
            base = " extends WorkflowEntrypoint" if c in workflows else ""
            body += f"export class {c}{base} {{ constructor(state, env) {{ {'super(state, env);' if base else ''} }} async fetch() {{ return new Response('ok'); }} }}\n"
    else:
        body = ""
    path.write_text(body)


def make_stubs(folder: Path, data: dict[str, Any]) -> None:
    classes = _classes(data)
    workflows = {b["class_name"] for s in _scopes(data) for b in (s.get("workflows") or [])
                 if isinstance(b, dict) and isinstance(b.get("class_name"), str)}
    base = folder
    for scope in _scopes(data):
        main = scope.get("main")
        if isinstance(main, str) and main and not main.startswith("/"):
            _stub_entry(base / main, classes, workflows)
        assets = scope.get("assets")
        if isinstance(assets, dict) and isinstance(assets.get("directory"), str):
            d = base / assets["directory"]
            d.mkdir(parents=True, exist_ok=True)
            (d / "index.html").write_text("<p>ok</p>\n")
            # A framework build that writes its server into the assets folder also writes this file.
            (d / ".assetsignore").write_text("_worker.js\n")
        site = scope.get("site")
        if isinstance(site, dict) and not isinstance(main, str) and not isinstance(data.get("main"), str):
            # wrangler's default entry point for a legacy Workers Site.
            entry = site.get("entry-point") if isinstance(site.get("entry-point"), str) else "workers-site"
            _stub_entry(base / entry / "index.js", classes, workflows)
        if isinstance(site, dict) and isinstance(site.get("bucket"), str):
            d = base / site["bucket"]
            d.mkdir(parents=True, exist_ok=True)
            (d / "index.html").write_text("<p>ok</p>\n")
        for container in scope.get("containers") or []:
            image = container.get("image") if isinstance(container, dict) else None
            if isinstance(image, str) and (image.startswith(".") or "Dockerfile" in image) and ":" not in image:
                p = base / image
                p.parent.mkdir(parents=True, exist_ok=True)
                p.write_text("FROM scratch\n")
        if isinstance(scope.get("tsconfig"), str):
            p = base / scope["tsconfig"]
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text("{}\n")
        for key in ("wasm_modules", "text_blobs", "data_blobs"):
            table = scope.get(key)
            for value in (table.values() if isinstance(table, dict) else []):
                if isinstance(value, str):
                    p = base / value
                    p.parent.mkdir(parents=True, exist_ok=True)
                    p.write_bytes(b"\0asm\1\0\0\0" if key == "wasm_modules" else b"ok")
    out = data.get("pages_build_output_dir")
    if isinstance(out, str):
        d = base / out
        d.mkdir(parents=True, exist_ok=True)
        (d / "index.html").write_text("<p>ok</p>\n")


def build_tools(data: dict[str, Any]) -> set[str]:
    """The programs a custom build command would start (stubbed: there is nothing to build here)."""
    tools: set[str] = set()
    for scope in _scopes(data):
        build = scope.get("build")
        command = build.get("command") if isinstance(build, dict) else None
        if isinstance(command, str):
            for part in re.split(r"&&|\|\||;|\|", command):
                words = [w for w in part.split() if "=" not in w]
                if words and re.fullmatch(r"[\w.+-]+", words[0]) and words[0] not in ("cd", "node", "sh", "bash", "echo"):
                    tools.add(words[0])
    return tools


def _messages(text: str, marker: str) -> list[str]:
    """The blocks wrangler printed under ``[ERROR]`` / ``[WARNING]``, one string each."""
    blocks, current = [], None
    for line in text.splitlines():
        if re.match(r"^\S*\s*\[(ERROR|WARNING|INFO)\]", line):
            if current is not None:
                blocks.append("\n".join(current).strip())
            current = [line.split("]", 1)[1].strip()] if f"[{marker}]" in line else None
        elif current is not None:
            if line.startswith("🪵") or line.startswith("Total Upload") or line.startswith("--dry-run"):
                blocks.append("\n".join(current).strip())
                current = None
            else:
                current.append(line)
    if current is not None:
        blocks.append("\n".join(current).strip())
    return [re.sub(r"\n{2,}", "\n", b) for b in blocks if b]


_PARSE = re.compile(r"ParseError|Parse error|Invalid TOML document|InvalidCharacter|UnexpectedEndOfComment|"
                    r"UnexpectedEndOfNumber|InvalidUnicode|InvalidEscapeCharacter|InvalidNumberFormat|"
                    r"Unexpected character|InvalidSymbol|ValueExpected|"
                    r"CloseBraceExpected|CommaExpected|PropertyNameExpected|ColonExpected|"
                    r"EndOfFileExpected|UnexpectedEndOfString|InvalidCommentToken")


def classify(rc: int, out: str) -> tuple[str, list[str], list[str]]:
    errors, warnings = _messages(out, "ERROR"), _messages(out, "WARNING")
    if rc == 0:
        return "accepted", errors, warnings
    if not errors:
        return "failed", errors, warnings
    joined = "\n".join(errors)
    if _PARSE.search(joined):
        return "unparsable", errors, warnings
    if re.search(r"configuration|field|binding|entry-point|Missing entry|compatibility|"
                 r"name|environment|migrations|does not exist|should|must|not supported|"
                 r"unexpected|invalid|Durable Object", joined, re.I):
        return "refused", errors, warnings
    return "failed", errors, warnings


_TMP_PATH = re.compile(r"/[^\s\"'`]*?/fbcorpus-[^/\s\"'`]+")
_WRANGLER_PATH = re.compile(r"/[^\s\"'`()]*?/node_modules/wrangler/")


def normalise(text: str) -> str:
    """Machine-specific paths out of wrangler's messages, so a re-run changes only real verdicts."""
    return _WRANGLER_PATH.sub("<wrangler>/", _TMP_PATH.sub("<tmp>", text))


def _run(cmd: list[str], folder: Path, env: dict[str, str]) -> tuple[int, str, float]:
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=folder, env=env, stdin=subprocess.DEVNULL, capture_output=True,
                          text=True, timeout=180)
    elapsed = time.perf_counter() - start
    return proc.returncode, normalise(ANSI.sub("", proc.stdout + proc.stderr)), elapsed


def verdicts(case: Path, wrangler: Path) -> dict[str, Any]:
    file = config_file(case)
    data = read_data(file) or {}
    envs = [k for k, v in (data.get("env") or {}).items() if isinstance(v, dict)] if isinstance(data.get("env"), dict) else []
    result: dict[str, Any] = {"version": None, "deploy": {}, "pages": None}
    with tempfile.TemporaryDirectory(prefix="fbcorpus-") as tmp:
        tmpdir = Path(tmp)
        work = tmpdir / "project"
        work.mkdir()
        shutil.copyfile(file, work / file.name)
        make_stubs(work, data)
        bindir = tmpdir / "bin"
        bindir.mkdir()
        for tool in set(STUB_TOOLS) | build_tools(data):
            (bindir / tool).write_text("#!/bin/sh\nexit 0\n")
            (bindir / tool).chmod(0o755)
        node_dir = str(Path(shutil.which("node") or "/usr/bin/node").parent)
        env = {
            "PATH": f"{bindir}:{node_dir}:/usr/bin:/bin", "HOME": str(tmpdir), "XDG_CONFIG_HOME": str(tmpdir),
            "WRANGLER_SEND_METRICS": "false", "WRANGLER_SEND_ERROR_REPORTS": "false", "NO_UPDATE_NOTIFIER": "1",
            "WRANGLER_DOCKER_BIN": str(bindir / "docker"), "CI": "true", "NO_COLOR": "1", "FORCE_COLOR": "0", "CLOUDFLARE_API_BASE_URL": "http://127.0.0.1:9/client/v4",
        }
        for env_name in [None, *envs]:
            cmd = [str(wrangler), "deploy", "--dry-run", "--outdir", str(tmpdir / "out")]
            if env_name:
                cmd += ["-e", env_name]
            rc, out, elapsed = _run(cmd, work, env)
            m = re.search(r"wrangler (\d+\.\d+\.\d+)", out)
            result["version"] = result["version"] or (m.group(1) if m else None)
            verdict, errors, warnings = classify(rc, out)
            result["deploy"][env_name or ""] = {
                "verdict": verdict, "exit": rc, "errors": errors, "warnings": warnings,
                "seconds": round(elapsed, 2),
            }
        if isinstance(data.get("pages_build_output_dir"), str):
            (work / "functions").mkdir(exist_ok=True)
            (work / "functions" / "_stub.js").write_text("export const onRequest = () => new Response('ok');\n")
            cmd = [str(wrangler), "pages", "functions", "build", "functions", "--project-directory", ".",
                   "--build-metadata-path", str(tmpdir / "meta.json"), "--outdir", str(tmpdir / "pout")]
            rc, out, _ = _run(cmd, work, env)
            pages_errors = _messages(out, "ERROR")
            config_errors = [e for e in pages_errors if "configuration" in e or "Pages" in e]
            result["pages"] = {
                "verdict": "accepted" if rc == 0 or not config_errors else
                ("unparsable" if _PARSE.search("\n".join(config_errors)) else "refused"),
                "exit": rc, "errors": config_errors,
            }
    return result


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", nargs="*", default=[])
    parser.add_argument("--dir", type=Path, default=CASES, help="cases/ (real configs) or edge/ (made-up edge cases)")
    parser.add_argument("--wrangler", type=Path, default=WRANGLER)
    args = parser.parse_args()
    if not args.wrangler.exists():
        print(f"wrangler not installed at {args.wrangler}: run scripts/install-wrangler.sh", file=sys.stderr)
        return 2
    cases = sorted(p for p in args.dir.iterdir() if p.is_dir() and (not args.only or p.name in args.only))
    for case in cases:
        meta_file = case / "case.json"
        meta = json.loads(meta_file.read_text()) if meta_file.exists() else {}
        meta["config"] = config_file(case).name
        meta["wrangler"] = verdicts(case, args.wrangler)
        meta.setdefault("justified", [])
        meta_file.write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n")
        summary = {k or "(top)": v["verdict"] for k, v in meta["wrangler"]["deploy"].items()}
        pages = meta["wrangler"]["pages"]
        print(case.name, summary, f"pages={pages['verdict']}" if pages else "", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
