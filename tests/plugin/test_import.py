"""`pulumi import` through the plugin: the engine calls Read with the id alone (no state, no inputs; the stack's
connection comes from provider config), then Check with the inputs Read returned. The program that declares
the same object must then plan no change, and an imported execution never runs again."""

from __future__ import annotations

from typing import Any

import pytest
from harness import PluginError, PluginProcess

from pulumi_cdf_workflows.cdf import CdfClient, ConnectionSettings
from pulumi_cdf_workflows.emulator import CdfEmulator

from .conftest import CDF_PROJECT, CLIENT_ID, CLIENT_SECRET, VERSION, WORKFLOW, urn

TASKS: list[dict[str, Any]] = [
    {"externalId": "t1", "type": "cdf", "parameters": {"cdfRequest": {"resourcePath": "/x", "method": "GET"}}}
]
DEFINITION = {"description": "nightly", "tasks": TASKS}
SCHEDULE = {"triggerType": "schedule", "cronExpression": "0 3 * * *"}


def elsewhere(emu: CdfEmulator) -> CdfClient:
    """Someone else's client (the Toolkit, a person): what they make is not in the stack."""
    return CdfClient(ConnectionSettings(project=CDF_PROJECT, base_url=emu.base_url, token_url=emu.token_url,
                                        client_id=CLIENT_ID, client_secret=CLIENT_SECRET))  # fmt: skip


def _import(plugin: PluginProcess, resource_urn: str, id_: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """What `pulumi import` does; returns (outputs, checked inputs) as the stack then holds them."""
    read = plugin.read(resource_urn, id_, None, None)
    assert read.id == id_
    assert read.inputs is not None
    checked = plugin.check(resource_urn, {}, read.inputs)
    assert checked.failures == []
    return read.outs, checked.inputs


def _plans_no_change(plugin: PluginProcess, resource_urn: str, id_: str, state: Any, program: dict[str, Any]) -> None:
    outs, inputs = state
    news = plugin.check(resource_urn, inputs, program).inputs
    diff = plugin.diff(resource_urn, id_, outs, news, old_inputs=inputs)
    assert (diff.changes, diff.replaces) == ("NONE", [])


def test_an_imported_workflow_is_read_by_external_id_and_the_same_program_plans_no_change(
    plugin: PluginProcess, emu: CdfEmulator
) -> None:
    elsewhere(emu).upsert_workflow("made-elsewhere", "theirs", max_concurrent_executions=5)
    resource = urn("Workflow", "imported")

    state = _import(plugin, resource, "made-elsewhere")

    assert state[1]["externalId"] == "made-elsewhere" and state[1]["maxConcurrentExecutions"] == 5
    assert state[0]["project"] == CDF_PROJECT
    program = {"externalId": "made-elsewhere", "description": "theirs", "maxConcurrentExecutions": 5.0}
    _plans_no_change(plugin, resource, "made-elsewhere", state, program)


def test_an_imported_workflow_version_is_read_by_workflow_slash_version(
    plugin: PluginProcess, emu: CdfEmulator
) -> None:
    elsewhere(emu).upsert_workflow_version("wf-2", "3", TASKS, "nightly")
    resource = urn("WorkflowVersion", "imported")

    state = _import(plugin, resource, "wf-2/3")

    assert (state[1]["workflowExternalId"], state[1]["version"]) == ("wf-2", "3")
    assert [t["externalId"] for t in state[1]["workflowDefinition"]["tasks"]] == ["t1"]
    program = {"workflowExternalId": "wf-2", "version": 3.0, "workflowDefinition": DEFINITION}
    _plans_no_change(plugin, resource, "wf-2/3", state, program)


def test_an_imported_trigger_is_read_by_external_id(plugin: PluginProcess, emu: CdfEmulator) -> None:
    emu.upsert_trigger(CDF_PROJECT, "nightly", WORKFLOW, VERSION, SCHEDULE)
    resource = urn("WorkflowTrigger", "imported")

    state = _import(plugin, resource, "nightly")

    assert state[1]["triggerRule"]["cronExpression"] == "0 3 * * *"
    program = {"externalId": "nightly", "triggerRule": SCHEDULE, "workflowExternalId": WORKFLOW,
               "workflowVersion": VERSION}  # fmt: skip
    _plans_no_change(plugin, resource, "nightly", state, program)


def test_an_imported_execution_is_never_run_again_and_destroy_leaves_it_alone(
    plugin: PluginProcess, emu: CdfEmulator
) -> None:
    started = elsewhere(emu).run(WORKFLOW, VERSION, {"days": 7}, {"by": "toolkit"}).id
    resource = urn("WorkflowExecution", "imported")

    outs, inputs = _import(plugin, resource, started)

    assert inputs["workflowExternalId"] == WORKFLOW and inputs["input"] == {"days": 7.0}
    assert inputs["metadata"] == {"by": "toolkit"}
    assert outs["executionId"] == started and inputs["cancelOnDelete"] is False
    program = {"workflowExternalId": WORKFLOW, "version": 1.0, "input": {"days": 7.0}, "metadata": {"by": "toolkit"}}
    _plans_no_change(plugin, resource, started, (outs, inputs), program)
    plugin.delete(resource, started, outs)
    assert [e["id"] for e in emu.executions(CDF_PROJECT)] == [started]  # one run: nothing ran, nothing cancelled


NO_SUCH_EXECUTION = "0f6d0000-0000-4000-8000-000000000000"


@pytest.mark.parametrize(("resource", "id_"), [("Workflow", "nope"), ("WorkflowExecution", NO_SUCH_EXECUTION)])
def test_importing_what_cdf_does_not_have_fails_and_says_so(plugin: PluginProcess, resource: str, id_: str) -> None:
    with pytest.raises(PluginError) as failed:
        plugin.read(urn(resource, "imported"), id_, None, None)

    assert "does not exist" in failed.value.details
    assert "Traceback" not in failed.value.details
