"""WorkflowTrigger through the real plugin against the emulator: check refuses a bad rule without calling CDF,
create and update upsert with a fresh session, credentials are never an output but a rotation is noticed,
refresh reads, delete deletes."""

from __future__ import annotations

from typing import Any

import pytest
from harness import PluginError, Registration, capture_registrations

from pulumi_cdf_workflows import ClientCredentials, WorkflowTrigger
from pulumi_cdf_workflows.cdf import CdfClient, ConnectionSettings

from .conftest import CDF_PROJECT, VERSION, WORKFLOW, Stack

RUN_CLIENT, RUN_SECRET = "run-client", "run-secret-77"  # known to the emulator fixture
NIGHTLY = {"triggerType": "schedule", "cronExpression": "0 2 * * *", "timezone": "Europe/Oslo"}


def trigger(secret: str = RUN_SECRET, **kwargs: Any) -> Registration:
    kwargs.setdefault("external_id", "nightly")
    kwargs.setdefault("trigger_rule", NIGHTLY)
    kwargs.setdefault("workflow_external_id", WORKFLOW)
    kwargs.setdefault("workflow_version", VERSION)
    kwargs.setdefault("client_credentials", ClientCredentials(client_id=RUN_CLIENT, client_secret=secret))

    def program() -> None:
        WorkflowTrigger("nightly", **kwargs)

    return capture_registrations(program, stack="dev")[0]


def deploy(stack: Stack, registration: Registration) -> tuple[str, dict[str, Any]]:
    checked = stack.plugin.check(registration.urn, {}, registration.engine_inputs)
    assert checked.failures == []
    return stack.plugin.create(registration.urn, checked.inputs)


def cdf(stack: Stack) -> CdfClient:
    return CdfClient(ConnectionSettings(project=CDF_PROJECT, base_url=stack.emu.base_url, token="static-test"))


def test_a_trigger_runs_as_its_credentials_and_never_shows_them(stack: Stack) -> None:
    id_, outs = deploy(stack, trigger(input={"full": 1}))

    found = cdf(stack).retrieve_trigger("nightly")
    assert found is not None and id_ == "nightly"
    assert (found.workflow_external_id, found.workflow_version, found.input) == (WORKFLOW, VERSION, {"full": 1})
    assert [s["clientId"] for s in stack.emu.sessions(CDF_PROJECT)] == [RUN_CLIENT]
    assert outs["schedule"] == "At 02:00 (Europe/Oslo)"
    assert outs["next_fire_time"].endswith("02:00 Europe/Oslo")
    assert outs["is_paused"] is False
    assert RUN_SECRET not in repr(outs)
    assert "client_credentials" not in outs
    assert set(outs["credentials_fingerprint"]) == {"scheme", "salt", "client_credentials"}


def test_a_changed_rule_is_updated_in_place_and_a_new_id_replaces(stack: Stack) -> None:
    id_, outs = deploy(stack, trigger())
    hourly = trigger(trigger_rule={"triggerType": "schedule", "cronExpression": "0 * * * *"})

    diff = stack.plugin.diff(hourly.urn, id_, outs, hourly.engine_inputs)
    assert (diff.changes, diff.replaces) == ("SOME", [])
    updated = stack.plugin.update(hourly.urn, id_, outs, hourly.engine_inputs)

    assert updated["schedule"] == "Every hour (UTC)"
    assert updated["created_time"] == outs["created_time"]
    assert len(stack.emu.sessions(CDF_PROJECT)) == 2  # every upsert binds a fresh session
    renamed = trigger(external_id="nightly-2")
    assert stack.plugin.diff(renamed.urn, id_, updated, renamed.engine_inputs).replaces == ["external_id"]


def test_only_a_real_change_is_a_change(stack: Stack) -> None:
    id_, outs = deploy(stack, trigger(trigger_rule={"triggerType": "schedule", "cronExpression": "0 2 * * *"}))
    same = trigger(trigger_rule={"triggerType": "schedule", "cronExpression": "0 2 * * *", "timezone": "UTC"})
    assert stack.plugin.diff(same.urn, id_, outs, same.engine_inputs).changes == "NONE"  # CDF fills UTC in

    rotated = trigger(secret="a-new-secret", trigger_rule={"triggerType": "schedule", "cronExpression": "0 2 * * *"})
    assert stack.plugin.diff(rotated.urn, id_, outs, rotated.engine_inputs).changes == "SOME"


