"""Workflow, WorkflowVersion and WorkflowTrigger behaviours a user relies on that other tests did not pin: each
in-place update reaches CDF, a refresh changes nothing by itself and keeps what later steps need, a failed read
is never taken for "gone", and what already exists in CDF is compared by meaning."""

from __future__ import annotations

from typing import Any

import pytest
from harness import PluginError, Registration, capture_registrations

from pulumi_cdf_workflows import ClientCredentials, Workflow, WorkflowTrigger, WorkflowVersion
from pulumi_cdf_workflows.cdf import CdfClient, ConnectionSettings
from pulumi_cdf_workflows.cdf.models import CdfWorkflowTrigger
from pulumi_cdf_workflows.emulator.exceptions import NotFound

from .conftest import CDF_PROJECT, CLIENT_ID, VERSION, WORKFLOW, Stack

TASKS: list[dict[str, Any]] = [
    {"externalId": "extract", "type": "function", "parameters": {"function": {"externalId": "extract-fn"}}},
    {
        "externalId": "load",
        "type": "transformation",
        "parameters": {"transformation": {"externalId": "load-tx"}},
        "dependsOn": [{"externalId": "extract"}],
    },
]
NIGHTLY = {"triggerType": "schedule", "cronExpression": "0 2 * * *", "timezone": "Europe/Oslo"}
RUN_CLIENT, RUN_SECRET = "run-client", "run-secret-77"  # known to the emulator fixture


def register(resource: type[Any], name: str, **kwargs: Any) -> Registration:
    def program() -> None:
        resource(name, **kwargs)

    return capture_registrations(program, stack="dev")[0]


def workflow(**kwargs: Any) -> Registration:
    return register(Workflow, "wf", **{"external_id": "deployed", **kwargs})


def version(**kwargs: Any) -> Registration:
    defaults = {"workflow_external_id": "deployed", "version": "1", "workflow_definition": {"tasks": TASKS}}
    return register(WorkflowVersion, "wf-v1", **{**defaults, **kwargs})


def trigger(**kwargs: Any) -> Registration:
    defaults = {
        "external_id": "nightly",
        "trigger_rule": NIGHTLY,
        "workflow_external_id": WORKFLOW,
        "workflow_version": VERSION,
        "client_credentials": ClientCredentials(client_id=RUN_CLIENT, client_secret=RUN_SECRET),
    }
    return register(WorkflowTrigger, "nightly", **{**defaults, **kwargs})


def checked(stack: Stack, registration: Registration, olds: dict[str, Any] | None = None) -> dict[str, Any]:
    result = stack.plugin.check(registration.urn, olds or {}, registration.engine_inputs)
    assert result.failures == [], result.failures
    return result.inputs


def deploy(stack: Stack, registration: Registration) -> tuple[str, dict[str, Any], dict[str, Any]]:
    inputs = checked(stack, registration)
    id_, outs = stack.plugin.create(registration.urn, inputs)
    return id_, outs, inputs


def plan_and_apply(
    stack: Stack, registration: Registration, id_: str, outs: dict[str, Any], inputs: dict[str, Any]
) -> tuple[tuple[str, list[str]], dict[str, Any]]:
    """What `pulumi up` does with a changed program: check, diff, and update when diff says so."""
    news = checked(stack, registration, inputs)
    diff = stack.plugin.diff(registration.urn, id_, outs, news)
    updated = stack.plugin.update(registration.urn, id_, outs, news) if diff.changes == "SOME" else outs
    return (diff.changes, diff.replaces), updated


def cdf(stack: Stack) -> CdfClient:
    return CdfClient(ConnectionSettings(project=CDF_PROJECT, base_url=stack.emu.base_url, token="static-test"))


def trigger_in_cdf(stack: Stack, external_id: str = "nightly") -> CdfWorkflowTrigger:
    found = cdf(stack).retrieve_trigger(external_id)
    assert found is not None
    return found


def writes(stack: Stack, path: str) -> int:
    return len(stack.api_requests("POST", path))


