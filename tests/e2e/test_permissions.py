"""Preview knows what the deploy may do, through the real CLI: a principal without sessionsAcl:CREATE fails the
preview of an execution and of a trigger, writing nothing; WRITE scoped to another data set fails the preview of a
workflow in data set 123 and passes for its own; a principal that may not inspect its token gets one notice and a
deploy; a 403 at `up` names what the call needed."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pulumi_cdf_workflows.emulator import CdfEmulator

from .conftest import CDF_PROJECT, CLIENT_ID, CLIENT_SECRET, ProjectVenv, Workspace, describe, make_workspace

pytestmark = pytest.mark.e2e
ALL: dict[str, Any] = {"all": {}}
INSPECT = [{"projectsAcl": {"actions": ["LIST"], "scope": ALL}}, {"groupsAcl": {"actions": ["LIST"], "scope": ALL}}]
SESSIONS = {"sessionsAcl": {"actions": ["CREATE"], "scope": ALL}}

PROGRAM = """\
import pulumi

from pulumi_cdf_workflows import Workflow, WorkflowExecution, WorkflowTrigger, WorkflowVersion

config = pulumi.Config()
what = config.get("what") or "workflow"
if what == "workflow":
    Workflow("wf", external_id="perm", data_set_id=config.get_int("dataSet"))
elif what == "execution":
    WorkflowExecution("run", workflow_external_id="seeded", version="1")
elif what == "trigger":
    WorkflowTrigger(
        "nightly", external_id="nightly", workflow_external_id="seeded", workflow_version="1",
        trigger_rule={"triggerType": "schedule", "cronExpression": "0 2 * * *"},
    )
else:  # a stack of every kind, twice
    for i in range(2):
        Workflow(f"wf-{i}", external_id=f"perm-{i}")
        task = {"externalId": "t", "type": "function", "parameters": {"function": {"externalId": "fn"}}}
        WorkflowVersion(f"v-{i}", workflow_external_id="seeded", version=f"v{i}", workflow_definition={"tasks": [task]})
        WorkflowExecution(f"run-{i}", workflow_external_id="seeded", version="1", input={"i": i})
        WorkflowTrigger(
            f"nightly-{i}", external_id=f"nightly-{i}", workflow_external_id="seeded", workflow_version="1",
            trigger_rule={"triggerType": "schedule", "cronExpression": "0 2 * * *"},
        )
"""


def workflows(*actions: str, scope: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"workflowOrchestrationAcl": {"actions": list(actions), "scope": scope or ALL}}


@pytest.fixture
def emu() -> Iterator[CdfEmulator]:
    with CdfEmulator(clients={CLIENT_ID: CLIENT_SECRET}, task_duration=0.05) as emulator:
        emulator.upsert_workflow_version(CDF_PROJECT, "seeded", "1")
        yield emulator


@pytest.fixture
def workspace(emu: CdfEmulator, project_venv: ProjectVenv, tmp_path: Path, pulumi_cli: str) -> Workspace:
    made = make_workspace(emu, tmp_path, project_venv, name="permissions", program=PROGRAM)
    made.init_stack("dev")
    return made


def output_of(result: subprocess.CompletedProcess[str]) -> str:
    return result.stdout + result.stderr


def writes(emu: CdfEmulator) -> list[str]:
    return [r["path"] for r in emu.requests("POST") if r["path"].startswith("/api/") and "/list" not in r["path"]]


@pytest.mark.parametrize(("what", "operation"), [("execution", "run workflow execution 'seeded'"),
                                                 ("trigger", "create workflow trigger 'nightly'")])  # fmt: skip
def test_without_sessions_create_the_preview_fails_and_nothing_is_written(
    workspace: Workspace, emu: CdfEmulator, what: str, operation: str
) -> None:
    emu.set_capabilities(CLIENT_ID, [*INSPECT, workflows("READ", "WRITE")])
    workspace.pulumi("config", "set", "what", what, stack="dev")
    refused = workspace.pulumi("preview", stack="dev", ok=False)
    assert refused.returncode != 0, describe(refused)
    assert f"cannot {operation}: the deploying principal (client {CLIENT_ID}) lacks sessionsAcl:CREATE" in (
        output_of(refused)
    ), describe(refused)
    assert writes(emu) == []


def test_write_scoped_to_another_data_set_fails_a_workflow_in_data_set_123_and_passes_for_its_own(
    workspace: Workspace, emu: CdfEmulator
) -> None:
    emu.set_capabilities(CLIENT_ID, [*INSPECT, workflows("READ", "WRITE", scope={"datasetScope": {"ids": [7]}})])
    workspace.pulumi("config", "set", "dataSet", "123", stack="dev")
    refused = workspace.pulumi("up", "--yes", stack="dev", ok=False)
    assert "cannot create workflow 'perm' in data set 123" in output_of(refused), describe(refused)
    assert "lacks workflowOrchestrationAcl:WRITE scoped to data set 123" in output_of(refused), describe(refused)
    assert writes(emu) == []

    workspace.pulumi("config", "set", "dataSet", "7", stack="dev")
    workspace.pulumi("up", "--yes", stack="dev")
    assert emu.backend.get_workflow(CDF_PROJECT, "perm").data_set_id == 7


def test_a_principal_that_may_not_inspect_gets_one_notice_and_a_deploy(workspace: Workspace, emu: CdfEmulator) -> None:
    emu.set_capabilities(CLIENT_ID, [workflows("READ", "WRITE"), SESSIONS])
    workspace.pulumi("config", "set", "what", "execution", stack="dev")
    preview = workspace.pulumi("preview", stack="dev")
    diagnostics = output_of(preview).split("Diagnostics:")[-1]  # the progress rows show it too
    assert diagnostics.count("permissions were not checked before the deploy") == 1, describe(preview)
    assert "projectsAcl:LIST and groupsAcl:LIST" in output_of(preview)
    assert writes(emu) == []
    workspace.pulumi("up", "--yes", stack="dev")
    assert len(emu.executions(CDF_PROJECT)) == 1


def test_a_403_at_up_names_the_capability_the_call_needed(workspace: Workspace, emu: CdfEmulator) -> None:
    emu.set_capabilities(CLIENT_ID, [*INSPECT, workflows("READ", "WRITE")])
    workspace.pulumi("config", "set", "what", "execution", stack="dev")
    workspace.pulumi("config", "set", "cdf:validateOnPreview", "false", stack="dev")
    refused = workspace.pulumi("up", "--yes", stack="dev", ok=False)
    assert "CDF answered 403" in output_of(refused), describe(refused)
    assert "To run a workflow execution, the principal needs" in output_of(refused), describe(refused)
    assert "sessionsAcl:CREATE" in output_of(refused)
    assert emu.executions(CDF_PROJECT) == []


def test_a_preview_of_a_stack_of_every_kind_inspects_the_token_once(workspace: Workspace, emu: CdfEmulator) -> None:
    workspace.pulumi("config", "set", "what", "everything", stack="dev")
    preview = workspace.pulumi("preview", stack="dev")
    assert len(emu.requests("GET", r"/token/inspect$")) == 1, describe(preview)
    assert writes(emu) == []
