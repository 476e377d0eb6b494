"""Recognition: is this failure new, again, or back after being resolved — and what is known about it.

``record_occurrence`` is called once per failed deployment with a draft failure (exact message, code,
component).  It fingerprints the draft (``knowledge.fingerprint``: code, API family, message template), looks the key up in the project's failures
and then in ``fingerprint_aliases`` (merges), both by index, and applies the rule (``rule.decide``, a pure
function): found -> one more occurrence (a Resolved failure is reopened as a regression); not found -> a new
failure with root cause and resolution suggested by the knowledge base (the built-in catalog, the project's
potential failures, its resolved failures).

The modules:

- ``rule``: the rule, pure — a decision value (``Recur`` or ``New``), no database;
- ``record``: ``record_occurrence``, reading the owner and the knowledge base and handing the decision to
  a writer;
- ``writers``: ``ImmediateWriter`` (one report) and ``BatchWriter`` (the team server's batches: prefetched
  lookups, deferred multi-row writes), passed in by the caller;
- ``knowledge_cache``: ``KnowledgeCache``, the warm knowledge index a long-lived process keeps on its app
  context;
- ``statements``: the SQL, built once;
- ``backfill``: fingerprints for failures recorded by hand or imported;
- ``merge``: ``merge_failures`` and ``explain``.
"""

from faultbook.knowledge.match import render_match
from faultbook.services.recognition.knowledge_cache import KnowledgeCache
from faultbook.services.recognition.merge import explain, merge_failures
from faultbook.services.recognition.record import Recognition, record_occurrence
from faultbook.services.recognition.rule import Decision, New, Recur, decide
from faultbook.services.recognition.writers import BatchWriter, ImmediateWriter, Writer, fingerprints_of

__all__ = [
    "BatchWriter",
    "Decision",
    "ImmediateWriter",
    "KnowledgeCache",
    "New",
    "Recognition",
    "Recur",
    "Writer",
    "decide",
    "explain",
    "fingerprints_of",
    "merge_failures",
    "record_occurrence",
    "render_match",
]
