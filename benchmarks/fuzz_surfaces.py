"""Property-based fuzz of every input surface: no exit 70, no traceback, no HTTP 500.

Surfaces (each a hypothesis strategy and a probe):

- ``markdown``: documents built from the format's own lines (headings, field
  lines, continuations, fences) with hostile values — numbers past 2^31,
  "٢", years 1 and 9999 with offsets, NUL, CR-only endings — decoded, parsed,
  imported into a SQLite ledger (rolled back) and exported; an imported
  ledger must export to a document that parses back to the same failures.
- ``wrangler``: wrangler.toml / .json / .jsonc from plausible keys with any
  values, plus raw byte mutations, through ``faultbook check --offline``
  (sometimes ``--fix``) in every output format.
- ``faultbook_toml``: faultbook.toml (project, database_url, [network],
  [[smoke]], [checks.health], [check]) loaded as ``check`` and rollback
  verification load it.
- ``cli``: every command with generated option values (text with NUL and
  line breaks, numbers past any range, non-ASCII digits, dates, paths that are
  folders, devices or missing) through ``faultbook.cli.app.main`` in-process.
- ``api``: every JSON body and query of the REST API through Starlette's
  TestClient (server exceptions answered as 500, which counts as a crash).

Passing means: for each surface, ``--examples`` generated inputs ran and none
crashed.  The figures printed are examples run, outcomes by exit code / HTTP
status, and throughput.  ``tests/test_fuzz_surfaces.py`` runs the same
surfaces with a small budget in CI.

Run: .venv/bin/python benchmarks/fuzz_surfaces.py [--examples 10000] [--surface NAME ...] [--seed N]
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import io
import json
import os
import shutil
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from hypothesis import HealthCheck, Phase, given, seed as hypothesis_seed, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

SEED_DOC = ROOT / "examples" / "quoteviral" / "FAILURES.md"
QV_TOML = ROOT / "examples" / "quoteviral" / "wrangler.toml"


def _gist(exc: Exception) -> str:
    """The kind of refusal, without the file, line or value (for the outcome counts)."""
    reason = getattr(exc, "reason", None) or str(exc)
    reason = reason.split(": ", 1)[-1] if reason.lower().startswith(("failure #", "potential failure #")) else reason
    return " ".join(reason.split()[:3])


class Crash(AssertionError):
    """What the fuzz is looking for: an input that made faultbook crash."""


# ---------------------------------------------------------------- shared value strategies

NUMBERS = st.one_of(
    st.integers(min_value=-3, max_value=12),
    st.sampled_from([0, 2**31 - 1, 2**31, 2**63 - 1, 2**63, 10**30, -(2**63)]),
    st.integers(),
)
NUMBER_TEXT = st.one_of(
    NUMBERS.map(str),
    st.sampled_from(["٢", "²", "1e3", "0x10", " 1", "1.5", "", "-0", "٣٤", "1_000", "9" * 5000]),
)
DATES = st.one_of(
    st.sampled_from([
        "2025-08-20", "August 20, 2025", "20 August 2025", "0001-01-01", "9999-12-31", "1899-12-31", "—",
        "٢٠٢٥-08-20", "2025-02-30", "2025-8-20", "Aug. 20, 2025", "",
    ]),
    st.dates().map(str),
)
TIMES = st.one_of(
    st.sampled_from(["14:15 UTC", "14:15 UTC+5", "23:00 UTC-5", "2:15 PM UTC", "09:00 +02:00", "25:00 UTC",
                     "—", "14:15 UTC+99", "١٤:١٥ UTC", ""]),
    st.times().map(lambda t: t.strftime("%H:%M UTC")),
)
ISO_TIMES = st.one_of(
    st.sampled_from(["0001-01-01T00:00:00+05:00", "9999-12-31T23:00:00-05:00", "2025-08-20T14:15:00Z", "now",
                     "2025-08-20", "9999-12-31", "0001-01-01", "1899-12-31T23:59:59Z", "x", ""]),
    st.datetimes().map(lambda d: d.isoformat()),
)
# Any text a file or a JSON body can carry (no lone surrogates: those are not in UTF-8 files).
TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)
HOSTILE_TEXT = st.one_of(
    TEXT,
    st.sampled_from([
        "a\x00b", "two\nlines", "Back (end)", "x)", "(", "\r", "\u202e", "#٢", "```", "- **Date**: x", "### Failure #1: x",
        "%_\\", "' OR 1=1 --", "<script>alert(1)</script>", "\x1b[31m", "::error::x", "x" * 3000,
    ]),
)


# ---------------------------------------------------------------- markdown

FIELDS = ["Date", "Time", "Component", "Deployment Step", "Error Message", "Root Cause", "Resolution", "Status",
          "Lessons Learned", "Possible Error Messages", "Likely Root Causes", "Planned Resolution", "Prevention",
          "Bogus", "date"]
STATUS = ["🔴 Open", "✅ Resolved", "🟡 Workaround", "Resolved", "open", "closed", ""]


VALID_NUMBER = st.integers(1, 60).map(str)
VALID_DATE = st.dates(min_value=__import__("datetime").date(1990, 1, 1), max_value=__import__("datetime").date(2100, 1, 1))
WORDS = st.text(st.characters(whitelist_categories=("Lu", "Ll", "Nd"), max_codepoint=0x7F), min_size=1, max_size=12)


def _mostly(valid: Any, hostile: Any) -> Any:
    """Valid values four times in five, so that most documents get past the first line into the rest."""
    return st.one_of(valid, valid, valid, valid, hostile)


MD_TEXT = HOSTILE_TEXT.map(lambda t: t.replace("\x00", ""))
FAILURE_BLOCK = [
    ("Date", _mostly(VALID_DATE.map(lambda d: d.strftime("%B %d, %Y").replace(" 0", " ")), DATES)),
    ("Time", _mostly(st.times().map(lambda t: t.strftime("%H:%M UTC")), TIMES)),
    ("Component", _mostly(st.tuples(WORDS, st.none() | WORDS).map(lambda p: p[0] + (f" ({p[1]})" if p[1] else "")),
                          MD_TEXT)),
    ("Deployment Step", _mostly(WORDS, MD_TEXT)),
    ("Error Message", MD_TEXT),
    ("Root Cause", MD_TEXT),
    ("Resolution", MD_TEXT),
    ("Status", _mostly(st.sampled_from(STATUS[:3]), st.sampled_from(STATUS))),
    ("Lessons Learned", MD_TEXT),
]
POTENTIAL_BLOCK = [
    ("Component", _mostly(WORDS, MD_TEXT)),
    ("Deployment Step", _mostly(WORDS, MD_TEXT)),
    ("Possible Error Messages", st.just("")),
    ("Likely Root Causes", st.just("")),
    ("Planned Resolution", st.just("")),
    ("Prevention", st.just("")),
]


MD_TEXT = MD_TEXT.map(lambda t: t.replace("\x00", ""))


@st.composite
def markdown_documents(draw: Any) -> bytes:
    lines: list[str] = []
    if draw(st.booleans()):
        lines += ["# Ledger", ""]
    for _ in range(draw(st.integers(0, 3))):
        section = draw(_mostly(st.sampled_from(["## Current Failures", "## Potential Future Failures"]),
                               st.sampled_from(["## Recovery Procedures", "## Other", "# Title"])))
        lines += [section, ""]
        potential = "Potential" in section
        for _ in range(draw(st.integers(0, 3))):
            number = draw(_mostly(VALID_NUMBER, NUMBER_TEXT))
            lines.append(f"### {'Potential Failure' if potential else 'Failure'} #{number}: {draw(_mostly(WORDS, MD_TEXT))}")
            for name, value in POTENTIAL_BLOCK if potential else FAILURE_BLOCK:
                if draw(st.integers(0, 19)) == 0:
                    continue  # a missing field
                if draw(st.integers(0, 39)) == 0:
                    name = draw(st.sampled_from(FIELDS))  # a wrong or repeated one
                lines.append(f"- **{name}**: {draw(value)}".rstrip(" ") if not draw(st.integers(0, 9)) == 0
                             else f"- **{name}**: {draw(value)}")
                for _ in range(draw(st.integers(0, 2))):
                    indent = draw(_mostly(st.just("  "), st.sampled_from(["\t", "    ", " "])))
                    item = draw(MD_TEXT)
                    lines.append(indent + (f'- "{item}"' if potential and draw(st.booleans()) else item))
                if draw(st.integers(0, 14)) == 0:
                    lines += ["  ```", "  code", draw(st.sampled_from(["  ```", ""]))]
            lines.append("")
        if draw(st.integers(0, 3)) == 0:
            lines.append(draw(MD_TEXT))
    newline = draw(st.sampled_from(["\n"] * 8 + ["\r\n", "\r"]))
    text = newline.join(lines) + draw(st.sampled_from(["", newline]))
    data = text.encode("utf-8")
    if draw(st.integers(0, 19)) == 0:  # raw byte damage: NUL, invalid UTF-8, a BOM
        position = draw(st.integers(0, len(data)))
        data = data[:position] + draw(st.sampled_from([b"\x00", b"\xff", b"\xc3", b"\xef\xbb\xbf"])) + data[position:]
    return data


#: One parsed document in this many also goes through a (rolled-back) import and export in SQLite.
DB_SAMPLE = 5


class MarkdownSurface:
    name = "markdown"
    strategy = markdown_documents()

    def __init__(self, work: Path) -> None:
        from faultbook.services.ledger import ProjectRef
        from faultbook.store.db import Database

        self.database = Database(f"sqlite:///{work / 'markdown.db'}")
        self.project = ProjectRef(key="fuzz", name="Fuzz")
        self.seen = 0

    def probe(self, data: bytes) -> str:
        from faultbook.errors import FaultbookError
        from faultbook.markdown import parse_document
        from faultbook.services import ledger

        class Rollback(Exception):
            pass

        from faultbook.markdown import render_document

        try:
            text = ledger.decode_document(data, path="fuzz.md")
            document = parse_document(text, path="fuzz.md")
        except FaultbookError as exc:
            return "refused: " + _gist(exc)
        # Every document: render and read back in memory (what export then import does) ...
        rendered = render_document(layout=document.layout, failures=document.failures,
                                   potential_failures=document.potential_failures)
        if parse_document(rendered, path="rendered.md").failures != document.failures:
            raise Crash("a parsed document renders to one that reads back differently")
        # ... and one in DB_SAMPLE through the ledger itself (a rolled-back import and export).
        self.seen += 1
        if self.seen % DB_SAMPLE:
            return "parsed and rendered"
        try:
            with self.database.session(write=True) as session:
                ledger.import_document(session, project=self.project, text=text, path="fuzz.md", update=True)
                exported = ledger.export_document(session, project=self.project)
                stored = ledger.list_failures(session, project=self.project)
                raise Rollback
        except Rollback:
            pass
        except FaultbookError:
            return "refused by the ledger"
        again = parse_document(exported, path="exported.md")
        kept = [(f.number, f.title, f.component, f.component_detail, f.step, f.error_message, f.status) for f in stored]
        back = [(f.number, f.title, f.component, f.component_detail, f.step, f.error_message, f.status)
                for f in again.failures]
        if sorted(kept, key=lambda k: k[0]) != sorted(back, key=lambda k: k[0]):
            raise Crash(f"export does not read back as what was stored:\n{kept}\n{back}")
        return "imported"

    def close(self) -> None:
        self.database.dispose()


# ---------------------------------------------------------------- wrangler configs

SCALARS = st.one_of(
    HOSTILE_TEXT, NUMBERS, st.floats(allow_nan=False), st.booleans(), st.none(),
    st.sampled_from(["images", "Images", "2025-01-01", "9999-12-31", "src/index.js", "nodejs_compat"]),
)
ANY_VALUE = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.sampled_from(["binding", "id", "name", "bucket_name", "pattern",
                                                                    "zone_name", "database_id", "x"]) | TEXT, inner,
                                                 max_size=4)), max_leaves=12)
WRANGLER_KEYS = ["name", "main", "compatibility_date", "compatibility_flags", "account_id", "workers_dev", "routes",
                 "route", "vars", "kv_namespaces", "r2_buckets", "d1_databases", "images", "assets", "limits",
                 "triggers", "env", "durable_objects", "queues", "services", "placement", "observability", "build"]


@st.composite
def wrangler_configs(draw: Any) -> tuple[str, bytes]:
    config = draw(st.dictionaries(st.sampled_from(WRANGLER_KEYS) | TEXT, ANY_VALUE, max_size=8))
    if draw(st.booleans()):
        config.setdefault("name", "fuzz")
        config.setdefault("main", "src/index.js")
    fmt = draw(st.sampled_from(["wrangler.toml", "wrangler.json", "wrangler.jsonc"]))
    if fmt == "wrangler.toml":
        import tomlkit

        try:
            text = tomlkit.dumps(_toml_safe(config))
        except Exception:  # a value TOML cannot hold (None, a mixed array): use the seed instead
            text = QV_TOML.read_text()
    else:
        text = json.dumps(config, allow_nan=True)
        if fmt.endswith("jsonc") and draw(st.booleans()):
            text = "// comment\n" + text.replace(",", ", /* c */", 1)
    data = text.encode("utf-8", "surrogatepass")
    for _ in range(draw(st.integers(0, 2))):  # raw damage
        position = draw(st.integers(0, len(data)))
        data = data[:position] + draw(st.sampled_from([b"[", b"{", b'"', b"\x00", b"\xff", b"\\ud800", b"9" * 5000,
                                                        b"=", b"\n[[x]]\n", b"#"])) + data[position:]
    return fmt, data


def _toml_safe(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _toml_safe(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_toml_safe(v) for v in value if v is not None]
    return value


class WranglerSurface:
    name = "wrangler"

    def __init__(self, work: Path) -> None:
        self.work = work
        self.strategy = st.tuples(wrangler_configs(), st.sampled_from(["text", "json", "sarif", "github"]),
                                  st.integers(0, 9))

    def probe(self, example: tuple[tuple[str, bytes], str, int]) -> str:
        from faultbook.cli.check_cmd import check_command

        (name, data), fmt, dice = example
        folder = Path(tempfile.mkdtemp(dir=self.work))
        try:
            (folder / name).write_bytes(data)
            (folder / "src").mkdir()
            (folder / "src" / "index.js").write_text("export default { fetch() { return new Response('ok') } }\n")
            stdout, stderr, code = check_command(str(folder), offline=True, output_format=fmt, fix=dice == 0)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        if code not in (0, 1, 2):
            raise Crash(f"check exit {code}: {stderr[-500:]}")
        if fmt in ("json", "sarif") and stdout:
            json.loads(stdout)
        return f"exit {code}"


# ---------------------------------------------------------------- faultbook.toml

@st.composite
def faultbook_tomls(draw: Any) -> bytes:
    import tomlkit

    urls = _mostly(st.just("https://quoteviral.com/health"), st.sampled_from([
        "https://quoteviral.com/", "ht!tp://[::1", "http://[::1", "https://", "http://x:99999/", "file:///etc/passwd",
        "https://a b/", "//x", "https://" + "a" * 300 + ".com/"]) | HOSTILE_TEXT)
    numbers = _mostly(st.floats(0.1, 60), st.one_of(st.floats(), NUMBERS, HOSTILE_TEXT, st.sampled_from([1e308, -1, 0])))
    data: dict[str, Any] = {}
    if draw(st.booleans()):
        data["project"] = draw(_mostly(WORDS, st.one_of(HOSTILE_TEXT, NUMBERS)))
    if draw(st.booleans()):
        data["name"] = draw(HOSTILE_TEXT)
    if draw(st.integers(0, 3)) == 0:
        data["database_url"] = draw(st.sampled_from(["", "not a url", "mysql://x/y", 5, "sqlite:///./sub/x.db"]))
    if draw(st.booleans()):
        data["network"] = {k: draw(v) for k, v in {
            "timeout": numbers, "resolver": _mostly(st.just("127.0.0.1:5353"), HOSTILE_TEXT),
            "cafile": HOSTILE_TEXT, "connect_to": st.dictionaries(HOSTILE_TEXT, HOSTILE_TEXT, max_size=2),
        }.items() if draw(st.booleans())}
    smoke_entry = st.fixed_dictionaries({"url": urls}, optional={
        "method": st.one_of(HOSTILE_TEXT, st.sampled_from(["GET", "POST", "HEAD"])),
        "expect_status": _mostly(st.integers(100, 599), st.one_of(NUMBERS, HOSTILE_TEXT)), "expect_body": WORDS,
        "expect_body_regex": st.one_of(HOSTILE_TEXT, st.sampled_from(["(", "[", "(a+)+$", "\\"])),
        "headers": st.dictionaries(HOSTILE_TEXT, HOSTILE_TEXT, max_size=2), "timeout": numbers,
    })
    if draw(st.booleans()):
        data["smoke"] = draw(st.lists(smoke_entry, max_size=3))
    if draw(st.booleans()):
        data["checks"] = {"health": draw(smoke_entry)}
    if draw(st.booleans()):
        data["check"] = {"select": draw(st.lists(HOSTILE_TEXT, max_size=2)), "fail_on": draw(HOSTILE_TEXT)}
    if draw(st.booleans()):
        data["rollback"] = {"worker": draw(st.one_of(HOSTILE_TEXT, NUMBERS))}
    try:
        text = tomlkit.dumps(_toml_safe(data))
    except Exception:
        text = 'project = "x"\n'
    raw = text.encode("utf-8", "surrogatepass")
    if draw(st.integers(0, 4)) == 0:
        position = draw(st.integers(0, len(raw)))
        raw = raw[:position] + draw(st.sampled_from([b"[", b'"', b"\x00", b"\xff", b"=", b"\n[[smoke]]\n"])) + raw[position:]
    return raw


class FaultbookTomlSurface:
    name = "faultbook_toml"
    strategy = faultbook_tomls()

    def __init__(self, work: Path) -> None:
        self.work = work

    def probe(self, data: bytes) -> str:
        from faultbook.cli.check_cmd import check_command
        from faultbook.config import load_settings
        from faultbook.errors import FaultbookError
        from faultbook.netprobe.targets import network_settings_from_settings
        from faultbook.services.health import load_health_checks

        folder = Path(tempfile.mkdtemp(dir=self.work))
        try:
            shutil.copy(QV_TOML, folder / "wrangler.toml")
            (folder / "faultbook.toml").write_bytes(data)
            environ = {"FAULTBOOK_DATABASE_URL": f"sqlite:///{folder / 'l.db'}"} if b"database_url" not in data else {}
            outcome = "loaded"
            try:
                settings = load_settings(folder, environ)
                network_settings_from_settings(settings)
                load_health_checks(settings)
            except FaultbookError as exc:
                outcome = "refused: " + _gist(exc)
            else:
                stdout, stderr, code = check_command(str(folder), offline=True, settings=settings)
                if code not in (0, 1, 2):
                    raise Crash(f"check exit {code}: {stderr[-500:]}")
                outcome += f", check exit {code}"
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return outcome


# ---------------------------------------------------------------- the CLI

FIELD_OPTIONS = {
    "--title": HOSTILE_TEXT, "--occurred-at": ISO_TIMES, "--component": HOSTILE_TEXT,
    "--component-detail": HOSTILE_TEXT, "--step": HOSTILE_TEXT, "--error-message": st.one_of(HOSTILE_TEXT, st.just("-")),
    "--error-message-file": st.sampled_from(["-", "DIR", "MISSING", "/dev/null", "GARBAGE", "SEED"]),
    "--root-cause": HOSTILE_TEXT, "--resolution": HOSTILE_TEXT,
    "--status": st.one_of(st.sampled_from(["open", "resolved", "workaround", "Resolved", "✅ Resolved"]), HOSTILE_TEXT),
    "--lessons-learned": HOSTILE_TEXT, "--json": None,
}
PATHS = st.sampled_from(["DIR", "MISSING", "/dev/null", "GARBAGE", "SEED", "", "NEW", "LINK", "DIR/NEW", "/dev/zero"])
COMMANDS: dict[str, tuple[list[Any], dict[str, Any]]] = {
    "record": ([], FIELD_OPTIONS),
    "update": ([NUMBER_TEXT], FIELD_OPTIONS),
    "list": ([], {"--status": HOSTILE_TEXT, "--component": HOSTILE_TEXT, "--text": st.one_of(HOSTILE_TEXT, st.just("x" * 50_000)),
                  "--potential": None, "--json": None}),
    "show": ([NUMBER_TEXT], {"--potential": None, "--json": None, "--markdown": None}),
    "import": ([PATHS.filter(lambda p: p != "/dev/zero")], {"--update": None}),
    "export": ([], {"-o": PATHS.filter(lambda p: p not in ("/dev/zero", "SEED"))}),
    "explain": ([HOSTILE_TEXT], {"--code": NUMBER_TEXT, "--component": HOSTILE_TEXT, "--endpoint": HOSTILE_TEXT,
                                 "--limit": NUMBER_TEXT, "--json": None}),
    "merge": ([NUMBER_TEXT, NUMBER_TEXT], {"--json": None}),
    "catalog": ([], {"--json": None}),
    "rules": ([st.one_of(HOSTILE_TEXT, st.sampled_from(["FB101", "fb101", "FB"]))], {}),
    "check": ([st.sampled_from([".", "DIR", "MISSING", "/dev/null", "SEED", "wrangler.toml"])],
              {"--env": HOSTILE_TEXT, "--format": st.one_of(st.sampled_from(["text", "json", "sarif", "github"]), HOSTILE_TEXT),
               "--fix": None, "--select": HOSTILE_TEXT, "--ignore": HOSTILE_TEXT,
               "--fail-on": st.one_of(st.sampled_from(["error", "warning"]), HOSTILE_TEXT), "--checklist": None}),
    "deployments": ([], {"--json": None, "--limit": NUMBER_TEXT}),
    "followups": ([], {"--all": None, "--json": None}),
    "bundle": ([NUMBER_TEXT], {"-o": PATHS.filter(lambda p: p not in ("/dev/zero", "SEED"))}),
    "token": ([st.sampled_from(["create", "list", "revoke"])], {"--role": HOSTILE_TEXT, "--name": HOSTILE_TEXT, "--json": None}),
    "db": ([st.sampled_from(["upgrade", "bogus"])], {}),
}


@st.composite
def cli_invocations(draw: Any) -> tuple[list[str], bytes]:
    command = draw(st.sampled_from(sorted(COMMANDS)))
    positional, options = COMMANDS[command]
    args = [command] + [draw(p) for p in positional]
    if command == "token" and args[1] == "revoke":
        args.append(draw(NUMBER_TEXT))
    for option in draw(st.lists(st.sampled_from(sorted(options) or ["--help"]), max_size=5, unique=True)):
        strategy = options.get(option)
        args.append(option)
        if strategy is not None:
            args.append(draw(strategy))
    if draw(st.integers(0, 29)) == 0:
        args.insert(draw(st.integers(0, len(args))), draw(st.sampled_from(["--bogus", "--", "-x", "\udcff"])))
    stdin = draw(st.one_of(st.binary(max_size=200), TEXT.map(lambda t: t.encode("utf-8"))))
    return args, stdin


class CliSurface:
    name = "cli"
    strategy = cli_invocations()

    def __init__(self, work: Path) -> None:
        self.work = work / "cli"
        self.work.mkdir()
        (self.work / "DIR").mkdir()
        (self.work / "GARBAGE").write_bytes(os.urandom(512))
        shutil.copy(SEED_DOC, self.work / "SEED")
        shutil.copy(QV_TOML, self.work / "wrangler.toml")
        (self.work / "LINK").symlink_to(self.work / "GARBAGE")
        self.environ = {"FAULTBOOK_DATABASE_URL": f"sqlite:///{self.work / 'ledger.db'}", "FAULTBOOK_PROJECT": "fuzz"}

    def probe(self, example: tuple[list[str], bytes]) -> str:
        from faultbook.cli import app as app_module

        args, stdin = example
        args = [str(self.work / a) if a in ("DIR", "MISSING", "GARBAGE", "SEED", "NEW", "LINK", "DIR/NEW") else a
                for a in args]
        if "--fix" in args and "check" in args[:1]:
            shutil.copy(QV_TOML, self.work / "wrangler.toml")
        state = app_module.state
        state.__init__()
        state._settings = None
        state._db = None
        state.project = None
        out, err = io.StringIO(), io.StringIO()
        fake_stdin = io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8")
        saved = {k: os.environ.get(k) for k in self.environ}
        os.environ.update(self.environ)
        cwd = os.getcwd()
        os.chdir(self.work)
        old_stdin = sys.stdin
        sys.stdin = fake_stdin
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                code = app_module.main(args)
        finally:
            sys.stdin = old_stdin
            os.chdir(cwd)
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
        text = err.getvalue()
        if code == 70 or "Traceback" in text or "FAULTBOOK_DEBUG=1" in text:
            raise Crash(f"faultbook {args!r} exit {code}: {text[-800:]}")
        return f"exit {code}"


# ---------------------------------------------------------------- the API

JSON_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), NUMBERS, st.floats(allow_nan=False, allow_infinity=False), HOSTILE_TEXT, ISO_TIMES),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(TEXT, inner, max_size=3)), max_leaves=8)
FAILURE_FIELDS = {
    "title": HOSTILE_TEXT, "component": HOSTILE_TEXT, "component_detail": HOSTILE_TEXT, "step": HOSTILE_TEXT,
    "error_message": HOSTILE_TEXT, "root_cause": HOSTILE_TEXT, "resolution": HOSTILE_TEXT, "lessons_learned": HOSTILE_TEXT,
    "status": st.sampled_from(["open", "resolved", "workaround", "closed"]), "occurred_at": ISO_TIMES,
    "fingerprint": HOSTILE_TEXT, "error_code": NUMBERS,
}
DEPLOYMENT_FIELDS = {
    "key": st.one_of(st.uuids().map(str), HOSTILE_TEXT), "started_at": ISO_TIMES, "finished_at": ISO_TIMES,
    "command": HOSTILE_TEXT, "outcome": st.sampled_from(["running", "succeeded", "failed", "interrupted", "x"]),
    "component": HOSTILE_TEXT, "step": HOSTILE_TEXT, "environment": HOSTILE_TEXT, "cwd": HOSTILE_TEXT,
    "exit_code": NUMBERS, "git_commit": HOSTILE_TEXT, "git_branch": HOSTILE_TEXT, "git_dirty": st.booleans(),
    "config_hash": HOSTILE_TEXT, "version_id": HOSTILE_TEXT, "url": HOSTILE_TEXT,
}


def _shaped(fields: dict[str, Any], required: tuple[str, ...] = ()) -> Any:
    """Dicts with the schema's keys (values of the right kind or any JSON), sometimes an unknown key."""
    typed = st.fixed_dictionaries({k: fields[k] for k in required}, optional={k: v for k, v in fields.items()
                                                                              if k not in required})
    loose = st.dictionaries(st.sampled_from(sorted(fields)) | TEXT, JSON_VALUES, max_size=5)
    return st.one_of(typed, typed, typed, loose)