@pytest.mark.parametrize(
    ("rule", "problem"),
    [
        ({"triggerType": "schedule", "cronExpression": "0 25 * * *"}, "cronExpression '0 25 * * *' is not a valid"),
        ({"triggerType": "schedule", "cronExpression": "0 2 * * *", "timezone": "Mars/Olympus"}, "Mars/Olympus"),
        ({"triggerType": "hourly"}, "triggerType must be 'schedule', 'dataModeling' or 'recordStream'"),
        ({"triggerType": "recordStream", "batchSize": 10, "batchTimeout": 60}, "needs streamExternalId"),
        ({"triggerType": "schedule"}, "a schedule rule needs cronExpression"),
    ],
)
def test_check_refuses_a_bad_rule_and_calls_no_one(stack: Stack, rule: dict[str, Any], problem: str) -> None:
    registration = trigger(trigger_rule=rule)

    checked = stack.plugin.check(registration.urn, {}, registration.engine_inputs)

    assert [prop for prop, _ in checked.failures] == [""]
    assert checked.failures[0][1].startswith("trigger_rule")
    assert problem in checked.failures[0][1]
    assert stack.emu.requests() == []


def test_refresh_and_delete_of_a_trigger(stack: Stack) -> None:
    registration = trigger()
    id_, outs = deploy(stack, registration)

    read = stack.plugin.read(registration.urn, id_, outs)
    assert read.id == id_ and read.outs["trigger_rule"]["cronExpression"] == "0 2 * * *"
    stack.plugin.delete(registration.urn, id_, outs)
    assert cdf(stack).retrieve_trigger("nightly") is None
    stack.plugin.delete(registration.urn, id_, outs)  # already gone: not an error
    assert stack.plugin.read(registration.urn, id_, outs).id is None


def test_get_reads_a_trigger_deployed_elsewhere(stack: Stack) -> None:
    deploy(stack, trigger(external_id="from-the-toolkit"))

    def program() -> None:
        WorkflowTrigger.get("found", "from-the-toolkit")

    (registration,) = capture_registrations(program, stack="dev")
    read = stack.plugin.read(registration.urn, "from-the-toolkit", None, registration.engine_inputs)

    assert read.id == "from-the-toolkit"
    assert read.outs["trigger_rule"]["cronExpression"] == "0 2 * * *"
    assert read.outs["workflow_external_id"] == WORKFLOW
    assert read.outs["schedule"] == "At 02:00 (Europe/Oslo)"


def test_get_of_a_trigger_that_does_not_exist_fails(stack: Stack) -> None:
    def program() -> None:
        WorkflowTrigger.get("found", "nowhere")

    (registration,) = capture_registrations(program, stack="dev")
    with pytest.raises(PluginError) as info:
        stack.plugin.read(registration.urn, "nowhere", None, registration.engine_inputs)
    assert f"workflow trigger nowhere does not exist in CDF project '{CDF_PROJECT}'" in info.value.details


CHANGED_PUMPS = {
    "triggerType": "dataModeling",
    "dataModelingQuery": {
        "with": {"pumps": {"nodes": {"filter": {"equals": {"property": ["node", "space"], "value": "p"}}}, "limit": 2}},
        "select": {"pumps": {}},
    },
    "batchSize": 2,
    "batchTimeout": 60,
}
NEW_READINGS = {"triggerType": "recordStream", "streamExternalId": "readings", "batchSize": 3, "batchTimeout": 30}


@pytest.mark.parametrize(
    ("rule", "words"),
    [
        (
            CHANGED_PUMPS,
            "When instances match its data-modeling query: in batches of up to 2, or after 60 s for a smaller batch",
        ),
        (
            NEW_READINGS,
            "When records arrive in stream 'readings': in batches of up to 3, or after 30 s for a smaller batch",
        ),
    ],
)
def test_a_batch_trigger_deploys_and_its_executions_get_the_matches(
    stack: Stack, rule: dict[str, Any], words: str
) -> None:
    _, outs = deploy(stack, trigger(trigger_rule=rule, input={"mode": "incremental"}))
    assert (outs["schedule"], outs.get("next_fire_time")) == (words, None)

    size = rule["batchSize"]
    matches = [{"space": "p", "externalId": f"item-{i}"} for i in range(size + 1)]
    fired = stack.emu.add_trigger_matches("nightly", matches, project=CDF_PROJECT)

    assert len(fired) == 1  # one full batch; the last match waits for more or for batchTimeout
    (execution,) = stack.executions()
    detailed = cdf(stack).retrieve_execution(execution["id"])
    assert detailed.input == {"mode": "incremental", "version": VERSION, "items": matches[:size]}
    assert len(stack.emu.advance_time(rule["batchTimeout"])) == 1
    assert len(stack.executions()) == 2
