"""Recognition fidelity on a corpus of real deploy outputs: right explanation, grouping, no false merges.

Run: ``python benchmarks/match_fidelity.py [CORPUS_DIR]`` (default ``tests/corpus/errors``).
Callable from another benchmark (``bench_fidelity.py`` reads the same corpus)::

    sys.path.insert(0, "benchmarks"); from match_fidelity import measure
    figures = measure(cases, extracted=lambda case: (message, code, endpoint))

Each case is one corpus YAML file as a dict (``id``, ``raw``, ``message``, ``code``, ``group``, ``cause``).
``extracted`` gives what the extractor made of the case's raw output; without it the corpus's expected
``message`` and ``code`` are used with the API path named in ``raw``, so that these figures measure the
matcher and the fingerprint alone, not the extractor.

Figures:

- **right explanation**: of the cases whose thread found the cause (``cause`` set), the share whose best
  catalog match is an entry that explains that cause (``tests/knowledge/cause_catalog.toml`` maps corpus
  cause ids to catalog ids; a cause it does not map counts as not explained);
- **same-error pairs grouped**: pairs of cases of one ``group`` with the same fingerprint;
- **different causes merged**: pairs of cases of different groups (and not one known cause) that share a
  fingerprint — must be 0.
"""

from __future__ import annotations

import argparse
import itertools
import re
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

TARGET_EXPLAINED = 0.85
CAUSE_MAP = ROOT / "tests" / "knowledge" / "cause_catalog.toml"
#: The component every case is recorded under (the corpus does not say; one project, one component).
COMPONENT = "Backend"
#: "A request to the Cloudflare API (<path>) failed." with line prefixes or a wrap between the two.
_API_HEADER = re.compile(
    r"Cloudflare API[^\n(]*(?:\n[^\n(]*)?\(\s*((?:/client/v4)?/(?:accounts|zones|user|memberships)\b[^)\s]*)\s*\)"
)
_METHOD_PATH = re.compile(r"\b(?:GET|POST|PUT|PATCH|DELETE) ((?:/client/v4)?/(?:accounts|zones|user|memberships)\b\S*)")

Extracted = tuple[str, "int | None", "str | None"]


@dataclass
class Figures:
    cases: int = 0
    resolved: int = 0
    explained: int = 0
    pairs: int = 0
    grouped: int = 0
    different_pairs: int = 0
    merged: int = 0
    #: The corpus's ``holdout`` cases (kept aside while rules were written), counted again on their own.
    holdout_resolved: int = 0
    holdout_explained: int = 0
    misses: list[str] = field(default_factory=list)
    splits: list[str] = field(default_factory=list)
    merges: list[str] = field(default_factory=list)

    @property
    def explained_rate(self) -> float:
        return self.explained / self.resolved if self.resolved else 1.0

    def lines(self) -> list[str]:
        return [
            f"cases: {self.cases} (holdout cases resolved: {self.holdout_resolved}, right explanation:"
            f" {self.holdout_explained})",
            f"right explanation (resolved cases): {self.explained}/{self.resolved} = {self.explained_rate:.1%}"
            f" (target >= {TARGET_EXPLAINED:.0%})",
            f"same-error pairs grouped: {self.grouped}/{self.pairs}",
            f"different-cause pairs merged: {self.merged}/{self.different_pairs} (target 0)",
        ]


def endpoint_in(raw: str) -> str | None:
    """The API path the output names (the failed request's, else a ``METHOD /path -> status`` line's)."""
    found = _API_HEADER.search(raw or "") or _METHOD_PATH.search(raw or "")
    return found.group(1) if found else None


def from_corpus(case: dict[str, Any]) -> Extracted:
    return case["message"], case.get("code"), endpoint_in(case.get("raw", ""))


def cause_map(path: Path = CAUSE_MAP) -> dict[str, frozenset[str]]:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    return {cause: frozenset(ids) for cause, ids in data.get("causes", {}).items()}


def measure(
    cases: Iterable[dict[str, Any]],
    *,
    extracted: Callable[[dict[str, Any]], Extracted] = from_corpus,
    causes: dict[str, frozenset[str]] | None = None,
) -> Figures:
    from faultbook.knowledge.catalog import load_catalog
    from faultbook.knowledge.fingerprint import fingerprint
    from faultbook.knowledge.match import KnowledgeIndex

    causes = cause_map() if causes is None else causes
    index = KnowledgeIndex(catalog=load_catalog())
    figures = Figures()
    keyed: list[tuple[dict[str, Any], str]] = []
    for case in cases:
        figures.cases += 1
        message, code, endpoint = extracted(case)
        keyed.append((case, fingerprint(message, code=code, component=COMPONENT, endpoint=endpoint)))
        cause = (case.get("cause") or {}).get("id")
        if not cause:
            continue
        figures.resolved += 1
        best = next((m for m in index.match(message=message, code=code, component=COMPONENT, endpoint=endpoint)
                     if m.source == "catalog"), None)
        figures.holdout_resolved += bool(case.get("holdout"))
        if best is not None and best.known_error_id in causes.get(cause, ()):
            figures.explained += 1
            figures.holdout_explained += bool(case.get("holdout"))
        else:
            figures.misses.append(f"{case['id']}: cause {cause} -> {best.known_error_id if best else 'nothing'}")
    for (a, ka), (b, kb) in itertools.combinations(keyed, 2):
        if a["group"] == b["group"]:
            figures.pairs += 1
            if ka == kb:
                figures.grouped += 1
            else:
                figures.splits.append(f"{a['id']} / {b['id']} ({a['group']})")
            continue
        same_cause = (a.get("cause") or {}).get("id") and (a.get("cause") or {}).get("id") == (b.get("cause") or {}).get("id")
        if same_cause:
            continue
        figures.different_pairs += 1
        if ka == kb:
            figures.merged += 1
            figures.merges.append(f"{a['id']} ({a['group']}) / {b['id']} ({b['group']})")
    return figures


def load_cases(folder: Path) -> list[dict[str, Any]]:
    import yaml

    return [yaml.safe_load(p.read_text(encoding="utf-8")) for p in sorted(folder.glob("*.yaml"))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", nargs="?", default=str(ROOT / "tests" / "corpus" / "errors"))
    parser.add_argument("-v", "--verbose", action="store_true", help="list misses, splits and merges")
    args = parser.parse_args()
    figures = measure(load_cases(Path(args.corpus)))
    print("\n".join(figures.lines()))
    if args.verbose:
        for title, items in (("not explained", figures.misses), ("split", figures.splits), ("merged", figures.merges)):
            for item in items:
                print(f"  {title}: {item}")
    ok = figures.explained_rate >= TARGET_EXPLAINED and figures.grouped == figures.pairs and figures.merged == 0
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