API_CALLS = st.one_of(
    st.tuples(st.just("POST"), st.just("/api/v1/failures"), _shaped(FAILURE_FIELDS, ("title", "component"))),
    st.tuples(st.just("PATCH"), NUMBER_TEXT.map(lambda n: f"/api/v1/failures/{n}"), _shaped(FAILURE_FIELDS)),
    st.tuples(st.just("POST"), st.just("/api/v1/reports"), st.fixed_dictionaries(
        {"deployment": _shaped(DEPLOYMENT_FIELDS, ("key", "started_at", "command"))},
        optional={"failure": _shaped(FAILURE_FIELDS, ("title", "component")), "output_tail": HOSTILE_TEXT,
                  "host": HOSTILE_TEXT})),
    st.tuples(st.just("POST"), st.just("/api/v1/deployments"), _shaped(DEPLOYMENT_FIELDS, ("key", "started_at", "command"))),
    st.tuples(st.just("POST"), st.just("/api/v1/explain"), _shaped(
        {"text": HOSTILE_TEXT, "code": NUMBERS, "endpoint": HOSTILE_TEXT, "limit": NUMBERS, "component": HOSTILE_TEXT},
        ("text",))),
    st.tuples(st.just("POST"), NUMBER_TEXT.map(lambda n: f"/api/v1/failures/{n}/merge"), _shaped({"other": NUMBERS})),
    st.tuples(st.just("POST"), st.just("/api/v1/tokens"), _shaped({"role": st.sampled_from(["reader", "writer", "admin", "x"]),
                                                                   "name": HOSTILE_TEXT})),
    st.tuples(st.just("POST"), NUMBER_TEXT.map(lambda n: f"/api/v1/followups/{n}/done"), st.none()),
    st.tuples(st.just("IMPORT"), st.just("/api/v1/import"), markdown_documents()),
    st.tuples(st.just("RAW"), st.sampled_from(["/api/v1/failures", "/api/v1/reports", "/api/v1/explain"]),
              st.one_of(st.binary(max_size=100), st.sampled_from([
                  b'{"title": "t", "component": "B", "error_code": ' + b"9" * 5000 + b"}",
                  b'{"title": "' + b"[" * 10_000 + b'"}', b"[" * 10_000 + b"]" * 10_000, b'{"title": "\\ud800"}',
                  b"null", b"", b'{"title": 1e999}']))),
    st.tuples(st.just("GET"), st.sampled_from(["/api/v1/failures", "/api/v1/deployments", "/api/v1/metrics", "/failures",
                                               "/deployments", "/metrics", "/api/v1/potential-failures", "/api/v1/catalog",
                                               "/api/v1/followups", "/export.md"]),
              st.dictionaries(st.sampled_from(["q", "status", "component", "since", "until", "sort", "limit", "offset",
                                               "weeks", "outcome", "all"]),
                              st.one_of(HOSTILE_TEXT, ISO_TIMES, NUMBER_TEXT), max_size=4)),
    st.tuples(st.just("GET"), NUMBER_TEXT.map(lambda n: f"/api/v1/failures/{n}"), st.just({})),
    st.tuples(st.just("GET"), NUMBER_TEXT.map(lambda n: f"/failures/{n}"), st.just({})),
)


