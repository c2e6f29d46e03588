"""WorkflowExecution behaviours, and secrets of all four resources, that other tests did not pin: adding or
removing input or metadata runs the workflow again, so does a new definition hash, a lost reply is recovered
although CDF's clock runs behind, and a connection's secrets never come back in any resource's outputs."""

from __future__ import annotations

import json
from typing import Any

import pytest
from harness import Registration, capture_registrations

from pulumi_cdf_workflows import (
    CdfConnection,
    Workflow,
    WorkflowExecution,
    WorkflowTrigger,
    WorkflowVersion,
)

from .conftest import CDF_PROJECT, CLIENT_SECRET, VERSION, WORKFLOW, Stack

RUN_CLIENT, RUN_SECRET = "run-client", "run-secret-77"  # known to the emulator fixture
STATIC_TOKEN = "static-connection-token-5d1e"  # the emulator takes any static-* bearer token


def diff_against(stack: Stack, deployed_outs: dict[str, Any], registration: Registration) -> tuple[str, list[str]]:
    news = stack.check(registration)
    result = stack.plugin.diff(registration.urn, str(deployed_outs["execution_id"]), deployed_outs, news)
    return result.changes, result.replaces


# --- what runs the workflow again -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prop", "value"), [("metadata", {"team": "data"}), ("input", {"days": 7})], ids=["metadata", "input"]
)
def test_adding_input_or_metadata_to_an_execution_that_had_none_runs_it_again(
    stack: Stack, prop: str, value: dict[str, Any]
) -> None:
    run = stack.up()
    with_it: dict[str, Any] = {prop: value}
    assert diff_against(stack, run.outs, stack.register("run", **with_it)) == ("SOME", [prop])


@pytest.mark.parametrize(
    ("prop", "value"), [("metadata", {"team": "data"}), ("input", {"days": 7})], ids=["metadata", "input"]
)
def test_removing_input_or_metadata_runs_the_execution_again(stack: Stack, prop: str, value: dict[str, Any]) -> None:
    with_it: dict[str, Any] = {prop: value}
    run = stack.up("run", **with_it)
    assert diff_against(stack, run.outs, stack.register()) == ("SOME", [prop])


def linked_run(definition_hash: str) -> Registration:
    """An execution that follows a WorkflowVersion of the program, whose deployed hash is `definition_hash`."""

    def program() -> None:
        deployed = WorkflowVersion(
            "v1", workflow_external_id=WORKFLOW, version=VERSION, workflow_definition={"tasks": []}
        )
        WorkflowExecution("run", workflow_version=deployed)

    def outputs(registration: Registration) -> dict[str, Any]:
        return {"definition_hash": definition_hash} if registration.type.endswith(":WorkflowVersion") else {}

    registrations = capture_registrations(program, stack="dev", outputs=outputs)
    (run,) = [r for r in registrations if r.type.endswith(":WorkflowExecution")]
    return run


def test_a_new_definition_hash_replaces_the_execution_naming_definition_hash(stack: Stack) -> None:
    first = linked_run("HASH-A")
    inputs = stack.check(first)
    assert inputs["definition_hash"] == "HASH-A"
    id_, outs = stack.plugin.create(first.urn, inputs)

    edited = linked_run("HASH-B")
    result = stack.plugin.diff(edited.urn, id_, outs, stack.check(edited, inputs))
    unchanged = stack.plugin.diff(first.urn, id_, outs, stack.check(linked_run("HASH-A"), inputs))

    assert (result.changes, result.replaces) == ("SOME", ["definition_hash"])
    assert (unchanged.changes, unchanged.replaces) == ("NONE", [])


def test_a_refresh_keeps_the_definition_hash_so_the_next_up_runs_nothing(stack: Stack) -> None:
    registration = linked_run("HASH-A")
    inputs = stack.check(registration)
    id_, outs = stack.plugin.create(registration.urn, inputs)

    read = stack.plugin.read(registration.urn, id_, outs)

    assert read.inputs is not None and read.inputs["definition_hash"] == "HASH-A"
    diff = stack.plugin.diff(registration.urn, id_, read.outs, stack.check(linked_run("HASH-A"), read.inputs))
    assert diff.changes == "NONE"


# --- a lost reply, with CDF's clock behind ---------------------------------------------------------------------


def test_a_lost_reply_is_matched_to_its_execution_when_cdfs_clock_is_two_minutes_behind(stack: Stack) -> None:
    stack.emu.set_time(stack.emu.now() - 120_000)
    stack.emu.inject_fault("POST", r"/run$", when="after", drop=True)

    run = stack.up()

    (execution,) = stack.executions()
    assert run.id == execution["id"]
    assert len(stack.api_requests("POST", r"/run$")) == 1  # sent once: no second run
    assert "found execution" in stack.plugin.stderr_text()


# --- a connection's secrets never come back ---------------------------------------------------------------------


TASKS = [{"externalId": "t", "type": "function", "parameters": {"function": {"externalId": "f"}}}]
NIGHTLY = {"triggerType": "schedule", "cronExpression": "0 2 * * *"}
THE_FOUR: dict[str, tuple[type[Any], dict[str, Any]]] = {
    "Workflow": (Workflow, {"external_id": "secretive"}),
    "WorkflowVersion": (
        WorkflowVersion,
        {"workflow_external_id": "secretive", "version": "1", "workflow_definition": {"tasks": TASKS}},
    ),
    "WorkflowTrigger": (
        WorkflowTrigger,
        {"external_id": "secretive", "trigger_rule": NIGHTLY, "workflow_external_id": WORKFLOW,
         "workflow_version": VERSION},
    ),
    "WorkflowExecution": (WorkflowExecution, {"workflow_external_id": WORKFLOW, "version": VERSION}),
}  # fmt: skip
CONNECTIONS = {
    "client_secret": ({"client_id": RUN_CLIENT, "client_secret": RUN_SECRET}, RUN_SECRET),
    "token": ({"token": STATIC_TOKEN}, STATIC_TOKEN),
}


def registration_with_connection(kind: str, connection: dict[str, str]) -> Registration:
    resource, kwargs = THE_FOUR[kind]

    def program() -> None:
        resource("secretive", connection=CdfConnection(project=CDF_PROJECT, **connection), **kwargs)

    (registration,) = capture_registrations(program, stack="dev")
    return registration


@pytest.mark.parametrize("way", list(CONNECTIONS))
@pytest.mark.parametrize("kind", list(THE_FOUR))
def test_a_connections_secret_is_used_and_never_comes_back_in_outputs(stack: Stack, kind: str, way: str) -> None:
    connection, secret = CONNECTIONS[way]
    registration = registration_with_connection(kind, connection)

    _, outs = stack.plugin.create(registration.urn, stack.check(registration))

    for text in (json.dumps(outs), stack.plugin.stderr_text()):
        assert secret not in text
        assert CLIENT_SECRET not in text
    public = {k: v for k, v in connection.items() if k == "client_id"}
    assert outs["connection"] == {"project": CDF_PROJECT, **public}
    signed_in = {r["body"].get("client_id") for r in stack.api_requests("POST", r"/oauth2/token$")}
    assert signed_in == ({RUN_CLIENT} if way == "client_secret" else set())  # the connection's, not the stack's
