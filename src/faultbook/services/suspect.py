"""The suspect change: what changed between the last deployment that worked and the one that failed.

Sentry shows "suspect commits"; a Cloudflare deploy fails far more often on
the config than on the code, so faultbook compares what it stored with each
deployment (``services.snapshot``: bindings, compatibility date and flags, var
and secret names, lockfile versions) and adds the commits in between when git
can tell.  It works without git: the snapshots alone give the config,
lockfile and secret items.

The computation is pure (``diff_snapshots``, ``commit_changes``,
``rank``): snapshots and commit lists in, ``SuspectChange`` values out.
``suspect_changes_for_deployment`` / ``suspect_changes_for_failure`` only
gather the two deployments (same component and environment, the newest
successful one started before the failed one) and their snapshots.

Ranking: a change that touches what the error names comes first — the binding
``IMAGES`` for ``binding IMAGES has an unknown type Images``, the bucket
``quoteviral-uploads`` for a missing bucket, ``nodejs_compat`` for a flag
error.  The error's words are compared with each item's names (binding name,
field values, key, package); then config before lockfile before secrets
before commits (the order in which they break Cloudflare deploys in the
seed's ledger); the diff's own order last, so the result is deterministic.

Values never appear: vars and secrets are known by name only, and the
snapshot's strings were scrubbed before they were stored.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

KIND_ORDER = {"config": 0, "compatibility": 0, "binding": 0, "var": 1, "lockfile": 2, "secret": 3, "commit": 4}
GIT_TIMEOUT = 10
MAX_COMMITS = 50
#: Words too common in error messages to tie an error to a change.
STOPWORDS = frozenset("""
a an and are as at be binding bindings by can cannot code could error failed for from has have in into is it its
not of on or please that the this to type unknown was were with worker workers you your api request cloudflare
""".split())


@dataclass(frozen=True)
class SuspectChange:
    """One thing that changed since the last good deployment."""

    kind: str  #: binding, compatibility, config, var, secret, lockfile, commit
    summary: str
    key: str = ""  #: e.g. "bindings.IMAGES", "compatibility_date", "lockfile.wrangler", a commit hash
    before: Any = None
    after: Any = None
    #: Identifiers this change is about (compared with the error's words).
    names: tuple[str, ...] = ()
    #: True when the error text names one of ``names``.
    named_in_error: bool = False
    extra: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        data = {
            "kind": self.kind,
            "summary": self.summary,
            "key": self.key,
            "before": self.before,
            "after": self.after,
            "named_in_error": self.named_in_error,
        }
        data.update(self.extra)
        return data


# ---------------------------------------------------------------- pure


def diff_snapshots(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> list[SuspectChange]:
    """The changes from snapshot ``before`` (last good) to ``after`` (failed), in a stable order.

    Both are stored snapshots (``services.snapshot.take_snapshot``).
    """
    from faultbook.services.snapshot import view

    before, after = view(before), view(after)
    if not before or not after:
        return []
    changes: list[SuspectChange] = []
    if before.get("config_file") and after.get("config_file") and before["config_file"] != after["config_file"]:
        changes.append(SuspectChange("config", f"wrangler config file {before['config_file']} -> {after['config_file']}",
                                     key="config_file", before=before["config_file"], after=after["config_file"]))
    changes += _bindings(before.get("bindings") or {}, after.get("bindings") or {})
    changes += _compatibility(before, after)
    changes += _settings(before.get("settings") or {}, after.get("settings") or {})
    changes += _other_keys(before.get("other_keys") or {}, after.get("other_keys") or {})
    changes += _names("var", "var", before.get("vars") or [], after.get("vars") or [])
    changes += _names("secret", "secret", before.get("secrets") or [], after.get("secrets") or [])
    changes += _lockfile(before.get("lockfile") or {}, after.get("lockfile") or {})
    return changes


def _bindings(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[SuspectChange]:
    out = []
    for name in sorted(set(old) | set(new)):
        a, b = old.get(name), new.get(name)
        if a == b:
            continue
        names = (name, *_field_names(a), *_field_names(b))
        if a is None:
            out.append(SuspectChange("binding", f"binding {name} added ({_describe(b)})", key=f"bindings.{name}",
                                     after=b, names=names))
        elif b is None:
            out.append(SuspectChange("binding", f"binding {name} removed (was {_describe(a)})", key=f"bindings.{name}",
                                     before=a, names=names))
        else:
            what = []
            if a.get("kind") != b.get("kind"):
                what.append(f"moved from {a.get('kind')} to {b.get('kind')}")
            fa, fb = a.get("fields") or {}, b.get("fields") or {}
            for f in sorted(set(fa) | set(fb)):
                if fa.get(f) != fb.get(f):
                    what.append(f"{f}: {_short(fa.get(f))} -> {_short(fb.get(f))}")
            out.append(SuspectChange("binding", f"binding {name} changed ({'; '.join(what)})", key=f"bindings.{name}",
                                     before=a, after=b, names=names))
    return out


def _compatibility(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[SuspectChange]:
    out = []
    a = (before.get("settings") or {}).get("compatibility_date")
    b = (after.get("settings") or {}).get("compatibility_date")
    if a != b:
        out.append(SuspectChange("compatibility", f"compatibility_date {_short(a)} -> {_short(b)}",
                                 key="compatibility_date", before=a, after=b,
                                 names=("compatibility_date", *(str(v) for v in (a, b) if v))))
    fa, fb = set(before.get("compatibility_flags") or []), set(after.get("compatibility_flags") or [])
    for flag in sorted(fb - fa):
        out.append(SuspectChange("compatibility", f"compatibility flag {flag} added", key="compatibility_flags",
                                 after=flag, names=(flag, "compatibility_flags")))
    for flag in sorted(fa - fb):
        out.append(SuspectChange("compatibility", f"compatibility flag {flag} removed", key="compatibility_flags",
                                 before=flag, names=(flag, "compatibility_flags")))
    return out


def _settings(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[SuspectChange]:
    out = []
    for key in sorted(set(old) | set(new)):
        if key == "compatibility_date" or old.get(key) == new.get(key):
            continue
        out.append(SuspectChange("config", f"{key}: {_short(old.get(key))} -> {_short(new.get(key))}", key=key,
                                 before=old.get(key), after=new.get(key),
                                 names=(key, *(str(v) for v in (old.get(key), new.get(key)) if isinstance(v, str)))))
    return out


def _other_keys(old: Mapping[str, str], new: Mapping[str, str]) -> list[SuspectChange]:
    out = []
    for key in sorted(set(old) | set(new)):
        if old.get(key) == new.get(key):
            continue
        verb = "added" if key not in old else "removed" if key not in new else "changed"
        out.append(SuspectChange("config", f"config key {key} {verb}", key=key, names=(key,)))
    return out


def _names(kind: str, label: str, old: Iterable[str], new: Iterable[str]) -> list[SuspectChange]:
    a, b = set(old), set(new)
    out = [SuspectChange(kind, f"{label} {n} added", key=f"{kind}s.{n}", after=n, names=(n,)) for n in sorted(b - a)]
    out += [SuspectChange(kind, f"{label} {n} removed", key=f"{kind}s.{n}", before=n, names=(n,)) for n in sorted(a - b)]
    return out


def _lockfile(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[SuspectChange]:
    if not old or not new:
        return []
    a, b = old.get("dependencies") or {}, new.get("dependencies") or {}
    out = []
    names = sorted(set(a) | set(b), key=lambda n: (n != "wrangler", n))  # wrangler's own version first
    for name in names:
        if a.get(name) == b.get(name):
            continue
        if name not in a:
            summary = f"dependency {name} {b[name]} added"
        elif name not in b:
            summary = f"dependency {name} {a[name]} removed"
        else:
            summary = f"{'wrangler' if name == 'wrangler' else 'dependency ' + name} {a[name]} -> {b[name]}"
        out.append(SuspectChange("lockfile", summary, key=f"lockfile.{name}", before=a.get(name), after=b.get(name),
                                 names=(name,), extra={"file": new.get("file")}))
    return out


def commit_changes(commits: Sequence[Mapping[str, str]]) -> list[SuspectChange]:
    """Commit items from ``[{"hash", "author", "subject"}]`` (newest first, as ``git log`` gives them)."""
    out = []
    for c in commits:
        short = c["hash"][:12]
        out.append(SuspectChange(
            "commit", f"{short} {c['subject']} ({c['author']})", key=c["hash"],
            names=tuple(_words(c["subject"])),
            extra={"hash": c["hash"], "author": c["author"], "subject": c["subject"]},
        ))
    return out


def rank(changes: Sequence[SuspectChange], error_text: str | None) -> list[SuspectChange]:
    """Changes the error names first, then by kind (config, lockfile, secret, commit), else as given."""
    words = {w.lower() for w in _words(error_text or "")} - STOPWORDS
    marked = []
    for change in changes:
        hit = any(n.lower() in words for n in change.names if n and n.lower() not in STOPWORDS)
        marked.append(replace(change, named_in_error=hit))
    order = {id(c): i for i, c in enumerate(marked)}
    return sorted(marked, key=lambda c: (not c.named_in_error, KIND_ORDER.get(c.kind, 5), order[id(c)]))


def suspect(
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
    *,
    commits: Sequence[Mapping[str, str]] = (),
    error_text: str | None = None,
) -> list[SuspectChange]:
    """The ranked suspect changes from two snapshots and the commits in between."""
    return rank([*diff_snapshots(before, after), *commit_changes(commits)], error_text)


def render_text(changes: Sequence[SuspectChange], *, limit: int = 8) -> list[str]:
    """Lines for a terminal or Markdown list (``faultbook run``, the postmortem, SUPPORT.md)."""
    lines = [f"- {c.summary}" + ("  <- named in the error" if c.named_in_error else "") for c in changes[:limit]]
    if len(changes) > limit:
        lines.append(f"- ... and {len(changes) - limit} more")
    return lines


def _words(text: str) -> list[str]:
    return re.findall(r"[A-Za-z0-9_][A-Za-z0-9_.\-]*[A-Za-z0-9_]|[A-Za-z0-9_]", text)


def _field_names(binding: Mapping[str, Any] | None) -> list[str]:
    if not binding:
        return []
    values = [str(v) for v in (binding.get("fields") or {}).values() if isinstance(v, (str, int)) and not isinstance(v, bool)]
    return [binding.get("kind", ""), *values]


def _describe(binding: Mapping[str, Any] | None) -> str:
    if not binding:
        return ""
    fields = binding.get("fields") or {}
    detail = ", ".join(f"{k} = {_short(v)}" for k, v in fields.items())
    return f"{binding.get('kind')}" + (f": {detail}" if detail else "")


def _short(value: Any) -> str:
    if value is None:
        return "(none)"
    text = str(value)
    return text if len(text) <= 60 else text[:57] + "..."


# ---------------------------------------------------------------- gathering


def git_commits(root: Path, base: str, head: str) -> list[dict[str, str]] | None:
    """The commits in ``base..head`` (newest first), or None when git cannot tell (no git, no repo, shallow)."""
    try:
        result = subprocess.run(
            ["git", "-C", str(root), "log", f"-{MAX_COMMITS}", "--format=%H%x1f%an%x1f%s", f"{base}..{head}"],
            capture_output=True, text=True, timeout=GIT_TIMEOUT, stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if result.returncode != 0:
        return None
    commits = []
    for line in result.stdout.splitlines():
        parts = line.split("\x1f")
        if len(parts) == 3:
            commits.append({"hash": parts[0], "author": parts[1], "subject": parts[2]})
    return commits


def suspect_changes_for_deployment(
    session: Any, *, project: Any, deployment_id: int, error_text: str | None = None, root: Path | None = None,
) -> list[SuspectChange]:
    """The suspect changes of one (failed) deployment against the last good one of its component and environment."""
    from sqlalchemy import select

    from faultbook.store.tables import DeploymentRow, ProjectRow

    row_project = session.scalar(select(ProjectRow).where(ProjectRow.key == project.key))
    if row_project is None:
        return []
    failed = session.get(DeploymentRow, deployment_id)
    if failed is None or failed.project_id != row_project.id:
        return []
    good = last_good_before(session, failed)
    if good is None:
        return []
    commits: Sequence[Mapping[str, str]] = ()
    if root is not None and good.git_commit and failed.git_commit and good.git_commit != failed.git_commit:
        commits = git_commits(root, good.git_commit, failed.git_commit) or ()
    changes = suspect(good.snapshot, failed.snapshot, commits=commits, error_text=error_text)
    if not changes and good.config_hash and failed.config_hash and good.config_hash != failed.config_hash \
            and not (good.snapshot and failed.snapshot):
        # Deployments recorded before snapshots existed: the hash still says the config changed.
        changes = [SuspectChange("config", "the wrangler config changed (no snapshot of it was stored)",
                                 key="config_hash", before=good.config_hash, after=failed.config_hash)]
    return changes


def last_good_before(session: Any, failed: Any) -> Any:
    """The newest successful deployment of the same component and environment started before ``failed``."""
    from sqlalchemy import select

    from faultbook.store.tables import DeploymentRow

    stmt = select(DeploymentRow).where(
        DeploymentRow.project_id == failed.project_id,
        DeploymentRow.outcome == "succeeded",
        DeploymentRow.started_at < failed.started_at,
        DeploymentRow.component.is_(None) if failed.component is None else DeploymentRow.component == failed.component,
        DeploymentRow.environment.is_(None) if failed.environment is None
        else DeploymentRow.environment == failed.environment,
    ).order_by(DeploymentRow.started_at.desc(), DeploymentRow.id.desc()).limit(1)
    return session.scalar(stmt)


def suspect_changes_for_failure(
    session: Any, *, project: Any, number: int, root: Path | None = None,
) -> list[SuspectChange]:
    """The suspect changes of a failure: those of the first failed deployment that hit it."""
    from sqlalchemy import select

    from faultbook.store.tables import DeploymentRow, FailureRow, OccurrenceRow, ProjectRow

    row_project = session.scalar(select(ProjectRow).where(ProjectRow.key == project.key))
    if row_project is None:
        return []
    failure = session.scalar(select(FailureRow).where(FailureRow.project_id == row_project.id,
                                                      FailureRow.number == number))
    if failure is None:
        return []
    occurrence_deployments = select(OccurrenceRow.deployment_id).where(OccurrenceRow.failure_id == failure.id)
    first = session.scalar(
        select(DeploymentRow.id).where(
            DeploymentRow.project_id == row_project.id,
            (DeploymentRow.failure_id == failure.id) | DeploymentRow.id.in_(occurrence_deployments),
        ).order_by(DeploymentRow.started_at, DeploymentRow.id).limit(1)
    )
    if first is None:
        return []
    return suspect_changes_for_deployment(session, project=project, deployment_id=first,
                                          error_text=failure.error_message, root=root)