# --- in-place updates reach CDF ---------------------------------------------------------------------------------


def test_a_changed_max_concurrent_executions_alone_updates_the_workflow_in_place_in_cdf(stack: Stack) -> None:
    id_, outs, inputs = deploy(stack, workflow(max_concurrent_executions=3))

    plan, updated = plan_and_apply(stack, workflow(max_concurrent_executions=7), id_, outs, inputs)

    assert plan == ("SOME", [])
    assert stack.emu.backend.get_workflow(CDF_PROJECT, "deployed").max_concurrent_executions == 7
    assert updated["max_concurrent_executions"] == 7


def test_a_first_description_is_an_update_that_cdf_gets(stack: Stack) -> None:
    id_, outs, inputs = deploy(stack, workflow())

    plan, updated = plan_and_apply(stack, workflow(description="nightly backfill"), id_, outs, inputs)

    assert plan == ("SOME", [])
    assert stack.emu.backend.get_workflow(CDF_PROJECT, "deployed").description == "nightly backfill"
    assert updated["description"] == "nightly backfill"


def test_a_removed_description_is_cleared_in_cdf(stack: Stack) -> None:
    id_, outs, inputs = deploy(stack, workflow(description="old words"))

    plan, _ = plan_and_apply(stack, workflow(), id_, outs, inputs)

    assert plan == ("SOME", [])
    assert stack.emu.backend.get_workflow(CDF_PROJECT, "deployed").description is None


def test_a_trigger_pointed_at_another_version_is_updated_in_place_and_cdf_runs_that_version(stack: Stack) -> None:
    stack.emu.upsert_workflow_version(CDF_PROJECT, WORKFLOW, "2")
    id_, outs, inputs = deploy(stack, trigger())

    plan, updated = plan_and_apply(stack, trigger(workflow_version="2"), id_, outs, inputs)

    assert plan == ("SOME", [])
    assert trigger_in_cdf(stack).workflow_version == "2"
    assert updated["workflow_version"] == "2"
    assert updated["created_time"] == outs["created_time"]  # the same trigger, not a new one


def test_a_changed_trigger_input_reaches_cdf_and_removed_metadata_is_cleared(stack: Stack) -> None:
    id_, outs, inputs = deploy(stack, trigger(input={"days": 1}, metadata={"team": "data"}))

    plan, _ = plan_and_apply(stack, trigger(input={"days": 30}), id_, outs, inputs)

    assert plan == ("SOME", [])
    found = trigger_in_cdf(stack)
    assert (found.input, found.metadata or None) == ({"days": 30}, None)


def test_changing_only_adopt_on_a_trigger_writes_nothing_and_binds_no_session(stack: Stack) -> None:
    id_, outs, inputs = deploy(stack, trigger())
    sessions = len(stack.emu.sessions(CDF_PROJECT))

    plan, updated = plan_and_apply(stack, trigger(adopt=True), id_, outs, inputs)

    assert plan == ("SOME", [])
    assert updated["adopt"] is True
    assert writes(stack, r"/workflows/triggers$") == 1  # only the create
    assert len(stack.emu.sessions(CDF_PROJECT)) == sessions


def test_a_version_moved_to_another_project_is_replaced(stack: Stack) -> None:
    id_, outs, inputs = deploy(stack, version())
    moved = version(connection={"project": "elsewhere"})
    news = checked(stack, moved, inputs)

    diff = stack.plugin.diff(moved.urn, id_, outs, news)

    assert (diff.changes, diff.replaces) == ("SOME", ["connection"])


# --- refresh changes nothing by itself, and keeps what later steps need ---------------------------------------


def test_a_schedule_written_without_a_timezone_plans_nothing_after_a_refresh(stack: Stack) -> None:
    rule = {"triggerType": "schedule", "cronExpression": "0 2 * * *"}
    registration = trigger(trigger_rule=rule)
    id_, outs, inputs = deploy(stack, registration)

    read = stack.plugin.read(registration.urn, id_, outs)
    assert read.outs["trigger_rule"]["timezone"] == "UTC"  # CDF fills it in
    diff = stack.plugin.diff(registration.urn, id_, read.outs, checked(stack, trigger(trigger_rule=rule), inputs))

    assert (diff.changes, diff.replaces) == ("NONE", [])


