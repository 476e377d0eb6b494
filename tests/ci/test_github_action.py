"""The composite action in action.yml, run step by step against a simulated GitHub runner.

Each ``run:`` step is executed with bash as the runner would: ``${{ ... }}``
expressions resolved from the inputs and earlier steps' outputs, GITHUB_OUTPUT /
GITHUB_STEP_SUMMARY / GITHUB_PATH files, a pull_request event, and
GITHUB_API_URL pointing at a local emulation of the issue-comment endpoints.
The install step is switched off (the wheel install is tested by CI itself);
the faultbook under test is on PATH.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

from conftest import ROOT

FAKE_WRANGLER = ROOT / "tests" / "capture" / "fake_wrangler.py"
EXPR = re.compile(r"\$\{\{\s*(.+?)\s*\}\}")


class CommentsAPI:
    """GET/POST /repos/{o}/{r}/issues/{n}/comments and PATCH /repos/{o}/{r}/issues/comments/{id}."""

    def __init__(self) -> None:
        self.comments: dict[int, dict] = {}
        self.calls: list[tuple[str, str]] = []
        self.tokens: list[str] = []
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # noqa: D401 - quiet
                pass

            def _reply(self, code, body):
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _body(self):
                return json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")

            def do_GET(self):
                api.calls.append(("GET", self.path))
                api.tokens.append(self.headers.get("Authorization", ""))
                self._reply(200, list(api.comments.values()))

            def do_POST(self):
                api.calls.append(("POST", self.path))
                new_id = 1000 + len(api.comments)
                api.comments[new_id] = {"id": new_id, "body": self._body()["body"]}
                self._reply(201, api.comments[new_id])

            def do_PATCH(self):
                api.calls.append(("PATCH", self.path))
                comment_id = int(self.path.rsplit("/", 1)[1])
                api.comments[comment_id]["body"] = self._body()["body"]
                self._reply(200, api.comments[comment_id])

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture()
def github_api():
    api = CommentsAPI()
    yield api
    api.server.shutdown()


def _outputs(path: Path) -> dict[str, str]:
    found: dict[str, str] = {}
    lines = path.read_text().splitlines() if path.exists() else []
    i = 0
    while i < len(lines):
        line = lines[i]
        if "<<" in line and "=" not in line.split("<<", 1)[0]:
            name, delimiter = line.split("<<", 1)
            value = []
            i += 1
            while lines[i] != delimiter:
                value.append(lines[i])
                i += 1
            found[name] = "\n".join(value)
        elif "=" in line:
            name, value = line.split("=", 1)
            found[name] = value
        i += 1
    return found


class Runner:
    """Runs action.yml's steps the way a composite action runs them."""

    def __init__(self, tmp: Path, workspace: Path, api: CommentsAPI, inputs: dict[str, str]) -> None:
        self.action = yaml.safe_load((ROOT / "action.yml").read_text())
        self.tmp = tmp
        self.workspace = workspace
        self.inputs = {name: str(spec.get("default", "")) for name, spec in self.action["inputs"].items()}
        self.inputs["github-token"] = "ghs_simulated_token"
        self.inputs.update(inputs)
        self.summary = tmp / "summary.md"
        event = tmp / "event.json"
        event.write_text(json.dumps({"pull_request": {"number": 7}}))
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("FAULTBOOK_", "GITHUB_"))},
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
            "PYTHONPATH": str(ROOT / "src"),
            "GITHUB_STEP_SUMMARY": str(self.summary),
            "GITHUB_EVENT_PATH": str(event),
            "GITHUB_API_URL": api.url,
            "GITHUB_REPOSITORY": "acme/shop",
            "GITHUB_SERVER_URL": "https://github.example",
            "GITHUB_RUN_ID": "42",
            "GITHUB_ACTION_PATH": str(ROOT),
            "RUNNER_TEMP": str(tmp),
            "CI": "true",
        }

    def _eval(self, expression: str, steps: dict[str, dict[str, str]]) -> str:
        if expression == "always()":
            return "true"
        match = re.fullmatch(r"inputs\.([\w-]+) == '(\w*)'", expression)
        if match:
            return "true" if self.inputs[match.group(1)] == match.group(2) else "false"
        if expression.startswith("inputs."):
            return self.inputs[expression[len("inputs."):]]
        match = re.fullmatch(r"steps\.([\w-]+)\.outputs\.([\w-]+)", expression)
        if match:
            return steps.get(match.group(1), {}).get(match.group(2), "")
        raise AssertionError(f"the simulation does not know the expression {expression!r}")

    def _sub(self, text: str, steps) -> str:
        return EXPR.sub(lambda m: self._eval(m.group(1), steps), str(text))

    def run(self) -> tuple[int, dict[str, str], str]:
        steps: dict[str, dict[str, str]] = {}
        stdout = ""
        failed = False
        for index, step in enumerate(self.action["runs"]["steps"]):
            condition = step.get("if")
            if condition is not None:
                if self._eval(condition.strip(), steps) != "true":
                    continue
            elif failed:
                continue
            output = self.tmp / f"output-{index}"
            output.touch()
            env = {**self.env, "GITHUB_OUTPUT": str(output), "GITHUB_PATH": str(self.tmp / "path")}
            env.update({k: self._sub(v, steps) for k, v in (step.get("env") or {}).items()})
            cwd = self.workspace / self._sub(step.get("working-directory", "."), steps)
            done = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", self._sub(step["run"], steps)], cwd=cwd, env=env,
                                  capture_output=True, text=True, timeout=180, stdin=subprocess.DEVNULL)
            stdout += done.stdout
            steps[step["id"]] = _outputs(output)
            if done.returncode != 0:
                failed = True
                last_code = done.returncode
        outputs = {name: self._sub(spec["value"], steps) for name, spec in self.action["outputs"].items()}
        return (last_code if failed else 0), outputs, stdout


