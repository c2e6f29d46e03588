"""The provider plugin `cdf-workflows` through the real CLI, where it does what the dynamic resources cannot:
`pulumi import`, partial state after a failed wait, and Ctrl-C recorded per resource.

A Python program declares the plugin's resources by token (`pulumi.CustomResource("cdf-workflows:index:...")`);
Pulumi.yaml points the engine at the virtualenv's `pulumi-resource-cdf-workflows`. The tests share one stack
and run in file order.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from harness import wait_until

from pulumi_cdf_workflows.cdf import CdfClient, ConnectionSettings
from pulumi_cdf_workflows.emulator import CdfEmulator

from .conftest import CDF_PROJECT, CLIENT_ID, CLIENT_SECRET, ProjectVenv, Workspace, describe, make_workspace

pytestmark = pytest.mark.e2e

TOKEN = "cdf-workflows:index:"
PROGRAM = """\
import json

import pulumi

config = pulumi.Config()
OUTPUTS = dict.fromkeys(["executionId", "status", "createFailed"])
for name, spec in json.loads(config.get("resources") or "{}").items():
    kind, props = spec
    extra = OUTPUTS if kind == "WorkflowExecution" else {}
    resource = pulumi.CustomResource("cdf-workflows:index:" + kind, name, {**extra, **props})
    if kind == "WorkflowExecution":
        pulumi.export(name + "Status", resource.status)