class ApiSurface:
    name = "api"
    strategy = API_CALLS

    def __init__(self, work: Path) -> None:
        from fastapi.testclient import TestClient

        from faultbook.config import Settings
        from faultbook.services import tokens
        from faultbook.services.ledger import ProjectRef
        from faultbook.store.db import Database
        from faultbook.web.app import create_app

        self.database = Database(f"sqlite:///{work / 'api.db'}")
        project = ProjectRef(key="fuzz", name="Fuzz")
        settings = Settings(project_root=work, project_key=project.key, project_name=project.name,
                            database_url=self.database.url, environ={})
        with self.database.session(write=True) as session:
            secret = tokens.create_token(session, role="admin", name="fuzz", project=project.key).secret
        app = create_app(database=self.database, settings=settings, project=project, host="0.0.0.0")
        self.client = TestClient(app, raise_server_exceptions=False)
        self.client.__enter__()
        self.headers = {"Authorization": f"Bearer {secret}"}

    def probe(self, call: tuple[str, str, Any]) -> str:
        method, path, body = call
        try:
            if method == "GET":
                response = self.client.get(path, params=body, headers=self.headers)
            elif method == "IMPORT":
                response = self.client.post(path, content=body, headers={**self.headers, "Content-Type": "text/markdown"})
            elif method == "RAW":
                response = self.client.post(path, content=body, headers={**self.headers, "Content-Type": "application/json"})
            else:
                response = self.client.request(method, path, json=body, headers=self.headers)
        except UnicodeEncodeError:
            return "not sendable"  # a lone surrogate in a URL: no HTTP client can send it
        if response.status_code >= 500:
            raise Crash(f"{method} {path} {body!r:.300} -> {response.status_code}: {response.text[:500]}")
        return f"HTTP {response.status_code}"

    def close(self) -> None:
        self.client.__exit__(None, None, None)
        self.database.dispose()


