"""More Workflow, WorkflowVersion and WorkflowTrigger behaviours that no other test pinned, each found by a one-line
change to the providers that the rest of the suite let through: what an update keeps, what reaches CDF, what old
state means, and which objects a destroy must leave alone."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest
from harness import PluginError, Registration, capture_registrations

from pulumi_cdf_workflows import ClientCredentials, Workflow, WorkflowVersion
from pulumi_cdf_workflows.emulator import CdfEmulator
from pulumi_cdf_workflows.emulator.exceptions import NotFound

from .conftest import CDF_PROJECT, VERSION, WORKFLOW, Stack, stack_config, start_stack
from .test_gaps import (
    RUN_CLIENT,
    RUN_SECRET,
    cdf,
    checked,
    deploy,
    plan_and_apply,
    register,
    trigger,
    version,
    workflow,
)


def workflow_exists(emu: CdfEmulator, external_id: str = "deployed") -> bool:
    try:
        emu.backend.get_workflow(CDF_PROJECT, external_id)
    except NotFound:
        return False
    return True


# --- what an update keeps -----------------------------------------------------------------------------------------


def test_a_destroy_after_an_update_still_deletes_what_the_resource_created(stack: Stack) -> None:
    registration = workflow(description="first")
    id_, outs, inputs = deploy(stack, registration)
    _, updated = plan_and_apply(stack, workflow(description="second"), id_, outs, inputs)

    assert updated["claim_id"] == outs["claim_id"]
    stack.plugin.delete(registration.urn, id_, updated)

    assert not workflow_exists(stack.emu)


# --- what reaches CDF ---------------------------------------------------------------------------------------------


def test_a_changed_data_set_is_an_update_that_cdf_gets(stack: Stack) -> None:
    id_, outs, inputs = deploy(stack, workflow(data_set_id=1234))

    plan, updated = plan_and_apply(stack, workflow(data_set_id=5678), id_, outs, inputs)

    assert plan == ("SOME", [])
    assert stack.emu.backend.get_workflow(CDF_PROJECT, "deployed").data_set_id == 5678
    assert updated["data_set_id"] == 5678


def test_a_triggers_metadata_and_whole_numbers_in_its_input_reach_cdf_as_written(stack: Stack) -> None:
    deploy(stack, trigger(input={"days": 7, "nested": {"n": [1, 2]}}, metadata={"team": "data"}))

    (request,) = stack.api_requests("POST", r"/workflows/triggers$")
    item = request["body"]["items"][0]
    assert json.dumps(item["input"], sort_keys=True) == '{"days": 7, "nested": {"n": [1, 2]}}'  # not 7.0
    found = cdf(stack).retrieve_trigger("nightly")
    assert found is not None and found.metadata == {"team": "data"}


def test_a_trigger_paused_in_cdf_shows_as_paused_after_a_refresh(stack: Stack) -> None:
    registration = trigger()
    id_, outs, _ = deploy(stack, registration)
    cdf(stack).pause_trigger("nightly")

    read = stack.plugin.read(registration.urn, id_, outs)

    assert (outs["is_paused"], read.outs["is_paused"]) == (False, True)


# --- what old state and other credentials mean ----------------------------------------------------------------


def test_destroy_of_a_version_whose_state_holds_version_as_a_number_deletes_it(stack: Stack) -> None:
    registration = version(version="1")
    id_, outs, _ = deploy(stack, registration)
    written_before_check_made_it_a_string = {**outs, "version": 1.0}

    stack.plugin.delete(registration.urn, id_, written_before_check_made_it_a_string)

    with pytest.raises(NotFound):
        stack.emu.backend.get_version(CDF_PROJECT, "deployed", "1")


def test_a_trigger_whose_state_predates_the_session_fingerprint_plans_nothing(stack: Stack) -> None:
    registration = trigger(client_credentials=None)
    id_, outs, inputs = deploy(stack, registration)
    old_state = {**outs, "credentials_fingerprint": {k: v for k, v in outs["credentials_fingerprint"].items()
                                                     if k in ("scheme", "salt")}}  # fmt: skip

    diff = stack.plugin.diff(registration.urn, id_, old_state, checked(stack, trigger(client_credentials=None), inputs))

    assert (diff.changes, diff.replaces) == ("NONE", [])


def test_a_trigger_with_its_own_credentials_is_not_rebound_when_the_stacks_client_changes(emu: CdfEmulator) -> None:
    for stack in start_stack(emu, stack_config(emu)):
        id_, outs, inputs = deploy(stack, trigger())
    other_client = stack_config(emu, **{"cdf:clientId": RUN_CLIENT, "cdf:clientSecret": RUN_SECRET})
    for stack in start_stack(emu, other_client):
        registration = trigger()
        diff = stack.plugin.diff(registration.urn, id_, outs, checked(stack, registration, inputs))
        rotated = trigger(client_credentials=ClientCredentials(client_id=RUN_CLIENT, client_secret="rotated"))
        still_noticed = stack.plugin.diff(rotated.urn, id_, outs, checked(stack, rotated, inputs))

        assert (diff.changes, diff.replaces) == ("NONE", [])
        assert still_noticed.changes == "SOME"


# --- what already exists in CDF ---------------------------------------------------------------------------------


def test_a_trigger_that_exists_with_another_schedule_is_never_overwritten_and_no_session_is_made(stack: Stack) -> None:
    stack.emu.upsert_trigger(CDF_PROJECT, "nightly", WORKFLOW, VERSION, "0 3 * * *")
    sessions = len(stack.emu.sessions(CDF_PROJECT))
    registration = trigger()

    with pytest.raises(PluginError) as caught:
        stack.plugin.create(registration.urn, checked(stack, registration))

    assert "workflow trigger nightly already exists" in caught.value.details
    assert "trigger_rule is" in caught.value.details and "adopt=True" in caught.value.details
    found = cdf(stack).retrieve_trigger("nightly")
    assert found is not None and found.trigger_rule["cronExpression"] == "0 3 * * *"
    assert len(stack.emu.sessions(CDF_PROJECT)) == sessions


def test_get_of_a_version_that_does_not_exist_fails_naming_it(stack: Stack) -> None:
    def program() -> None:
        WorkflowVersion.get("found", WORKFLOW, "no-such-version")

    (registration,) = capture_registrations(program, stack="dev")
    with pytest.raises(PluginError) as caught:
        stack.plugin.read(registration.urn, f"{WORKFLOW}/no-such-version", None, registration.engine_inputs)

    assert f"workflow version {WORKFLOW}/no-such-version does not exist in CDF project" in caught.value.details


# --- what a destroy must leave alone -------------------------------------------------------------------------------


def test_destroy_of_a_workflow_refuses_while_only_a_foreign_trigger_remains(stack: Stack) -> None:
    registration = workflow()
    id_, outs, _ = deploy(stack, registration)
    stack.emu.upsert_workflow_version(CDF_PROJECT, "deployed", "toolkit-v2")
    stack.emu.upsert_trigger(CDF_PROJECT, "someone-elses", "deployed", "toolkit-v2", "0 3 * * *")
    stack.emu.backend.delete_versions(CDF_PROJECT, [{"workflowExternalId": "deployed", "version": "toolkit-v2"}], False)

    with pytest.raises(PluginError) as caught:
        stack.plugin.delete(registration.urn, id_, outs)

    assert "trigger 'someone-elses'" in caught.value.details and "force_destroy=True" in caught.value.details
    assert workflow_exists(stack.emu)


def test_a_removed_resource_leaves_the_object_that_another_resource_of_the_program_names(emu: CdfEmulator) -> None:
    for stack in start_stack(emu, stack_config(emu)):
        old_id, old_outs, _ = deploy(stack, workflow())
    for stack in start_stack(emu, stack_config(emu)):
        # The next `up`: the program names the same workflow under another resource name. The engine checks every
        # resource of the program before it deletes the ones the program no longer has.
        checked(stack, register(Workflow, "new-name", external_id="deployed"))
        stack.plugin.delete(workflow().urn, old_id, old_outs)

        assert workflow_exists(emu)
        assert "dev/new-name of this program manages it now" in stack.plugin.stderr_text()


# --- destroy does not starve the plugin's four call slots ------------------------------------------------------


def test_destroy_succeeds_when_cancelling_deletes_queue_behind_four_waiting_workflow_deletes(emu: CdfEmulator) -> None:
    errors: list[BaseException] = []
    for stack in start_stack(emu, stack_config(emu, **{"cdf:deleteWaitSeconds": "30"})):
        workflows: list[tuple[Registration, tuple[str, dict[str, Any]]]] = []
        runs: list[tuple[Registration, tuple[str, dict[str, Any]]]] = []
        for i in range(4):
            emu.upsert_workflow_version(CDF_PROJECT, f"busy-{i}", "1")
            emu.set_outcome(f"busy-{i}", "1", "RUN_UNTIL_CANCELLED")
            busy = register(Workflow, f"busy-{i}", external_id=f"busy-{i}", force_destroy=True)
            id_, outs, _ = deploy(stack, busy)
            workflows.append((busy, (id_, outs)))
            run = stack.up(f"run-{i}", workflow_external_id=f"busy-{i}", version="1", cancel_on_delete=True)
            runs.append((run.registration, (run.id, run.outs)))
        # CDF is slow to refuse the workflows' deletes: the executions' deletes are queued by then, behind all
        # four of the plugin's slots, and only a slot the waiting deletes lend lets them run.
        emu.inject_fault("POST", r"/workflows/delete$", when="before", status=None, delay=0.5, times=4)
        threads = [threading.Thread(target=delete_into, args=(errors, stack, r, *d)) for r, d in workflows + runs]
        for index, thread in enumerate(threads):
            thread.start()
            if index == 3:
                time.sleep(0.1)  # the workflows' deletes hold the four slots first
        for thread in threads:
            thread.join(timeout=60)

        assert errors == []
        assert not any(workflow_exists(emu, f"busy-{i}") for i in range(4))


def delete_into(errors: list[BaseException], stack: Stack, registration: Registration, id_: str, outs: Any) -> None:
    """A delete from a thread of its own, as the engine sends it; a failure goes into `errors`."""
    try:
        stack.plugin.delete(registration.urn, id_, outs)
    except BaseException as exc:
        errors.append(exc)