"""
RUN = {"workflowExternalId": "e2e-wf", "version": "1", "input": {"day": "tue"}, "waitForCompletion": True}


@pytest.fixture(scope="module")
def workspace(
    pulumi_cli: str, emu: CdfEmulator, project_venv: ProjectVenv, tmp_path_factory: pytest.TempPathFactory
) -> Workspace:
    made = make_workspace(emu, tmp_path_factory.mktemp("plugin-e2e"), project_venv, "cdf-plugin-e2e", PROGRAM)
    where = json.dumps(str(Path(sys.executable).parent))  # the virtualenv's bin: pulumi-resource-cdf-workflows
    plugins = f"plugins:\n  providers:\n    - name: cdf-workflows\n      path: {where}\n"
    with (made.project_dir / "Pulumi.yaml").open("a") as pulumi_yaml:
        pulumi_yaml.write(plugins)
    made.pulumi("stack", "init", "dev", "--secrets-provider", "passphrase", stack=None)
    for key, value in (("project", CDF_PROJECT), ("baseUrl", emu.base_url), ("clientId", CLIENT_ID)):
        made.pulumi("config", "set", f"cdf-workflows:{key}", value, stack="dev")
    made.pulumi("config", "set", "--plaintext", "cdf-workflows:tokenUrl", emu.token_url, stack="dev")
    made.pulumi("config", "set", "--secret", "cdf-workflows:clientSecret", CLIENT_SECRET, stack="dev")
    return made


def _program(workspace: Workspace, **resources: tuple[str, dict[str, Any]]) -> None:
    workspace.pulumi("config", "set", "resources", json.dumps(resources), stack="dev")


def _state(workspace: Workspace) -> dict[str, dict[str, Any]]:
    exported = json.loads(workspace.pulumi("stack", "export", stack="dev").stdout)
    resources = exported["deployment"].get("resources") or []
    return {r["urn"].rsplit("::", 1)[1]: r for r in resources if r["type"].startswith(TOKEN)}


def _operator(emu: CdfEmulator) -> CdfClient:
    return CdfClient(ConnectionSettings(project=CDF_PROJECT, base_url=emu.base_url, token_url=emu.token_url,
                                        client_id=CLIENT_ID, client_secret=CLIENT_SECRET))  # fmt: skip


def test_pulumi_import_brings_a_workflow_and_an_execution_under_management(
    workspace: Workspace, emu: CdfEmulator
) -> None:
    operator = _operator(emu)
    operator.upsert_workflow("made-by-hand", "theirs", max_concurrent_executions=3)
    started = operator.run("e2e-wf", "1", {"day": "mon"}).id
    wait_until(lambda: emu.executions(CDF_PROJECT)[0]["status"] == "COMPLETED", "the run to complete")
    _program(workspace)

    for kind, name, id_ in (("Workflow", "wf", "made-by-hand"), ("WorkflowExecution", "adopted", started)):
        workspace.pulumi("import", f"{TOKEN}{kind}", name, id_, "--yes", "--generate-code=false", stack="dev")

    state = _state(workspace)
    assert state["wf"]["id"] == "made-by-hand" and state["wf"]["inputs"]["maxConcurrentExecutions"] == 3
    assert state["adopted"]["id"] == started and state["adopted"]["outputs"]["status"] == "COMPLETED"
    _program(
        workspace,
        wf=("Workflow", {"externalId": "made-by-hand", "description": "theirs", "maxConcurrentExecutions": 3}),
        adopted=("WorkflowExecution", {"workflowExternalId": "e2e-wf", "version": "1", "input": {"day": "mon"}}),
    )
    workspace.pulumi("preview", "--expect-no-changes", stack="dev")
    workspace.pulumi("up", "--yes", "--expect-no-changes", stack="dev")
    assert [e["id"] for e in emu.executions(CDF_PROJECT)] == [started]  # never run again
    _program(workspace)
    workspace.pulumi("destroy", "--yes", stack="dev")
    assert emu.executions(CDF_PROJECT)[0]["status"] == "COMPLETED"


def test_a_failed_wait_is_recorded_and_the_next_up_runs_the_workflow_again(
    workspace: Workspace, emu: CdfEmulator
) -> None:
    emu.set_outcome("e2e-wf", "1", "FAILED", reason="bad row 17")
    before = len(emu.executions(CDF_PROJECT))
    _program(workspace, run=("WorkflowExecution", RUN))

    failed = workspace.pulumi("up", "--yes", stack="dev", ok=False)

    assert failed.returncode != 0, describe(failed)
    first = emu.executions(CDF_PROJECT)[before]
    assert f"Execution {first['id']} of workflow 'e2e-wf' version '1'" in failed.stdout + failed.stderr
    assert "The stack records it as it is" in failed.stdout + failed.stderr
    recorded = _state(workspace)["run"]
    assert recorded["id"] == first["id"] and recorded["outputs"]["status"] == "FAILED"
    assert recorded["outputs"]["createFailed"] == "ended unsuccessfully: FAILED"
    assert recorded.get("initErrors"), recorded
    workspace.pulumi("refresh", "--yes", stack="dev")

    emu.set_outcome("e2e-wf", "1", "COMPLETED")
    again = workspace.pulumi("up", "--yes", stack="dev")

    runs = emu.executions(CDF_PROJECT)[before:]
    assert len(runs) == 2, describe(again)
    now = _state(workspace)["run"]
    assert now["id"] == runs[1]["id"] and now["outputs"]["status"] == "COMPLETED" and not now.get("initErrors")
    workspace.pulumi("preview", "--expect-no-changes", stack="dev")


def test_ctrl_c_while_an_execution_waits_records_it_running(workspace: Workspace, emu: CdfEmulator) -> None:
    emu.set_outcome("e2e-wf", "1", "COMPLETED", task_duration=60)
    before = len(emu.executions(CDF_PROJECT))
    _program(workspace, run=("WorkflowExecution", RUN), slow=("WorkflowExecution", {**RUN, "input": {"day": "wed"}}))
    output = workspace.project_dir / "interrupted-up.log"
    with output.open("w") as out:
        command = workspace.command(("up", "--yes"), "dev")
        up = subprocess.Popen(command, cwd=workspace.project_dir, env=workspace.env, stdout=out,
                              stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
    try:
        wait_until(lambda: len(emu.executions(CDF_PROJECT)) > before, "the slow run to start", 60)
        time.sleep(2)
        interrupted = time.monotonic()
        os.killpg(up.pid, signal.SIGINT)
        up.wait(timeout=30)
    finally:
        if up.poll() is None:
            os.killpg(up.pid, signal.SIGKILL)
    text = output.read_text()

    assert time.monotonic() - interrupted < 15, text
    assert "was not cancelled; the stack records it" in text, text
    slow = emu.executions(CDF_PROJECT)[before]
    assert slow["status"] == "RUNNING"
    assert _state(workspace)["slow"]["id"] == slow["id"]
    emu.set_outcome("e2e-wf", "1", "COMPLETED")
