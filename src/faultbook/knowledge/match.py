"""Match one error against everything faultbook knows, best first.

Three sources are consulted, in this order of trust:

1. the project's own ledger — a failure with the SAME fingerprint is the
   strongest possible answer ("Seen before as Failure #1, Resolved ...");
2. the built-in catalog — the API code interpreted by the API that returned
   it (``endpoint``), confirmed or refined by the entry's message pattern;
3. text similarity (token overlap plus difflib on the normalised text)
   against the project's potential failures' possible messages and its
   resolved failures' messages.

Everything here is pure: the caller passes the catalog, the potential
failures and the failures in; nothing touches a database.
``KnowledgeIndex`` builds the lookup tables once (fingerprint → failure,
code → entries, token → texts), so matching one error against 10,000 known
failures is a dict lookup plus a handful of candidate comparisons, not a scan;
``find_matches`` is the one-shot convenience over it.
"""

from __future__ import annotations

import difflib
import re
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

from faultbook.knowledge.fingerprint import VERSION, api_family, extract_code, fingerprint, fingerprints, normalise
from faultbook.domain import Failure, PotentialFailure, Status
from faultbook.knowledge.catalog import KnownError, classify_endpoint

#: Similarity below this is noise, not a match.
MIN_SIMILARITY = 0.45
#: At most this many similarity candidates (by shared tokens) get the costly difflib comparison.
MAX_CANDIDATES = 25
#: A word in more texts than this does not pick candidates (it still counts in their similarity).
MAX_POSTINGS = 1000
_TOKEN_RE = re.compile(r"[a-z][a-z0-9_]{2,}")
_STOPWORDS = frozenset(
    "the and for are was were with that this from not but you your has have had its into can could "
    "please try again use using error failed failure code".split()
)


@dataclass(frozen=True)
class Match:
    """One thing faultbook knows about an error, with the fields a new record can be pre-filled from.

    ``source`` is ``ledger`` (one of the project's failures), ``catalog`` (a
    built-in known Cloudflare error) or ``potential`` (an anticipated failure
    from the project's document).  ``score`` is in [0, 1]; a ledger match by
    fingerprint is 1.0.
    """

    source: str
    title: str
    root_cause: str
    resolution: str
    lessons: str
    failure_number: int | None
    status: Status | None
    score: float
    known_error_id: str | None
    transient: bool
    code: int | None = None
    docs: str | None = None
    #: Why it matched: "same fingerprint", "code 10085 on script-upload", "similar text (0.72)".
    reason: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "title": self.title,
            "root_cause": self.root_cause,
            "resolution": self.resolution,
            "lessons": self.lessons,
            "failure_number": self.failure_number,
            "status": self.status.value if self.status else None,
            "score": round(self.score, 3),
            "known_error_id": self.known_error_id,
            "transient": self.transient,
            "code": self.code,
            "docs": self.docs,
            "reason": self.reason,
        }


def render_match(match: Match) -> str:
    """The lines printed for a match, headline first; detail lines indented by two spaces."""
    if match.source == "ledger":
        status = match.status.value.capitalize() if match.status else "Recorded"
        head = f"Seen before as Failure #{match.failure_number}, {status}: {match.title}"
        details = [("root cause", match.root_cause), ("resolution", match.resolution), ("lessons", match.lessons)]
    elif match.source == "catalog":
        code = f" {match.code}" if match.code is not None else ""
        head = f"Known Cloudflare error{code} ({match.title})"
        details = [("cause", match.root_cause), ("fix", match.resolution), ("lessons", match.lessons)]
        if match.transient:
            details.append(("retry", "transient: retrying usually helps (faultbook run --retry N)"))
        if match.docs:
            details.append(("docs", match.docs))
    else:
        number = f" #{match.failure_number}" if match.failure_number is not None else ""
        head = f"Anticipated as Potential Failure{number} ({match.title})"
        details = [("likely causes", match.root_cause), ("planned resolution", match.resolution),
                   ("prevention", match.lessons)]
    lines = [head]
    for label, text in details:
        text = (text or "").strip()
        if not text:
            continue
        first, *rest = text.splitlines()
        lines.append(f"  {label}: {first}")
        lines.extend(f"    {line}" if line.strip() else "" for line in rest)
    return "\n".join(lines)