def test_a_destroy_after_a_refresh_still_deletes_what_the_resource_created(stack: Stack) -> None:
    registration = workflow()
    id_, outs, _ = deploy(stack, registration)

    read = stack.plugin.read(registration.urn, id_, outs)
    assert read.outs["claim_id"] == outs["claim_id"]
    stack.plugin.delete(registration.urn, id_, read.outs)

    with pytest.raises(NotFound):
        stack.emu.backend.get_workflow(CDF_PROJECT, "deployed")


def test_a_version_updated_after_a_refresh_reaches_cdf_with_a_new_hash(stack: Stack) -> None:
    registration = version()
    id_, outs, inputs = deploy(stack, registration)
    read = stack.plugin.read(registration.urn, id_, outs)
    edited = [TASKS[0], {**TASKS[1], "retries": 5}]

    plan, updated = plan_and_apply(stack, version(workflow_definition={"tasks": edited}), id_, read.outs, inputs)

    assert plan == ("SOME", [])
    stored = stack.emu.backend.get_version(CDF_PROJECT, "deployed", "1")
    assert [t["retries"] for t in stored.tasks] == [3, 5]
    assert updated["definition_hash"] == stored.hash != outs["definition_hash"]


def test_a_refreshed_trigger_still_notices_a_rotated_secret_and_nothing_else(stack: Stack) -> None:
    registration = trigger()
    id_, outs, inputs = deploy(stack, registration)
    read = stack.plugin.read(registration.urn, id_, outs)

    same = stack.plugin.diff(registration.urn, id_, read.outs, checked(stack, trigger(), inputs))
    rotated = trigger(client_credentials=ClientCredentials(client_id=RUN_CLIENT, client_secret="rotated"))
    changed = stack.plugin.diff(rotated.urn, id_, read.outs, checked(stack, rotated, inputs))

    assert same.changes == "NONE"
    assert (changed.changes, changed.replaces) == ("SOME", [])


def test_a_change_made_in_cdf_shows_as_a_diff_after_a_refresh(stack: Stack) -> None:
    registration = workflow(max_concurrent_executions=3)
    id_, outs, inputs = deploy(stack, registration)
    stack.emu.backend.upsert_workflow(CDF_PROJECT, [{"externalId": "deployed", "maxConcurrentExecutions": 50}])

    read = stack.plugin.read(registration.urn, id_, outs)
    plan, _ = plan_and_apply(stack, workflow(max_concurrent_executions=3), id_, read.outs, inputs)

    assert read.outs["max_concurrent_executions"] == 50
    assert plan == ("SOME", [])
    assert stack.emu.backend.get_workflow(CDF_PROJECT, "deployed").max_concurrent_executions == 3


def test_a_version_deleted_in_cdf_comes_back_with_the_same_hash(stack: Stack) -> None:
    registration = version()
    id_, outs, _ = deploy(stack, registration)
    stack.emu.backend.delete_versions(CDF_PROJECT, [{"workflowExternalId": "deployed", "version": "1"}], False)

    assert stack.plugin.read(registration.urn, id_, outs).id is None
    _, again, _ = deploy(stack, version())

    assert again["definition_hash"] == outs["definition_hash"]  # executions that follow it do not run again


# --- a read that fails is never "gone" -----------------------------------------------------------------------


READ_PATHS = {"workflow": r"/workflows/deployed$", "version": r"/versions/", "trigger": r"/workflows/triggers$"}


