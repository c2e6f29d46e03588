"""Deployed resources with a production project: no perpetual diffs from `version=1`, no silent takeover of
what CDF already holds, no delete of an object that another resource of the same run manages now, no
destroy of versions or triggers the stack does not manage, and checks that refuse unencrypted URLs."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from harness import PluginError, Registration, capture_registrations

from pulumi_cdf_workflows import Workflow, WorkflowExecution, WorkflowTrigger, WorkflowVersion
from pulumi_cdf_workflows.emulator import CdfEmulator
from pulumi_cdf_workflows.emulator.exceptions import NotFound

from .conftest import CDF_PROJECT, CLIENT_ID, CLIENT_SECRET, Stack, delete_at_once, stack_config, start_stack

TASKS: list[dict[str, Any]] = [
    {"externalId": "extract", "type": "function", "parameters": {"function": {"externalId": "extract-fn"}}},
    {
        "externalId": "load",
        "type": "transformation",
        "parameters": {"transformation": {"externalId": "load-tx"}},
        "dependsOn": [{"externalId": "extract"}],
    },
]
NIGHTLY = {"triggerType": "schedule", "cronExpression": "0 2 * * *"}


def register(resource: type[Any], name: str, **kwargs: Any) -> Registration:
    def program() -> None:
        resource(name, **kwargs)

    return capture_registrations(program, stack="dev")[0]


def workflow(name: str = "wf", **kwargs: Any) -> Registration:
    return register(Workflow, name, **{"external_id": "deployed", **kwargs})


def version(name: str = "wf-v1", **kwargs: Any) -> Registration:
    defaults = {"workflow_external_id": "deployed", "version": "1", "workflow_definition": {"tasks": TASKS}}
    return register(WorkflowVersion, name, **{**defaults, **kwargs})


def checked(stack: Stack, registration: Registration, olds: dict[str, Any] | None = None) -> dict[str, Any]:
    result = stack.plugin.check(registration.urn, olds or {}, registration.engine_inputs)
    assert result.failures == [], result.failures
    return result.inputs


def deploy(stack: Stack, registration: Registration) -> tuple[str, dict[str, Any], dict[str, Any]]:
    inputs = checked(stack, registration)
    id_, outs = stack.plugin.create(registration.urn, inputs)
    return id_, outs, inputs


def next_up(emu: CdfEmulator) -> Iterator[Stack]:
    """A new plugin process, as the next `pulumi up` starts one."""
    return start_stack(emu, stack_config(emu))


def workflow_exists(emu: CdfEmulator, external_id: str = "deployed") -> bool:
    try:
        emu.backend.get_workflow(CDF_PROJECT, external_id)
    except NotFound:
        return False
    return True


def writes(stack: Stack, path: str) -> int:
    return len(stack.api_requests("POST", path))


# --- 1. a version written as a number ---------------------------------------------------------------------


def test_version_1_as_a_number_is_stored_as_the_string_cdf_uses_and_the_next_up_plans_nothing(stack: Stack) -> None:
    id_, outs, inputs = deploy(stack, version(version=1))
    assert inputs["version"] == "1"  # check's inputs are what the engine stores and diffs next time
    assert id_ == "deployed/1"

    again = version(version=1)
    diff = stack.plugin.diff(again.urn, id_, outs, checked(stack, again, inputs))
    assert (diff.changes, diff.replaces) == ("NONE", [])


def test_an_execution_of_version_1_as_a_number_does_not_run_again(stack: Stack) -> None:
    deployed = stack.up(version=1)
    assert deployed.inputs["version"] == "1"
    again = stack.register(version=1)
    diff = stack.plugin.diff(again.urn, deployed.id, deployed.outs, stack.check(again, deployed.inputs))
    assert (diff.changes, diff.replaces) == ("NONE", [])
    assert len(stack.executions()) == 1


def test_check_fills_execution_settings_so_a_row_diff_names_only_what_changed(stack: Stack) -> None:
    inputs = stack.check(stack.register())
    settings = (inputs["wait_for_completion"], inputs["timeout_seconds"], inputs["cancel_on_delete"])
    assert settings == (False, 3600, False)


# --- 2. objects that already exist ---------------------------------------------------------------------------


def test_an_identical_workflow_that_exists_is_taken_into_the_stack_without_a_write(stack: Stack) -> None:
    stack.emu.backend.upsert_workflow(CDF_PROJECT, [{"externalId": "deployed", "description": "same"}])
    id_, outs, _ = deploy(stack, workflow(description="same"))
    assert id_ == "deployed" and outs["description"] == "same"
    assert writes(stack, r"/workflows$") == 0
    assert "took into the stack workflow deployed, which already existed" in stack.plugin.stderr_text()


def test_a_differing_workflow_is_never_overwritten_and_create_names_the_difference_and_the_ways_out(
    stack: Stack,
) -> None:
    stack.emu.backend.upsert_workflow(CDF_PROJECT, [{"externalId": "deployed", "maxConcurrentExecutions": 5}])
    registration = workflow(description="mine")
    with pytest.raises(PluginError) as caught:
        stack.plugin.create(registration.urn, checked(stack, registration))
    message = caught.value.details
    assert "workflow deployed already exists in CDF project 'test-project' and differs" in message
    assert "max_concurrent_executions is 5 in CDF and not set in this program" in message
    assert "description is not set in CDF and 'mine' in this program" in message
    assert "aliases" in message and "Workflow.get(...)" in message and "adopt=True" in message
    assert "Traceback" not in message
    assert writes(stack, r"/workflows$") == 0
    assert stack.emu.backend.get_workflow(CDF_PROJECT, "deployed").max_concurrent_executions == 5


def test_adopt_takes_a_differing_workflow_over(stack: Stack) -> None:
    stack.emu.backend.upsert_workflow(CDF_PROJECT, [{"externalId": "deployed", "maxConcurrentExecutions": 5}])
    _, outs, _ = deploy(stack, workflow(description="mine", adopt=True))
    assert outs["adopt"] is True
    stored = stack.emu.backend.get_workflow(CDF_PROJECT, "deployed")
    assert (stored.description, stored.max_concurrent_executions) == ("mine", None)


def test_a_version_with_another_definition_is_refused_naming_the_tasks_that_differ(stack: Stack) -> None:
    stack.emu.upsert_workflow_version(CDF_PROJECT, "deployed", "1", tasks=[TASKS[0]])
    registration = version()
    with pytest.raises(PluginError) as caught:
        stack.plugin.create(registration.urn, checked(stack, registration))
    assert "workflow version deployed/1 already exists" in caught.value.details
    assert "only in this program: ['load']" in caught.value.details


def test_the_up_after_an_interrupted_one_completes_without_manual_steps(emu: CdfEmulator) -> None:
    # The first `up` wrote the workflow and version to CDF, then died before the stack recorded them.
    for stack in start_stack(emu, stack_config(emu)):
        deploy(stack, workflow(description="d"))
        deploy(stack, version())
    before = len(emu.requests("POST"))
    for stack in next_up(emu):
        wf_id, _, _ = deploy(stack, workflow(description="d"))
        version_id, version_outs, _ = deploy(stack, version())
        assert (wf_id, version_id) == ("deployed", "deployed/1")
        assert version_outs["definition_hash"] == emu.backend.get_version(CDF_PROJECT, "deployed", "1").hash
        assert [r["path"] for r in emu.requests("POST")[before:] if "oauth2" not in r["path"]] == []


def test_a_renamed_workflow_without_an_alias_stays_in_cdf(emu: CdfEmulator) -> None:
    for stack in start_stack(emu, stack_config(emu)):
        old_id, old_outs, _ = deploy(stack, workflow("old-name"))
    for stack in next_up(emu):  # the engine creates the new name, then deletes the old one
        renamed = workflow("new-name")
        deploy(stack, renamed)
        stack.plugin.delete(workflow("old-name").urn, old_id, old_outs)
        assert workflow_exists(emu)
        left = "left workflow deployed in CDF: dev/new-name of this program manages it now"
        assert left in stack.plugin.stderr_text()
        assert writes(stack, r"/workflows/delete$") == 0


def test_a_replacement_onto_the_same_identity_never_deletes_what_it_just_wrote(emu: CdfEmulator) -> None:
    for stack in start_stack(emu, stack_config(emu)):
        old_id, old_outs, _ = deploy(stack, workflow())
    for stack in next_up(emu):  # `pulumi up --replace`: create the new one, then delete the old one
        registration = workflow()
        _, new_outs, _ = deploy(stack, registration)
        stack.plugin.delete(registration.urn, old_id, old_outs)
        assert workflow_exists(emu)
        assert new_outs["claim_id"] != old_outs["claim_id"]


def test_a_destroy_still_deletes_what_the_resource_itself_created(stack: Stack) -> None:
    registration = workflow()
    id_, outs, _ = deploy(stack, registration)
    stack.plugin.delete(registration.urn, id_, outs)
    assert not workflow_exists(stack.emu)


# --- 2. destroy of a workflow with versions or triggers the stack does not manage ----------------------------


def test_destroy_of_a_workflow_refuses_while_foreign_versions_and_triggers_remain(stack: Stack) -> None:
    registration = workflow()
    id_, outs, _ = deploy(stack, registration)
    stack.emu.upsert_workflow_version(CDF_PROJECT, "deployed", "toolkit-v2")
    stack.emu.upsert_trigger(CDF_PROJECT, "someone-elses", "deployed", "toolkit-v2", "0 3 * * *")
    with pytest.raises(PluginError) as caught:
        stack.plugin.delete(registration.urn, id_, outs)
    message = caught.value.details
    assert "Did not delete workflow deployed" in message
    assert "version 'toolkit-v2'" in message and "trigger 'someone-elses'" in message
    assert "force_destroy=True" in message
    assert workflow_exists(stack.emu)
    assert stack.emu.backend.get_version(CDF_PROJECT, "deployed", "toolkit-v2") is not None


def test_force_destroy_deletes_the_workflow_with_whatever_remains(stack: Stack) -> None:
    registration = workflow(force_destroy=True)
    id_, outs, _ = deploy(stack, registration)
    stack.emu.upsert_workflow_version(CDF_PROJECT, "deployed", "toolkit-v2")
    stack.plugin.delete(registration.urn, id_, outs)
    assert not workflow_exists(stack.emu)


def test_changing_force_destroy_or_adopt_writes_nothing_to_cdf(stack: Stack) -> None:
    id_, outs, inputs = deploy(stack, workflow())
    changed = workflow(force_destroy=True)
    diff = stack.plugin.diff(changed.urn, id_, outs, checked(stack, changed, inputs))
    assert (diff.changes, diff.replaces) == ("SOME", [])
    updated = stack.plugin.update(changed.urn, id_, outs, checked(stack, changed, inputs))
    assert updated["force_destroy"] is True
    assert writes(stack, r"/workflows$") == 1  # only the create


# --- 6. destroy cannot starve the plugin's four call slots ----------------------------------------------------


def test_destroy_of_four_busy_workflows_and_their_cancel_on_delete_executions_succeeds_in_one_go(
    emu: CdfEmulator,
) -> None:
    for stack in start_stack(emu, stack_config(emu, **{"cdf:deleteWaitSeconds": "120"})):
        deployed: list[tuple[Registration, str, dict[str, Any]]] = []
        for i in range(4):
            emu.upsert_workflow_version(CDF_PROJECT, f"busy-{i}", "1")
            emu.set_outcome(f"busy-{i}", "1", "RUN_UNTIL_CANCELLED")
            wf = register(Workflow, f"busy-{i}", external_id=f"busy-{i}", force_destroy=True)
            deployed.append((wf, *deploy(stack, wf)[:2]))
            run = stack.up(f"run-{i}", workflow_external_id=f"busy-{i}", version="1", cancel_on_delete=True)
            deployed.append((run.registration, run.id, run.outs))
        # The engine sends all eight deletes at once (nothing links them); the workflows' come first.
        started = time.monotonic()
        errors = delete_at_once(stack, deployed[0::2] + deployed[1::2])
        assert errors == []
        assert time.monotonic() - started < 60
        assert not any(workflow_exists(emu, f"busy-{i}") for i in range(4))


# --- 5. a trigger notices the connection's own credentials changing ----------------------------------------


def test_a_trigger_without_client_credentials_is_rebound_when_the_connections_client_changes(emu: CdfEmulator) -> None:
    def trigger() -> Registration:
        return register(
            WorkflowTrigger, "nightly", external_id="nightly", trigger_rule=NIGHTLY,
            workflow_external_id="wf", workflow_version="1",
        )  # fmt: skip

    for stack in start_stack(emu, stack_config(emu)):
        id_, outs, inputs = deploy(stack, trigger())
    assert [s["clientId"] for s in emu.sessions(CDF_PROJECT)] == [CLIENT_ID]
    rotated = stack_config(emu, **{"cdf:clientId": "run-client", "cdf:clientSecret": "run-secret-77"})
    for stack in start_stack(emu, rotated):
        registration = trigger()
        news = checked(stack, registration, inputs)
        diff = stack.plugin.diff(registration.urn, id_, outs, news)
        assert (diff.changes, diff.replaces) == ("SOME", [])
        stack.plugin.update(registration.urn, id_, outs, news)
    assert [s["clientId"] for s in emu.sessions(CDF_PROJECT)][-1] == "run-client"
    for stack in start_stack(emu, stack_config(emu, **{"cdf:clientSecret": CLIENT_SECRET})):
        registration = trigger()  # the original client again: a change too, but no change without one
        same = stack.plugin.diff(registration.urn, id_, outs, checked(stack, registration, inputs))
        assert same.changes == "NONE"


# --- 7. an execution of a version this program deploys previews cleanly --------------------------------------


def test_an_execution_linked_to_a_version_of_this_program_previews_before_the_version_exists(stack: Stack) -> None:
    def program() -> None:
        deployed = WorkflowVersion(
            "new-v1", workflow_external_id="not-yet", version="1", workflow_definition={"tasks": TASKS}
        )
        WorkflowExecution(
            "run", workflow_external_id=deployed.workflow_external_id, version=deployed.version
        )

    registrations = capture_registrations(program, stack="dev", preview=True)
    (run,) = [r for r in registrations if r.type.endswith(":WorkflowExecution")]
    assert run.engine_inputs["deployed_by_stack"] is True
    result = stack.plugin.check(run.urn, {}, run.engine_inputs)
    assert result.failures == []


def test_a_typo_in_a_plain_version_string_still_fails_the_preview(stack: Stack) -> None:
    registration = stack.register(version="l")
    assert "deployed_by_stack" not in registration.engine_inputs
    [(prop, reason)] = stack.plugin.check(registration.urn, {}, registration.engine_inputs).failures
    assert prop == "version" and "does not exist" in reason


# --- 9. only an unknown project or URL can move a deployed resource ----------------------------------------


def test_an_unknown_connection_secret_in_preview_plans_no_replacement(stack: Stack) -> None:
    id_, outs, inputs = deploy(stack, workflow())
    news = {**inputs, "connection": {"client_secret": "04da6b54-80e4-46f7-96ec-b56ff0331ba9"}}
    diff = stack.plugin.diff(workflow().urn, id_, outs, news)
    assert diff.replaces == []
    news = {**inputs, "connection": {"project": "04da6b54-80e4-46f7-96ec-b56ff0331ba9"}}
    assert stack.plugin.diff(workflow().urn, id_, outs, news).replaces == ["connection"]


# --- 13. plain http only to this machine ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "registration",
    [
        lambda: workflow(connection={"base_url": "http://cdf.example.com"}),
        lambda: version(connection={"base_url": "http://cdf.example.com"}),
        lambda: register(
            WorkflowTrigger, "t", external_id="t", trigger_rule=NIGHTLY, workflow_external_id="wf",
            workflow_version="1", connection={"base_url": "http://cdf.example.com"},
        ),
        lambda: register(
            WorkflowExecution, "r", workflow_external_id="wf", version="1",
            connection={"base_url": "http://cdf.example.com"},
        ),
    ],
    ids=["Workflow", "WorkflowVersion", "WorkflowTrigger", "WorkflowExecution"],
)
def test_check_refuses_plain_http_to_another_host_before_any_request(stack: Stack, registration: Any) -> None:
    made = registration()
    before = len(stack.api_requests())
    failures = stack.plugin.check(made.urn, {}, made.engine_inputs).failures
    assert [prop for prop, _ in failures] == ["connection"]
    assert "uses plain http" in failures[0][1] and "cdf:allowInsecureHttp" in failures[0][1]
    assert len(stack.api_requests()) == before


# --- 8. no session is left behind by a refused trigger upsert -------------------------------------------------


def test_a_trigger_upsert_that_cdf_refuses_revokes_the_session_it_made(stack: Stack) -> None:
    for _ in range(3):  # three `up`s with a typo in the version
        registration = register(
            WorkflowTrigger, "nightly", external_id="nightly", trigger_rule=NIGHTLY,
            workflow_external_id="wf", workflow_version="2",
        )  # fmt: skip
        with pytest.raises(PluginError) as caught:
            stack.plugin.create(registration.urn, checked(stack, registration))
        assert "not found" in caught.value.details
    statuses = [s["status"] for s in stack.emu.sessions(CDF_PROJECT)]
    assert statuses == ["REVOKED"] * 3


# --- 9. refresh reports no drift that is not there ---------------------------------------------------------


def test_a_refresh_after_a_firing_reads_the_same_next_fire_time_by_cdfs_clock(stack: Stack) -> None:
    stack.emu.set_time(1_798_761_600_000)  # Fri 1 Jan 2027 00:00 UTC
    registration = register(
        WorkflowTrigger, "nightly", external_id="nightly", trigger_rule=NIGHTLY,
        workflow_external_id="wf", workflow_version="1",
    )  # fmt: skip
    inputs = checked(stack, registration)
    assert inputs["schedule"] == "At 02:00 (UTC)"  # known in a preview, before CDF is asked
    id_, outs = stack.plugin.create(registration.urn, inputs)
    assert outs["next_fire_time"] == "Fri 01 Jan 2027 02:00 UTC"  # the emulator's clock, not the wall clock

    fired = stack.emu.advance_time(3 * 24 * 3600)
    assert len(fired) == 3
    read = stack.plugin.read(registration.urn, id_, outs)
    assert read.outs["next_fire_time"] == outs["next_fire_time"]
    assert read.outs == {**outs, "__provider": read.outs["__provider"]}