def ledger_match(failure: Failure, *, reason: str = "same fingerprint", score: float = 1.0) -> Match:
    return Match(
        source="ledger",
        title=failure.title,
        root_cause=failure.root_cause,
        resolution=failure.resolution,
        lessons=failure.lessons_learned,
        failure_number=failure.number,
        status=failure.status,
        score=score,
        known_error_id=None,
        transient=False,
        code=failure.error_code if failure.error_code is not None else extract_code(failure.error_message),
        reason=reason,
    )


def catalog_match(entry: KnownError, *, score: float, reason: str) -> Match:
    return Match(
        source="catalog",
        title=entry.title,
        root_cause=entry.cause,
        resolution=entry.fix,
        lessons=entry.lessons,
        failure_number=None,
        status=None,
        score=score,
        known_error_id=entry.id,
        transient=entry.transient,
        code=entry.code,
        docs=entry.docs,
        reason=reason,
    )


def potential_match(item: PotentialFailure, *, score: float, reason: str) -> Match:
    return Match(
        source="potential",
        title=item.title,
        root_cause="; ".join(item.likely_root_causes),
        resolution="\n".join(f"- {step}" for step in item.planned_resolution),
        lessons="; ".join(item.prevention),
        failure_number=item.number,
        status=None,
        score=score,
        known_error_id=None,
        transient=False,
        reason=reason,
    )


def failure_fingerprint(failure: Failure) -> str | None:
    """The stored fingerprint of the current version, else one computed from the message.

    Imported or hand-recorded failures have none; a key of an older version
    (a Failure built from an old export) is recomputed rather than trusted.
    """
    if failure.fingerprint and failure.fingerprint.startswith(f"{VERSION}:"):
        return failure.fingerprint
    if not failure.error_message:
        return None
    return fingerprint(failure.error_message, code=failure.error_code, component=failure.component)


def tokens(text: str) -> frozenset[str]:
    """Content words of a normalised message (placeholders and stop words dropped)."""
    return frozenset(t for t in _TOKEN_RE.findall(re.sub(r"<\w+>", " ", text.lower())) if t not in _STOPWORDS)


@dataclass(frozen=True)
class _Text:
    kind: str  # "potential" | "failure"
    item: Any
    normalised: str
    lowered: str
    tokens: frozenset[str]