SURFACES: dict[str, Callable[[Path], Any]] = {
    "markdown": MarkdownSurface,
    "wrangler": WranglerSurface,
    "faultbook_toml": FaultbookTomlSurface,
    "cli": CliSurface,
    "api": ApiSurface,
}


def fuzz(name: str, *, examples: int, seed: int | None = None, work: Path | None = None,
         progress: bool = False) -> dict[str, Any]:
    """Run one surface for ``examples`` generated inputs; returns its figures.  Raises on the first crash."""
    owned = work is None
    work = Path(tempfile.mkdtemp(prefix=f"fuzz-{name}-")) if work is None else work
    surface = SURFACES[name](work)
    outcomes: collections.Counter[str] = collections.Counter()
    started = time.perf_counter()

    @settings(max_examples=examples, deadline=None, database=None, derandomize=seed is None,
              phases=(Phase.generate, Phase.shrink), suppress_health_check=list(HealthCheck))
    @given(surface.strategy)
    def run(example: Any) -> None:
        try:
            outcomes[surface.probe(example)] += 1
            done = sum(outcomes.values())
            if progress and done % 1000 == 0:
                print(json.dumps({"surface": name, "progress": done,
                                  "seconds": round(time.perf_counter() - started, 1)}), flush=True)
        except Crash:
            raise
        except Exception as exc:
            raise Crash(f"{type(exc).__name__}: {exc}\n{traceback.format_exc()[-1500:]}") from None

    if seed is not None:
        run = hypothesis_seed(seed)(run)
    try:
        run()
    finally:
        if hasattr(surface, "close"):
            surface.close()
        if owned:
            shutil.rmtree(work, ignore_errors=True)
    elapsed = time.perf_counter() - started
    total = sum(outcomes.values())
    return {"surface": name, "examples": total, "seconds": round(elapsed, 1),
            "per_second": round(total / elapsed, 1) if elapsed else None, "outcomes": dict(outcomes.most_common())}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=10_000)
    parser.add_argument("--surface", action="append", choices=sorted(SURFACES))
    parser.add_argument("--seed", type=int)
    options = parser.parse_args()
    failed = False
    for name in options.surface or list(SURFACES):
        try:
            figures = fuzz(name, examples=options.examples, seed=options.seed, progress=True)
        except Crash as crash:
            failed = True
            print(f"{name}: CRASH\n{crash}", file=sys.stderr)
            continue
        print(json.dumps(figures, ensure_ascii=False))
        sys.stdout.flush()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
