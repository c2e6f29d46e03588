"""End to end through the real `pulumi` CLI: preview, up, refresh, export and destroy against the emulator.

Skipped where the CLI is not on PATH. Every command runs with a file backend, a passphrase and a
PULUMI_HOME in temporary directories, so the developer's `pulumi login`, ~/.pulumi and stacks are untouched.
The tests share one stack and run in file order; each names what the previous ones left behind.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from pulumi_cdf_workflows.config import FIELDS, READ_TIMEOUT_ENV
from pulumi_cdf_workflows.emulator import CdfEmulator

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        shutil.which("pulumi") is None,
        reason=(
            "the pulumi CLI is not on PATH; install it (https://www.pulumi.com/docs/install/) "
            "to run the end-to-end tests"
        ),
    ),
]

PROJECT_NAME = "cdf-e2e"
CDF_PROJECT = "e2e"
CLIENT_ID = "e2e-client"
CLIENT_SECRET = "e2e-secret"
WORKFLOW = "e2e-wf"
VERSION = "1"
STACK = "dev"
RESOURCE_TYPE = "pulumi-python:dynamic/cdf:WorkflowExecution"
TERMINAL = ("COMPLETED", "FAILED", "TIMED_OUT", "TERMINATED")
# CDF settings in the developer's shell must not reach the provider: blank values count as unset.
CLEAN_CDF_ENV = {f.env_var: "" for f in FIELDS} | {READ_TIMEOUT_ENV: ""}

PROGRAM = """\
import pulumi

from pulumi_cdf_workflows import WorkflowExecution

config = pulumi.Config()
run = WorkflowExecution(
    "run",
    workflow_external_id="e2e-wf",
    version=config.get("version") or "1",
    input={"day": config.get("day") or "mon", "n": 1},
    wait_for_completion=config.get_bool("waitForCompletion") or False,
)
pulumi.export("executionId", run.execution_id)
pulumi.export("status", run.status)
"""


def pulumi_yaml(virtualenv: str) -> str:
    # json.dumps gives a double-quoted string, which is valid YAML whatever the path holds.
    return (
        f"name: {PROJECT_NAME}\n"
        "description: end-to-end test of pulumi-cdf-workflows\n"
        "runtime:\n"
        "  name: python\n"
        "  options:\n"
        "    toolchain: pip\n"
        f"    virtualenv: {json.dumps(virtualenv)}\n"
    )


@dataclass
class Workspace:
    """A Pulumi project directory, its private backend and PULUMI_HOME, and the emulator it deploys to."""

    emu: CdfEmulator
    project_dir: Path
    env: dict[str, str]

    def pulumi(self, *args: str, stack: str | None = STACK, ok: bool = True) -> subprocess.CompletedProcess[str]:
        """Runs `pulumi <args>` in the project directory; with `ok`, fails the test unless it exits 0."""
        command = ["pulumi", *args, "--non-interactive", "--color", "never"]
        if stack is not None:
            command += ["--stack", stack]
        result = subprocess.run(
            command,
            cwd=self.project_dir,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if ok:
            assert result.returncode == 0, describe(result)
        return result

    def configure_cdf(self, stack: str) -> None:
        self.pulumi("config", "set", "cdf:project", CDF_PROJECT, stack=stack)
        self.pulumi("config", "set", "cdf:baseUrl", self.emu.base_url, stack=stack)
        self.pulumi("config", "set", "cdf:tokenUrl", self.emu.token_url, stack=stack)
        self.pulumi("config", "set", "cdf:clientId", CLIENT_ID, stack=stack)
        self.pulumi("config", "set", "--secret", "cdf:clientSecret", CLIENT_SECRET, stack=stack)

    def init_stack(self, stack: str) -> None:
        self.pulumi("stack", "init", stack, "--secrets-provider", "passphrase", stack=None)
        self.configure_cdf(stack)

    def executions(self) -> list[dict[str, Any]]:
        return self.emu.executions(CDF_PROJECT)

    def run_requests(self) -> list[dict[str, Any]]:
        return self.emu.requests("POST", r"/workflows/.*/run$")

    def cancel_requests(self) -> list[dict[str, Any]]:
        return self.emu.requests("POST", r"/workflows/executions/[^/]+/cancel$")

    def stack_output(self, name: str) -> Any:
        return json.loads(self.pulumi("stack", "output", name, "--json").stdout)

    def export(self) -> dict[str, Any]:
        exported: dict[str, Any] = json.loads(self.pulumi("stack", "export").stdout)
        return exported

    def workflow_executions_in_state(self) -> list[dict[str, Any]]:
        resources: list[dict[str, Any]] = self.export()["deployment"].get("resources") or []
        return [r for r in resources if r.get("type") == RESOURCE_TYPE]


def describe(result: subprocess.CompletedProcess[str]) -> str:
    command = " ".join(str(a) for a in result.args)
    return f"`{command}` exited {result.returncode}\n--- stdout ---\n{result.stdout}\n--- stderr ---\n{result.stderr}"


def wait_until_ended(emu: CdfEmulator, execution_id: str, limit: float = 30.0) -> dict[str, Any]:
    """The emulator's record of the execution once it has left RUNNING (its tasks take 0.05 s)."""
    deadline = time.monotonic() + limit
    while True:
        (execution,) = [e for e in emu.executions(CDF_PROJECT) if e["id"] == execution_id]
        if execution["status"] in TERMINAL or time.monotonic() > deadline:
            return execution
        time.sleep(0.1)


