"""Workflow and WorkflowVersion through the real plugin against the emulator: check refuses bad definitions
without calling CDF, create and update upsert, diff compares by meaning, refresh reads, delete deletes."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from harness import PluginError, Registration, capture_registrations

from pulumi_cdf_workflows import Workflow, WorkflowVersion
from pulumi_cdf_workflows.emulator import CdfEmulator

from .conftest import CDF_PROJECT, VERSION, WORKFLOW, Stack, stack_config, start_stack

TASKS: list[dict[str, Any]] = [
    {"externalId": "extract", "type": "cdf", "parameters": {"cdfRequest": {"resourcePath": "/a", "method": "GET"}}},
    {
        "externalId": "load",
        "type": "function",
        "parameters": {"function": {"externalId": "loader", "data": {"days": 7}}},
        "dependsOn": [{"externalId": "extract"}],
    },
]


def workflow(**kwargs: Any) -> Registration:
    kwargs.setdefault("external_id", "deployed")

    def program() -> None:
        Workflow("wf", **kwargs)

    return capture_registrations(program, stack="dev")[0]


def version(tasks: list[dict[str, Any]] | None = None, **kwargs: Any) -> Registration:
    kwargs.setdefault("workflow_external_id", "deployed")
    kwargs.setdefault("version", "1")
    kwargs.setdefault("workflow_definition", {"description": "two steps", "tasks": tasks or TASKS})

    def program() -> None:
        WorkflowVersion("wf-v1", **kwargs)

    return capture_registrations(program, stack="dev")[0]


def deploy(stack: Stack, registration: Registration) -> tuple[str, dict[str, Any], dict[str, Any]]:
    checked = stack.plugin.check(registration.urn, {}, registration.engine_inputs)
    assert checked.failures == []
    id_, outs = stack.plugin.create(registration.urn, checked.inputs)
    return id_, outs, checked.inputs


def test_a_workflow_is_upserted_updated_in_place_read_and_deleted(stack: Stack) -> None:
    id_, outs, _ = deploy(stack, workflow(description="first", max_concurrent_executions=3))
    assert id_ == "deployed"
    assert (outs["description"], outs["max_concurrent_executions"], outs["project"]) == ("first", 3, CDF_PROJECT)
    assert stack.emu.backend.get_workflow(CDF_PROJECT, "deployed").max_concurrent_executions == 3

    changed = workflow(description="second", max_concurrent_executions=3)
    diff = stack.plugin.diff(changed.urn, id_, outs, changed.engine_inputs)
    assert (diff.changes, diff.replaces) == ("SOME", [])
    outs = stack.plugin.update(changed.urn, id_, outs, changed.engine_inputs)
    assert stack.emu.backend.get_workflow(CDF_PROJECT, "deployed").description == "second"

    renamed = workflow(external_id="renamed")
    assert stack.plugin.diff(renamed.urn, id_, outs, renamed.engine_inputs).replaces == ["external_id"]

    read = stack.plugin.read(changed.urn, id_, outs)
    assert read.id == id_ and read.outs["description"] == "second"
    stack.plugin.delete(changed.urn, id_, outs)
    assert "deployed" not in {w.external_id for w in stack.emu.backend.list_workflows(CDF_PROJECT, None, None)[0]}
    stack.plugin.delete(changed.urn, id_, outs)  # already gone: not an error
    assert stack.plugin.read(changed.urn, id_, outs).id is None  # refresh forgets it; `up` creates it again


def test_a_version_is_deployed_with_its_definition_and_hash(stack: Stack) -> None:
    id_, outs, _ = deploy(stack, version())

    stored = stack.emu.backend.get_version(CDF_PROJECT, "deployed", "1")
    assert id_ == "deployed/1"
    assert outs["definition_hash"] == stored.hash
    assert [t["externalId"] for t in outs["workflow_definition"]["tasks"]] == ["extract", "load"]
    assert outs["workflow_definition"]["tasks"][1]["parameters"]["function"]["data"] == {"days": 7}  # not 7.0


def test_a_definition_that_differs_only_in_form_is_no_change(stack: Stack) -> None:
    id_, outs, _ = deploy(stack, version())
    explicit = copy.deepcopy(TASKS)
    for task in explicit:
        task.update(retries=3, timeout=3600, onFailure="abortWorkflow")
        task.setdefault("dependsOn", [])
    explicit[1]["parameters"]["isAsyncComplete"] = False
    reordered = version([dict(reversed(list(t.items()))) for t in explicit])

    diff = stack.plugin.diff(reordered.urn, id_, outs, reordered.engine_inputs)

    assert diff.changes == "NONE"


def test_a_changed_task_updates_the_version_in_place_with_a_new_hash(stack: Stack) -> None:
    id_, outs, _ = deploy(stack, version())
    edited = copy.deepcopy(TASKS)
    edited[1]["parameters"]["function"]["data"] = {"days": 30}
    changed = version(edited)

    diff = stack.plugin.diff(changed.urn, id_, outs, changed.engine_inputs)
    assert (diff.changes, diff.replaces) == ("SOME", [])
    updated = stack.plugin.update(changed.urn, id_, outs, changed.engine_inputs)

    assert updated["definition_hash"] != outs["definition_hash"]
    assert updated["created_time"] == outs["created_time"]
    assert stack.plugin.diff(changed.urn, id_, updated, changed.engine_inputs).changes == "NONE"
    renamed = version(version="2")
    assert stack.plugin.diff(renamed.urn, id_, updated, renamed.engine_inputs).replaces == ["version"]


def test_refresh_and_delete_of_a_version(stack: Stack) -> None:
    registration = version()
    id_, outs, _ = deploy(stack, registration)

    assert stack.plugin.read(registration.urn, id_, outs).outs["definition_hash"] == outs["definition_hash"]
    stack.plugin.delete(registration.urn, id_, outs)
    assert stack.emu.requests("POST", r"/workflows/versions/delete")[0]["body"] == {
        "items": [{"workflowExternalId": "deployed", "version": "1"}]
    }
    assert stack.plugin.read(registration.urn, id_, outs).id is None


@pytest.mark.parametrize(
    ("tasks", "problem"),
    [
        ([{**TASKS[0], "type": "lambda"}], "tasks[0] 'extract': type must be one of function, transformation, cdf"),
        ([TASKS[0], TASKS[0]], "task 'extract' is defined 2 times"),
        ([TASKS[1]], "tasks[0] 'load': depends on 'extract', which is not a task of this version"),
        (
            [{**TASKS[0], "dependsOn": [{"externalId": "load"}]}, TASKS[1]],
            "tasks depend on each other in a cycle: extract -> load -> extract",
        ),
    ],
)
def test_check_refuses_a_bad_definition_naming_the_task_and_calls_no_one(
    stack: Stack, tasks: list[dict[str, Any]], problem: str
) -> None:
    registration = version(tasks)

    checked = stack.plugin.check(registration.urn, {}, registration.engine_inputs)

    # On no property, with the path in the reason: the engine would print the whole definition before it.
    assert [prop for prop, _ in checked.failures] == [""]
    assert checked.failures[0][1].startswith("workflow_definition.")
    assert problem in checked.failures[0][1]
    assert stack.emu.requests() == []


def test_create_refuses_what_check_refuses(stack: Stack) -> None:
    registration = version([TASKS[0], TASKS[0]])
    with pytest.raises(PluginError) as info:
        stack.plugin.create(registration.urn, registration.engine_inputs)
    assert "defined 2 times" in info.value.details
    assert "Traceback" not in info.value.details
    assert stack.emu.requests() == []


def test_get_of_a_workflow_that_does_not_exist_fails(stack: Stack) -> None:
    registration = workflow(external_id="nowhere")
    with pytest.raises(PluginError) as info:
        stack.plugin.read(registration.urn, "nowhere", None, registration.engine_inputs)
    assert f"workflow nowhere does not exist in CDF project '{CDF_PROJECT}'" in info.value.details


def test_get_reads_a_workflow_and_a_version_deployed_elsewhere(stack: Stack) -> None:
    def program() -> None:
        Workflow.get("found", WORKFLOW)
        WorkflowVersion.get("found-v1", WORKFLOW, VERSION)

    # Registrations arrive in no fixed order: pick them by type.
    by_type = {r.type.rsplit(":", 1)[1]: r for r in capture_registrations(program, stack="dev")}
    found_workflow, found_version = by_type["Workflow"], by_type["WorkflowVersion"]
    workflow_read = stack.plugin.read(found_workflow.urn, WORKFLOW, None, found_workflow.engine_inputs)
    version_read = stack.plugin.read(found_version.urn, f"{WORKFLOW}/{VERSION}", None, found_version.engine_inputs)

    assert workflow_read.id == WORKFLOW and workflow_read.outs["external_id"] == WORKFLOW
    stored = stack.emu.backend.get_version(CDF_PROJECT, WORKFLOW, VERSION)
    assert version_read.outs["definition_hash"] == stored.hash
    assert [t["externalId"] for t in version_read.outs["workflow_definition"]["tasks"]] == ["task-1"]


def _busy_workflow(stack: Stack, task_seconds: float) -> tuple[Registration, str, dict[str, Any]]:
    """A deployed workflow with one execution that runs for `task_seconds` per task."""
    registration = workflow()
    id_, outs, _ = deploy(stack, registration)
    deployed_version = version()
    version_id, version_outs, _ = deploy(stack, deployed_version)
    stack.emu.set_outcome("deployed", "1", "COMPLETED", task_duration=task_seconds)
    stack.up(workflow_external_id="deployed", version="1")
    stack.plugin.delete(deployed_version.urn, version_id, version_outs)  # destroy deletes the stack's versions first
    return registration, id_, outs


def test_deleting_a_workflow_waits_for_its_running_executions_then_deletes_it(stack: Stack) -> None:
    registration, id_, outs = _busy_workflow(stack, task_seconds=1.5)
    assert [e["status"] for e in stack.executions() if e["workflowExternalId"] == "deployed"] == ["RUNNING"]

    stack.plugin.delete(registration.urn, id_, outs)

    assert "deployed" not in {w.external_id for w in stack.emu.backend.list_workflows(CDF_PROJECT, None, None)[0]}
    assert [e["status"] for e in stack.executions() if e["workflowExternalId"] == "deployed"] == ["COMPLETED"]
    assert "waiting for 1 running execution(s) of workflow 'deployed' to end" in stack.plugin.stderr_text()


def test_a_workflow_whose_executions_outlast_the_wait_is_kept_and_the_error_says_what_to_do(emu: CdfEmulator) -> None:

    for stack in start_stack(emu, stack_config(emu, **{"cdf:deleteWaitSeconds": "0"})):
        registration, id_, outs = _busy_workflow(stack, task_seconds=30)
        with pytest.raises(PluginError) as caught:
            stack.plugin.delete(registration.urn, id_, outs)
        message = str(caught.value)
        assert "CDF refuses while its executions run" in message and "cancel_on_delete" in message
        running = [e for e in stack.executions() if e["workflowExternalId"] == "deployed"]
        assert running and running[0]["id"] in message
        assert stack.emu.backend.get_workflow(CDF_PROJECT, "deployed") is not None
        stack.emu.backend.cancel(CDF_PROJECT, running[0]["id"], {})
        stack.plugin.delete(registration.urn, id_, outs)  # nothing runs any more: the delete goes through