class KnowledgeIndex:
    """Lookup tables over the catalog, the potential failures and the ledger's failures (built once)."""

    def __init__(
        self,
        *,
        catalog: Sequence[KnownError],
        potential: Iterable[PotentialFailure] = (),
        failures: Iterable[Failure] = (),
    ) -> None:
        self.catalog = tuple(catalog)
        self.by_code: dict[int, list[KnownError]] = defaultdict(list)
        self.without_code: list[KnownError] = []
        for entry in self.catalog:
            if entry.code is None:
                self.without_code.append(entry)
            else:
                self.by_code[entry.code].append(entry)
        self.by_fingerprint: dict[str, Failure] = {}
        self.components: set[str] = set()
        self._texts: list[_Text] = []
        self._by_token: dict[str, list[int]] = defaultdict(list)
        for item in potential:
            for message in item.possible_error_messages:
                self._add_text("potential", item, message)
        for failure in sorted(failures, key=lambda f: (f.number is None, f.number or 0)):
            fp = failure_fingerprint(failure)
            if fp and fp not in self.by_fingerprint:
                self.by_fingerprint[fp] = failure
            self.components.add((failure.component or "").strip().lower())
            if failure.error_message:
                self._add_text("failure", failure, failure.error_message)

    def _add_text(self, kind: str, item: Any, message: str) -> None:
        normalised = normalise(message)
        entry = _Text(kind, item, normalised, normalised.lower(), tokens(normalised))
        index = len(self._texts)
        self._texts.append(entry)
        for token in entry.tokens:
            self._by_token[token].append(index)

    # ------------------------------------------------------------ lookups

    def lookup(
        self, message: str, *, code: int | None, component: str | None, endpoint: str | None = None
    ) -> Failure | None:
        """The ledger failure with this error's fingerprint (any component when ``component`` is None).

        The exact key (with the API family of ``endpoint``) first, then the
        family-less key a failure whose endpoint was never known is stored under.
        """
        components = [component] if component is not None else sorted(self.components)
        for name in components:
            for key in fingerprints(message, code=code, component=name or "", endpoint=endpoint):
                found = self.by_fingerprint.get(key)
                if found is not None:
                    return found
        return None

    def match(
        self,
        *,
        message: str,
        code: int | None,
        component: str | None,
        endpoint: str | None,
        limit: int = 3,
    ) -> list[Match]:
        if code is None:
            code = extract_code(message)
        results: list[Match] = []
        same = self.lookup(message, code=code, component=component, endpoint=_path(endpoint))
        if same is not None:
            results.append(ledger_match(same))
        api = classify_endpoint(endpoint) or _api_hint(endpoint) or classify_endpoint(api_family(message))
        results.extend(self._catalog(message=message, code=code, api=api))
        results.extend(self._similar(message=message, code=code, exclude=same))
        results.sort(key=lambda m: (-m.score, _SOURCE_ORDER[m.source], m.failure_number or 0))
        return results[:limit]

    def _catalog(self, *, message: str, code: int | None, api: str | None) -> list[Match]:
        """Catalog entries that explain this error, each with the evidence it rests on.

        An entry is shown only with evidence, and the more specific evidence
        ranks first:

        - an entry with a message pattern is shown only when the pattern
          matches (no "known error" lines that do not fit the message);
        - an entry for one API (``endpoint = "kv"``) is confirmed by that API
          (the path wrangler printed) or by its pattern; with the API unknown
          and no pattern it is a guess, shown only when nothing with evidence
          explains the code, and below everything that has some;
        - an entry without a code matches by its pattern alone, with or
          without a code in the error ("fetch failed", "The entry-point file
          at ... was not found"); an error without a code matches an entry
          with one only by its pattern and only if the entry is not tied to
          one API (wrangler's own check prints "Queue ... does not exist"
          without the code; "Uncaught ReferenceError" without 10021 is a
          runtime error, not the upload's);
        - different codes never match: ``[code: 10021]`` is not ``[code: 10085]``;
        - a pattern-less entry for a code is the fallback for that code: when
          a sibling's pattern confirms the message, the fallback is dropped —
          unless the fallback is for the API that answered and the sibling is
          a generic one (10002 on the routes API is about routes, whatever
          the generic "internal error" entry says); an entry marked
          ``fallback`` (the catch-all of its code) is dropped when any
          pattern explains the message.
        """
        found: list[tuple[KnownError, float, str]] = []
        guesses: list[tuple[KnownError, float, str]] = []
        where = f" on {api}" if api else ""
        for entry in self.catalog:
            if entry.code is not None and code is not None and entry.code != code:
                continue
            text_ok = entry.matches_message(message)
            if entry.pattern is not None and not text_ok:
                continue
            if (entry.code is None or code is None) and not text_ok:
                continue  # without a code in common, only the message can vouch
            if code is None and entry.code is not None and entry.endpoint not in ("any", "config"):
                continue  # an API's own error comes with its code: the same words without it are another error
            if entry.code is None:
                found.append((entry, 0.9, "message"))
                continue
            if code is None:  # the code was not printed: the message alone vouches
                found.append((entry, 0.85, "message"))
                continue
            generic = entry.endpoint in ("any", "config")
            applies = entry.applies_to(api)
            reason = f"code {code}{where}" + (" and message" if text_ok else "")
            if applies is False:
                if text_ok:  # another API's code: only its message can vouch for it
                    found.append((entry, 0.6, reason))
                continue
            if generic:
                found.append((entry, 0.93 if text_ok else 0.85, reason))
            elif applies is True:
                found.append((entry, 0.98 if text_ok else 0.96, reason))
            elif text_ok:
                found.append((entry, 0.92, reason))
            else:
                guesses.append((entry, 0.5, f"code {code}, if it came from the {entry.endpoint} API"))
        confirmed = {e.code for e, _, _ in found if e.pattern is not None and e.code is not None}
        confirmed_specific = {e.code for e, _, _ in found
                              if e.pattern is not None and e.code is not None and e.endpoint not in ("any", "config")}

        def fallback_dropped(entry: KnownError) -> bool:
            # A generic confirmation does not silence an entry the API itself vouches for (10002 on routes).
            if entry.pattern is not None:
                return False
            if entry.endpoint in ("any", "config"):
                return entry.code in confirmed
            return entry.code in confirmed_specific

        explained = any(e.pattern is not None for e, _, _ in found)
        kept = [item for item in found
                if not fallback_dropped(item[0]) and not (item[0].fallback and explained)]
        if not kept:
            kept = guesses
        return [catalog_match(entry, score=score, reason=reason) for entry, score, reason in kept]

    def _similar(self, *, message: str, code: int | None, exclude: Failure | None) -> list[Match]:
        normalised = normalise(message)
        lowered = normalised.lower()
        wanted = tokens(normalised)
        # Candidates come from the words few texts share: a word in thousands of texts ("binding", "type")
        # picks nothing out and would make this a scan of the ledger (10 ms at 10,000 failures, 0.3 ms without).
        postings = [self._by_token[t] for t in wanted if t in self._by_token]
        discriminating = [p for p in postings if len(p) <= MAX_POSTINGS] or [p[:MAX_POSTINGS] for p in postings]
        counts: dict[int, int] = defaultdict(int)
        for posting in discriminating:
            for index in posting:
                counts[index] += 1
        ranked = sorted(counts, key=lambda i: (-counts[i], i))[:MAX_CANDIDATES]
        best: dict[tuple[str, int], Match] = {}
        for index in ranked:
            text = self._texts[index]
            if text.kind == "failure" and (text.item is exclude or _other_code(text.item, code)):
                continue
            union = len(wanted | text.tokens) or 1
            jaccard = len(wanted & text.tokens) / union
            ratio = difflib.SequenceMatcher(None, lowered, text.lowered, autojunk=False).ratio()
            similarity = max(jaccard, ratio) * 0.5 + min(jaccard, ratio) * 0.5
            if text.kind == "potential" and len(text.lowered) >= 8 and text.lowered.strip('"') in lowered:
                similarity = max(similarity, 0.8)  # the anticipated message appears verbatim in the error
            if similarity < MIN_SIMILARITY:
                continue
            reason = f"similar text ({similarity:.2f})"
            if text.kind == "potential":
                match = potential_match(text.item, score=similarity * 0.85, reason=reason)
            else:
                match = ledger_match(text.item, reason=reason, score=similarity * 0.85)
            key = (text.kind, id(text.item))
            if key not in best or best[key].score < match.score:
                best[key] = match
        return list(best.values())