@pytest.fixture(scope="module")
def emu() -> Iterator[CdfEmulator]:
    with CdfEmulator(clients={CLIENT_ID: CLIENT_SECRET}, task_duration=0.05) as emulator:
        emulator.upsert_workflow_version(CDF_PROJECT, WORKFLOW, VERSION)
        yield emulator


@pytest.fixture(scope="module")
def workspace(emu: CdfEmulator, tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    root = tmp_path_factory.mktemp("pulumi-e2e")
    project_dir, state_dir, home_dir = root / "project", root / "state", root / "home"
    for directory in (project_dir, state_dir, home_dir):
        directory.mkdir()
    # The program and the dynamic-provider plugin both run in the interpreter running these tests.
    virtualenv = str(Path(sys.prefix).resolve())
    (project_dir / "Pulumi.yaml").write_text(pulumi_yaml(virtualenv))
    (project_dir / "__main__.py").write_text(PROGRAM)

    env = {**os.environ, **CLEAN_CDF_ENV}
    env.pop("PULUMI_CONFIG_PASSPHRASE_FILE", None)  # the passphrase below must be the one used
    env.update(
        {
            "PULUMI_BACKEND_URL": state_dir.as_uri(),
            "PULUMI_CONFIG_PASSPHRASE": "e2e",
            "PULUMI_SKIP_UPDATE_CHECK": "true",
            "PULUMI_HOME": str(home_dir),
            "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
        }
    )
    ws = Workspace(emu, project_dir, env)
    ws.init_stack(STACK)
    return ws


def test_preview_shows_the_create_and_runs_nothing(workspace: Workspace) -> None:
    result = workspace.pulumi("preview")

    creates = [line for line in result.stdout.splitlines() if "cdf:WorkflowExecution" in line]
    assert any(re.search(r"\bcreate\b", line) for line in creates), describe(result)
    assert workspace.executions() == []
    assert workspace.run_requests() == []


def test_up_runs_the_workflow_exactly_once(workspace: Workspace) -> None:
    workspace.pulumi("up", "--yes")

    executions = workspace.executions()
    assert len(executions) == 1, executions
    assert len(workspace.run_requests()) == 1
    assert executions[0]["input"] == {"day": "mon", "n": 1}
    assert workspace.stack_output("executionId") == executions[0]["id"]


def test_a_second_up_runs_nothing(workspace: Workspace) -> None:
    workspace.pulumi("up", "--yes", "--expect-no-changes")

    assert len(workspace.executions()) == 1
    assert len(workspace.run_requests()) == 1


def test_a_changed_input_is_a_replacement_that_runs_again(workspace: Workspace) -> None:
    workspace.pulumi("config", "set", "day", "tue")

    preview = workspace.pulumi("preview", "--diff")
    assert "input" in preview.stdout, describe(preview)
    assert "replace" in preview.stdout, describe(preview)
    assert len(workspace.executions()) == 1  # a preview runs nothing

    workspace.pulumi("up", "--yes")
    executions = workspace.executions()
    assert len(executions) == 2, executions
    assert executions[-1]["input"] == {"day": "tue", "n": 1}
    assert workspace.stack_output("executionId") == executions[-1]["id"]


def test_refresh_records_the_final_status(workspace: Workspace) -> None:
    execution_id = workspace.stack_output("executionId")
    assert wait_until_ended(workspace.emu, execution_id)["status"] == "COMPLETED"

    workspace.pulumi("refresh", "--yes")

    (resource,) = workspace.workflow_executions_in_state()
    assert resource["id"] == execution_id
    assert resource["outputs"]["status"] == "COMPLETED"


def test_the_client_secret_is_never_stored_in_plaintext(workspace: Workspace) -> None:
    exported = workspace.pulumi("stack", "export")

    assert workspace.workflow_executions_in_state(), "nothing to check: the stack holds no WorkflowExecution"
    assert CLIENT_SECRET not in exported.stdout
    stack_config = (workspace.project_dir / f"Pulumi.{STACK}.yaml").read_text()
    assert CLIENT_SECRET not in stack_config


def test_destroy_forgets_the_executions_without_cancelling(workspace: Workspace) -> None:
    executions_before = len(workspace.executions())

    workspace.pulumi("destroy", "--yes")

    assert workspace.workflow_executions_in_state() == []
    assert workspace.cancel_requests() == []
    assert len(workspace.executions()) == executions_before  # CDF keeps its history


def test_a_mistyped_version_fails_at_preview_and_runs_nothing(workspace: Workspace) -> None:
    workspace.init_stack("typo")
    workspace.pulumi("config", "set", "version", "1x", stack="typo")
    runs_before, executions_before = len(workspace.run_requests()), len(workspace.executions())

    result = workspace.pulumi("up", "--yes", stack="typo", ok=False)

    output = result.stdout + result.stderr
    assert result.returncode != 0, describe(result)
    # The engine prints a check failure as "... property version ..." or "... property 'version' ...".
    assert re.search(r"property '?version'?", output), describe(result)
    assert "does not exist" in output, describe(result)
    assert "Previewing update" in result.stdout, describe(result)
    assert "Updating (" not in result.stdout, describe(result)
    assert len(workspace.run_requests()) == runs_before
    assert len(workspace.executions()) == executions_before
