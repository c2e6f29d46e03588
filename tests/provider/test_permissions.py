"""Preview knows what the deploy may do: each resource's check compares what its operation needs with what the
deploying principal has (one token inspect per connection per plugin process), before anything is written; a
principal that may not inspect its token gets one notice and a deploy; a 403 at `up` names what the call needed."""

from __future__ import annotations

from typing import Any

import pytest
from harness import PluginError, Registration, capture_registrations

from pulumi_cdf_workflows import Workflow, WorkflowTrigger
from pulumi_cdf_workflows.emulator import CdfEmulator

from .conftest import CDF_PROJECT, CLIENT_ID, VERSION, WORKFLOW, Stack, stack_config, start_stack

ALL: dict[str, Any] = {"all": {}}
INSPECT = [{"projectsAcl": {"actions": ["LIST"], "scope": ALL}}, {"groupsAcl": {"actions": ["LIST"], "scope": ALL}}]


def workflows(*actions: str, scope: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"workflowOrchestrationAcl": {"actions": list(actions), "scope": scope or ALL}}


def sessions(*actions: str) -> dict[str, Any]:
    return {"sessionsAcl": {"actions": list(actions), "scope": ALL}}


def register(resource: type[Any], name: str, **kwargs: Any) -> Registration:
    def program() -> None:
        resource(name, **kwargs)

    return capture_registrations(program, stack="dev")[0]


def check(stack: Stack, registration: Registration) -> list[tuple[str, str]]:
    return stack.plugin.check(registration.urn, {}, registration.engine_inputs).failures


def writes(emu: CdfEmulator) -> list[str]:
    return [r["path"] for r in emu.requests("POST") if r["path"].startswith("/api/") and "/list" not in r["path"]]


def test_without_sessions_create_the_preview_of_an_execution_fails_naming_what_is_missing(stack: Stack) -> None:
    stack.emu.set_capabilities(CLIENT_ID, [*INSPECT, workflows("READ", "WRITE")])
    [(prop, reason)] = check(stack, stack.register())
    assert prop == ""
    assert reason == (
        f"cannot run workflow execution '{WORKFLOW}': the deploying principal (client {CLIENT_ID}) lacks "
        f"sessionsAcl:CREATE in CDF project '{CDF_PROJECT}'"
    )
    assert writes(stack.emu) == []


def test_an_execution_given_a_nonce_does_not_need_sessions(stack: Stack) -> None:
    stack.emu.set_capabilities(CLIENT_ID, [*INSPECT, workflows("READ", "WRITE")])
    assert check(stack, stack.register(nonce="a-nonce")) == []


def test_without_sessions_create_the_preview_of_a_trigger_fails(stack: Stack) -> None:
    stack.emu.set_capabilities(CLIENT_ID, [*INSPECT, workflows("READ", "WRITE")])
    trigger = register(
        WorkflowTrigger, "nightly", external_id="nightly", workflow_external_id=WORKFLOW, workflow_version=VERSION,
        trigger_rule={"triggerType": "schedule", "cronExpression": "0 2 * * *"},
    )  # fmt: skip
    [(_, reason)] = check(stack, trigger)
    assert reason.startswith("cannot create workflow trigger 'nightly'") and "lacks sessionsAcl:CREATE" in reason
    assert writes(stack.emu) == []


def test_write_scoped_to_another_data_set_fails_the_preview_of_a_workflow_in_data_set_123(stack: Stack) -> None:
    stack.emu.set_capabilities(CLIENT_ID, [*INSPECT, workflows("READ", "WRITE", scope={"datasetScope": {"ids": [7]}})])
    [(_, reason)] = check(stack, register(Workflow, "backfill", external_id="backfill", data_set_id=123))
    assert reason == (
        f"cannot create workflow 'backfill' in data set 123: the deploying principal (client {CLIENT_ID}) lacks "
        f"workflowOrchestrationAcl:WRITE scoped to data set 123 in CDF project '{CDF_PROJECT}'"
    )
    assert check(stack, register(Workflow, "backfill", external_id="backfill", data_set_id=7)) == []