_SOURCE_ORDER = {"ledger": 0, "catalog": 1, "potential": 2}


def _path(endpoint: str | None) -> str | None:
    """An API path (for the fingerprint's family); an API name such as "r2" is not one."""
    return endpoint if endpoint and "/" in endpoint else None


def _api_hint(endpoint: str | None) -> str | None:
    """Callers may pass an API name ("r2") instead of a path."""
    if endpoint and "/" not in endpoint:
        return endpoint
    return None


def _other_code(failure: Failure, code: int | None) -> bool:
    theirs = failure.error_code if failure.error_code is not None else extract_code(failure.error_message)
    return code is not None and theirs is not None and theirs != code


def find_matches(
    *,
    message: str,
    code: int | None,
    component: str | None,
    endpoint: str | None,
    catalog: Sequence[KnownError],
    potential: Sequence[PotentialFailure] = (),
    resolved: Sequence[Failure] = (),
    limit: int = 3,
) -> list[Match]:
    """The best ``limit`` matches for one error, ranked (a pure function).

    Order: a ledger failure with the same fingerprint first; then catalog
    entries for the code interpreted by the API (``endpoint``: the path
    wrangler printed, or an API name such as ``r2``); then text similarity to
    the potential failures' possible messages and the given failures'
    messages.  Different API codes never match each other.
    """
    index = KnowledgeIndex(catalog=catalog, potential=potential, failures=resolved)
    return index.match(message=message, code=code, component=component, endpoint=endpoint, limit=limit)