@pytest.mark.parametrize("kind", list(READ_PATHS))
@pytest.mark.parametrize(("status", "times"), [(400, 1), (500, 1), (503, 10)], ids=["400", "500", "503-retried"])
def test_a_refresh_that_cdf_refuses_fails_with_a_message_and_never_forgets_the_resource(
    stack: Stack, kind: str, status: int, times: int
) -> None:
    registration = {"workflow": workflow, "version": version, "trigger": trigger}[kind]()
    id_, outs, _ = deploy(stack, registration)
    stack.emu.inject_fault("GET", READ_PATHS[kind], status=status, times=times)

    with pytest.raises(PluginError) as caught:
        stack.plugin.read(registration.urn, id_, outs)

    assert f"Could not read workflow {'' if kind == 'workflow' else kind + ' '}{id_}" in caught.value.details
    assert str(status) in caught.value.details
    assert "Traceback" not in caught.value.details


def test_a_create_that_cannot_read_whether_the_version_exists_fails_and_writes_nothing(stack: Stack) -> None:
    stack.emu.inject_fault("GET", r"/versions/", status=400)
    registration = version()

    with pytest.raises(PluginError) as caught:
        stack.plugin.create(registration.urn, checked(stack, registration))

    assert "could not read whether it exists" in caught.value.details
    assert writes(stack, r"/workflows/versions$") == 0


# --- delete ------------------------------------------------------------------------------------------------------


def test_a_version_destroyed_twice_is_not_an_error(stack: Stack) -> None:
    registration = version()
    id_, outs, _ = deploy(stack, registration)

    stack.plugin.delete(registration.urn, id_, outs)
    stack.plugin.delete(registration.urn, id_, outs)  # the engine retries a delete whose reply it lost

    with pytest.raises(NotFound):
        stack.emu.backend.get_version(CDF_PROJECT, "deployed", "1")


# --- what already exists in CDF ---------------------------------------------------------------------------------


def test_an_identical_trigger_that_exists_is_taken_over_with_a_session_of_this_stack(stack: Stack) -> None:
    stack.emu.upsert_trigger(CDF_PROJECT, "nightly", WORKFLOW, VERSION, NIGHTLY)
    before = {s["id"] for s in stack.emu.sessions(CDF_PROJECT)}

    _, outs, _ = deploy(stack, trigger())

    bound = [s for s in stack.emu.sessions(CDF_PROJECT) if s["id"] not in before]
    assert [s["clientId"] for s in bound] == [RUN_CLIENT]  # runs as this program's credentials from now on
    assert writes(stack, r"/workflows/triggers$") == 1
    assert "took into the stack workflow trigger nightly" in stack.plugin.stderr_text()
    assert outs["adopt"] is False


def test_a_version_that_exists_written_differently_but_meaning_the_same_is_taken_in_without_a_write(
    stack: Stack,
) -> None:
    stack.emu.upsert_workflow_version(CDF_PROJECT, "deployed", "1", tasks=TASKS)
    spelled_out = [
        {**dict(reversed(list(TASKS[1].items()))), "retries": 3, "timeout": 3600, "onFailure": "abortWorkflow"},
        {**TASKS[0], "dependsOn": []},
    ]

    id_, outs, _ = deploy(stack, version(workflow_definition={"tasks": spelled_out}))

    assert id_ == "deployed/1"
    assert outs["definition_hash"] == stack.emu.backend.get_version(CDF_PROJECT, "deployed", "1").hash
    assert writes(stack, r"/workflows/versions$") == 0


def test_a_trigger_that_exists_without_a_timezone_matches_a_program_that_says_utc(stack: Stack) -> None:
    stack.emu.upsert_trigger(CDF_PROJECT, "nightly", WORKFLOW, VERSION, "0 2 * * *")
    rule = {"triggerType": "schedule", "cronExpression": "0 2 * * *", "timezone": "UTC"}

    id_, _, _ = deploy(stack, trigger(trigger_rule=rule))  # no "differs from this program"

    assert id_ == "nightly"
    assert [s.get("clientId") for s in stack.emu.sessions(CDF_PROJECT)][-1] == RUN_CLIENT


def test_a_trigger_without_client_credentials_runs_as_the_connections_client(stack: Stack) -> None:
    deploy(stack, trigger(client_credentials=None))
    assert [s["clientId"] for s in stack.emu.sessions(CDF_PROJECT)] == [CLIENT_ID]