@pytest.fixture()
def workspace(tmp_path):
    root = tmp_path / "repo"
    shutil.copytree(ROOT / "examples" / "quoteviral", root,
                    ignore=shutil.ignore_patterns("node_modules", ".faultbook", ".wrangler"))
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    return root


def _deploy(mode: str) -> str:
    return f"env FAKE_WRANGLER_MODE={mode} {sys.executable} {FAKE_WRANGLER} deploy"


def test_a_failed_deploy_is_summarised_annotated_commented_once_and_keeps_its_exit_code(tmp_path, workspace, github_api):
    runner = Runner(tmp_path, workspace, github_api, {"command": _deploy("images"), "install": "false"})
    code, outputs, stdout = runner.run()
    assert code == 1  # the fake wrangler's own exit code
    assert outputs["outcome"] == "failed" and outputs["exit-code"] == "1"
    assert outputs["failure-number"].isdigit()
    summary = runner.summary.read_text()
    assert "binding IMAGES has an unknown type Images [code: 10021]" in summary
    assert "Known fix" in summary
    errors = [line for line in stdout.splitlines() if line.startswith("::error title=faultbook%3A Failure #")]
    assert len(errors) == 1 and "[code: 10021]" in errors[0]
    assert len([line for line in stdout.splitlines() if line.startswith(("::error", "::notice"))]) <= 10
    assert outputs["sarif"] and json.loads(Path(outputs["sarif"]).read_text())["version"] == "2.1.0"
    [comment] = github_api.comments.values()
    assert comment["body"].startswith("<!-- faultbook:deploy -->") and "[code: 10021]" in comment["body"]
    assert github_api.tokens[0] == "Bearer ghs_simulated_token"

    # The same failure again: the same comment is edited, no second one; then a success updates it too.
    runner.run()
    assert [c for c in github_api.calls if c[0] == "POST"] == [("POST", "/repos/acme/shop/issues/7/comments")]
    assert "seen 2 times" in next(iter(github_api.comments.values()))["body"]
    ok = Runner(tmp_path, workspace, github_api, {"command": _deploy("ok"), "install": "false"})
    code, outputs, _ = ok.run()
    assert (code, outputs["outcome"], outputs["version-id"]) == (0, "succeeded", "11111111-2222-4333-8444-555555555555")
    [comment] = github_api.comments.values()
    assert "deployment succeeded" in comment["body"]


def test_a_success_without_an_earlier_comment_opens_none_and_a_broken_api_never_fails_the_job(tmp_path, workspace):
    runner = Runner(tmp_path, workspace, CommentsAPI(), {"command": _deploy("ok"), "install": "false", "check": "false"})
    code, outputs, _ = runner.run()
    assert (code, outputs["outcome"]) == (0, "succeeded")
    broken = Runner(tmp_path, workspace, CommentsAPI(), {"command": _deploy("images"), "install": "false"})
    broken.env["GITHUB_API_URL"] = "http://127.0.0.1:9"  # nothing listens there
    code, outputs, _ = broken.run()
    assert (code, outputs["outcome"]) == (1, "failed")


def test_a_command_that_is_not_found_keeps_exit_127(tmp_path, workspace, github_api):
    runner = Runner(tmp_path, workspace, github_api, {"command": "no-such-wrangler-xyz deploy", "install": "false",
                                                      "check": "false"})
    code, outputs, _ = runner.run()
    assert code == 127 and outputs["exit-code"] == "127"