def test_a_version_or_run_of_a_workflow_in_another_data_set_fails_the_preview(stack: Stack) -> None:
    stack.emu.backend.upsert_workflow(CDF_PROJECT, [{"externalId": WORKFLOW, "dataSetId": 123}])
    scoped = workflows("READ", "WRITE", scope={"datasetScope": {"ids": [7]}})
    stack.emu.set_capabilities(CLIENT_ID, [*INSPECT, scoped, sessions("CREATE")])
    [(prop, reason)] = check(stack, stack.register())  # it may not even read the version
    assert prop == "" and "CDF answered 403" in reason
    assert "To read a workflow version, the principal needs workflowOrchestrationAcl:READ in the workflow's" in reason


def test_at_most_one_token_inspect_per_connection_per_plugin(stack: Stack) -> None:
    for i in range(3):
        check(stack, stack.register(f"run-{i}", input={"i": i}))
        check(stack, register(Workflow, f"wf-{i}", external_id=f"wf-{i}"))
    assert len(stack.emu.requests("GET", r"/token/inspect$")) == 1


def test_a_principal_that_may_not_inspect_gets_one_notice_and_a_deploy(stack: Stack) -> None:
    stack.emu.set_capabilities(CLIENT_ID, [workflows("READ", "WRITE"), sessions("CREATE")])
    for i in range(2):
        registration = stack.register(f"run-{i}", input={"i": i})
        inputs = stack.check(registration)
        stack.plugin.create(registration.urn, inputs)
    notices = [line for line in stack.plugin.stderr_text().splitlines() if "permissions were not checked" in line]
    assert len(notices) == 1 and "projectsAcl:LIST and groupsAcl:LIST" in notices[0]
    assert len(stack.executions()) == 2


def test_a_403_at_up_names_the_capability_the_call_needed(emu: CdfEmulator) -> None:
    emu.set_capabilities(CLIENT_ID, [*INSPECT, workflows("READ", "WRITE")])
    for stack in start_stack(emu, stack_config(emu, **{"cdf:validateOnPreview": "false"})):
        registration = stack.register()
        with pytest.raises(PluginError) as caught:
            stack.plugin.create(registration.urn, stack.check(registration))
        assert "CDF answered 403" in caught.value.details
        assert "To run a workflow execution, the principal needs workflowOrchestrationAcl:WRITE in the workflow's" in (
            caught.value.details
        )
        assert "sessionsAcl:CREATE" in caught.value.details
        assert emu.executions(CDF_PROJECT) == []


def test_a_principal_with_everything_it_needs_previews_and_deploys(stack: Stack) -> None:
    stack.emu.set_capabilities(CLIENT_ID, [*INSPECT, workflows("READ", "WRITE"), sessions("CREATE")])
    registration = stack.register()
    stack.plugin.create(registration.urn, stack.check(registration))
    assert len(stack.executions()) == 1


def test_an_executions_own_client_credentials_that_cannot_sign_in_fail_the_preview(stack: Stack) -> None:
    wrong = {"client_id": "run-client", "client_secret": "not-its-secret"}
    [(prop, reason)] = check(stack, stack.register(client_credentials=wrong))
    assert prop == "client_credentials"
    assert reason.startswith("client run-client cannot sign in at ") and "CDF would refuse it" in reason
    assert "not-its-secret" not in reason and "not-its-secret" not in stack.plugin.stderr_text()
    assert writes(stack.emu) == []
    right = {"client_id": "run-client", "client_secret": "run-secret-77"}
    assert check(stack, stack.register("other", client_credentials=right)) == []


def test_a_triggers_own_client_credentials_that_cannot_sign_in_fail_the_preview(stack: Stack) -> None:
    trigger = register(
        WorkflowTrigger, "nightly", external_id="nightly", workflow_external_id=WORKFLOW, workflow_version=VERSION,
        trigger_rule={"triggerType": "schedule", "cronExpression": "0 2 * * *"},
        client_credentials={"client_id": "run-client", "client_secret": "not-its-secret"},
    )  # fmt: skip
    [(prop, reason)] = check(stack, trigger)
    assert prop == "client_credentials" and "The workflow trigger's session is made with these" in reason
    assert writes(stack.emu) == []
