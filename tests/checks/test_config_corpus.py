"""faultbook check against wrangler's own verdict on real configs (tests/checks/corpus, see its README).

For every case and every environment wrangler was run on:
- wrangler accepted it -> faultbook reports no error there, unless the case's ``justified`` list names
  the rule and says why it is a real problem wrangler cannot see offline (a placeholder id, ...);
- wrangler refused it -> faultbook reports at least one error there;
- wrangler could not parse it -> faultbook exits 2; faultbook exits 2 nowhere else;
- never a crash, never exit 70.
A Pages config is judged by Pages' validation (what ``wrangler pages deploy`` runs), not by
``wrangler deploy``, which is not how a Pages project deploys.
"""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
from pathlib import Path

import pytest

from faultbook.cli.check_cmd import check_command

CORPUS = Path(__file__).parent / "corpus"
CASES = sorted(p for p in (CORPUS / "cases").iterdir() if (p / "case.json").is_file())
#: Made-up files at the parsing edges (empty, BOM, JSON5-isms, ...), judged by wrangler the same way.
EDGE = sorted(p for p in (CORPUS / "edge").iterdir() if (p / "case.json").is_file())

_spec = importlib.util.spec_from_file_location("corpus_regen", CORPUS / "regen.py")
regen = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(regen)


def materialise(case: Path, folder: Path) -> Path:
    """The config alone in ``folder`` plus the same stubs the verdicts were obtained with."""
    meta = json.loads((case / "case.json").read_text())
    source = case / meta.get("config", regen.config_file(case).name)
    shutil.copyfile(source, folder / source.name)
    data = regen.read_data(source)
    if data:
        regen.make_stubs(folder, data)
    return folder


def expectations(meta: dict) -> list[tuple[str | None, str]]:
    wrangler = meta.get("wrangler") or {}
    if wrangler.get("pages"):
        return [(None, wrangler["pages"]["verdict"])]
    return [(env or None, run["verdict"]) for env, run in (wrangler.get("deploy") or {}).items()]


def run_faultbook(folder: Path, env: str | None) -> tuple[int, list[dict], str]:
    out, err, code = check_command(str(folder), env=env, offline=True, output_format="json")
    findings = json.loads(out)["diagnostics"] if out.strip() else []
    return code, findings, err


@pytest.mark.parametrize("case", CASES + EDGE, ids=[c.name for c in CASES] + [f"edge-{c.name}" for c in EDGE])
def test_case_agrees_with_wrangler(case: Path, tmp_path: Path) -> None:
    meta = json.loads((case / "case.json").read_text())
    folder = materialise(case, tmp_path)
    justified = meta.get("justified", [])
    checked = 0
    for env, verdict in expectations(meta):
        if verdict == "failed":
            continue
        checked += 1
        code, findings, err = run_faultbook(folder, env)
        assert code != 70, err
        if verdict == "unparsable":
            assert code == 2, f"wrangler could not parse it; faultbook: {code} {err}"
            continue
        assert code != 2, f"wrangler parsed it; faultbook refused to: {err}"
        # Without -e faultbook checks every environment; wrangler's verdict was about the top level.
        scope = findings if env is not None else [f for f in findings if f["env"] is None]
        errors = [f for f in scope if f["severity"] == "error"]
        if verdict == "accepted":
            unjustified = [
                f for f in errors
                if not any(j["rule"] == f["rule"] and j.get("env") in (None, env, f["env"]) for j in justified)
            ]
            assert unjustified == [], f"{env or 'top level'}: wrangler accepts this config"
        else:
            assert errors, f"{env or 'top level'}: wrangler refuses this config: {meta['wrangler']}"
    assert checked or expectations(meta), "no verdict recorded: run tests/checks/corpus/regen.py"


def test_corpus_is_big_and_varied() -> None:
    metas = [json.loads((c / "case.json").read_text()) for c in CASES]
    suffixes = {m.get("config", "").rsplit(".", 1)[-1] for m in metas}
    assert len(CASES) >= 85 and {"toml", "json", "jsonc"} <= suffixes
    assert all(m["source"]["repo"] and len(m["source"]["commit"]) == 40 for m in metas)
    assert any(run["verdict"] == "unparsable" for c in EDGE
               for run in json.loads((c / "case.json").read_text())["wrangler"]["deploy"].values())
    assert sum(1 for m in metas if (m.get("wrangler") or {}).get("pages")) >= 4
    assert sum(1 for m in metas if len((m.get("wrangler") or {}).get("deploy") or {}) > 1) >= 8


def _quoted(text: str) -> set[str]:
    return set(re.findall(r'"([^"]+)"', text))


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_unknown_keys_are_exactly_those_wrangler_warns_about(case: Path, tmp_path: Path) -> None:
    """FB301's "Unexpected field" findings name the keys wrangler's own warnings name, no more, no less."""
    meta = json.loads((case / "case.json").read_text())
    out, _, _ = check_command(str(materialise(case, tmp_path)), offline=True, output_format="json", select=["FB301"])
    ours = {
        re.search(r'"([^"]+)"', f["summary"]).group(1)
        for f in json.loads(out)["diagnostics"] if f["summary"].startswith("Unexpected field")
    }
    said = " ".join(text for run in meta["wrangler"]["deploy"].values() for text in run["warnings"] + run["errors"])
    theirs = set().union(*(_quoted(m) for m in re.findall(r"Unexpected fields found in [^:]+: ([^\n]+)", said)))
    assert ours == theirs
