"""The seed's ten "Prevention Best Practices", each mapped to the rules that automate it.

The point is honesty: a practice with no rule is marked *manual*, and one whose
rules could not run (e.g. online rules with --offline) is *not checked* — never
a silent pass.
"""

from __future__ import annotations

from dataclasses import dataclass

from faultbook.checks.base import Report, Severity

PRACTICES: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("Always test locally before deploying to production using `wrangler dev`", (), "run `wrangler dev` and exercise the Worker"),
    ("Backup current deployment before making changes", ("FB406",), "a previous deployable version must exist"),
    ("Deploy during off-peak hours to minimize user impact", (), "a scheduling decision"),
    ("Monitor logs closely after deployment", (), "`wrangler tail` / observability dashboards"),
    ("Have a rollback plan ready before deployment begins", ("FB406",), "`faultbook rollback` needs an earlier version"),
    ("Document all changes for future reference and troubleshooting", (), "faultbook's ledger records failures, not changes"),
    ("Verify all environment variables before deployment", ("FB108", "FB106", "FB124", "FB123", "FB420", "FB421"),
     "vars, secrets and bindings per [env.X]"),
    ("Test all API endpoints after deployment", ("FB506",),
     "`faultbook check --network` calls the [[smoke]] endpoints in faultbook.toml"),
    ("Check resource availability (buckets, databases, namespaces) before deployment",
     ("FB402", "FB403", "FB404", "FB405", "FB109", "FB110", "FB422", "FB423"), "online rules query the Cloudflare API"),
    ("Validate configuration files (wrangler.toml) before deployment",
     ("FB101", "FB102", "FB103", "FB104", "FB105", "FB106", "FB107", "FB111", "FB201", "FB202", "FB203",
      "FB204", "FB205", "FB206", "FB207", "FB301", "FB120", "FB121", "FB122", "FB125", "FB220", "FB221", "FB222",
      "FB223", "FB424"), "config rules"),
)


@dataclass(frozen=True)
class ChecklistItem:
    number: int
    practice: str
    rule_ids: tuple[str, ...]
    #: "pass" | "fail" | "attention" | "not checked" | "manual"
    status: str
    finding_count: int
    note: str


def checklist(report: Report) -> list[ChecklistItem]:
    items = []
    for number, (practice, rule_ids, note) in enumerate(PRACTICES, start=1):
        ran = [r for r in rule_ids if r in report.rules_run]
        found = [f for f in report.findings if f.rule_id in rule_ids]
        if not rule_ids:
            status = "manual"
        elif not ran:
            status = "not checked"
        elif any(f.severity == Severity.ERROR for f in found):
            status = "fail"
        elif any(f.severity == Severity.WARNING for f in found):
            status = "attention"
        else:
            status = "pass"
        if status == "not checked" and "FB506" in rule_ids:
            note = "add [[smoke]] endpoints to faultbook.toml and run `faultbook check --network`"
        online_ids = [r for r in rule_ids if r.startswith("FB4")]
        if status in ("pass", "attention") and online_ids and not any(r in report.rules_run for r in online_ids):
            status += " (offline part only)"
        items.append(ChecklistItem(number, practice, tuple(rule_ids), status, len(found), note))
    return items


def format_checklist(items: list[ChecklistItem]) -> str:
    out = ["Prevention checklist (the seed's ten practices)", ""]
    for item in items:
        rules = ", ".join(item.rule_ids) if item.rule_ids else "no rule: manual"
        extra = f", {item.finding_count} finding{'s' if item.finding_count != 1 else ''}" if item.finding_count else ""
        out.append(f"{item.number:>2}. [{item.status.upper()}] {item.practice}")
        out.append(f"    {rules}{extra} — {item.note}")
    manual = [str(i.number) for i in items if i.status == "manual"]
    out.append("")
    out.append(f"Manual (faultbook cannot check these): {', '.join(manual)}.")
    return "\n".join(out) + "\n"
