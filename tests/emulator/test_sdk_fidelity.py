"""Fidelity: the official cognite-sdk drives the emulator and every reply parses into its data classes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest

pytest.importorskip("cognite.client")

import cognite.client
from cognite.client import ClientConfig, CogniteClient
from cognite.client.credentials import OAuthClientCredentials, Token
from cognite.client.data_classes import ClientCredentials
from cognite.client.data_classes.data_modeling import ViewId
from cognite.client.data_classes.data_modeling.query import NodeResultSetExpression, Select, SourceSelector
from cognite.client.data_classes.workflows import (
    CDFTaskParameters,
    FunctionTaskParameters,
    WorkflowDataModelingTriggerRule,
    WorkflowDefinitionUpsert,
    WorkflowExecution,
    WorkflowExecutionDetailed,
    WorkflowScheduledTriggerRule,
    WorkflowTask,
    WorkflowTaskExecution,
    WorkflowTrigger,
    WorkflowTriggerDataModelingQuery,
    WorkflowTriggerRun,
    WorkflowTriggerUpsert,
    WorkflowUpsert,
    WorkflowVersionId,
    WorkflowVersionUpsert,
)
from cognite.client.exceptions import (
    CogniteAPIError,
    CogniteNotFoundError,
    CogniteProjectAccessError,
)
from harness import wait_until

from pulumi_cdf_workflows.emulator import CdfEmulator

from .conftest import PROJECT

cognite.client.global_config.disable_pypi_version_check = True
cognite.client.global_config.max_retries = 1


def make_client(emu: CdfEmulator, credentials: Any = None) -> CogniteClient:
    if credentials is None:
        credentials = OAuthClientCredentials(
            token_url=emu.token_url,
            client_id="sdk-client",
            client_secret="sdk-secret",
            scopes=[f"{emu.base_url}/.default"],
        )
    config = ClientConfig(
        client_name="emulator-fidelity-test", project=PROJECT, credentials=credentials, base_url=emu.base_url
    )
    return CogniteClient(config)


@pytest.fixture
def client(emu: CdfEmulator) -> Iterator[CogniteClient]:
    yield make_client(emu)


def seed_with_sdk(client: CogniteClient, xid: str = "sdk-wf", async_task: bool = False) -> None:
    client.workflows.upsert(WorkflowUpsert(external_id=xid, description="from the sdk"))
    tasks = [
        WorkflowTask(external_id="call", parameters=FunctionTaskParameters(
            external_id="fn", data="${workflow.input}", is_async_complete=async_task)),
        WorkflowTask(external_id="ping", parameters=CDFTaskParameters(resource_path="/assets", method="GET"),
                     depends_on=["call"]),
    ]  # fmt: skip
    client.workflows.versions.upsert(
        WorkflowVersionUpsert(
            workflow_external_id=xid,
            version="1",
            workflow_definition=WorkflowDefinitionUpsert(tasks=tasks, description="two tasks"),
        )
    )


def wait_detailed(client: CogniteClient, execution_id: str, *statuses: str) -> WorkflowExecutionDetailed:
    def probe() -> WorkflowExecutionDetailed | None:
        detailed = client.workflows.executions.retrieve_detailed(execution_id)
        return detailed if detailed is not None and detailed.status in statuses else None

    return wait_until(probe, f"execution in {statuses}", 5)


def test_workflow_and_version_upsert_and_retrieve(client: CogniteClient) -> None:
    seed_with_sdk(client)
    workflow = client.workflows.retrieve("sdk-wf")
    assert workflow is not None and workflow.description == "from the sdk"
    version = client.workflows.versions.retrieve(WorkflowVersionId("sdk-wf", "1"))
    assert version is not None
    assert version.workflow_definition.hash_
    assert [t.external_id for t in version.workflow_definition.tasks] == ["call", "ping"]
    assert isinstance(version.workflow_definition.tasks[0].parameters, FunctionTaskParameters)
    assert client.workflows.retrieve("missing") is None
    assert client.workflows.versions.retrieve(WorkflowVersionId("sdk-wf", "9")) is None
    listed = client.workflows.versions.list(WorkflowVersionId("sdk-wf"))
    assert [v.version for v in listed] == ["1"]


def test_sessions_create_all_types(client: CogniteClient) -> None:
    own = client.iam.sessions.create()
    assert own.status == "READY" and own.nonce and own.type == "CLIENT_CREDENTIALS"
    explicit = client.iam.sessions.create(ClientCredentials("other-id", "other-secret"))
    assert explicit.client_id == "other-id"
    exchanged = client.iam.sessions.create(session_type="TOKEN_EXCHANGE")
    assert exchanged.type == "TOKEN_EXCHANGE"
    oneshot = client.iam.sessions.create(session_type="ONESHOT_TOKEN_EXCHANGE")
    assert oneshot.type == "ONESHOT_TOKEN_EXCHANGE"


def test_run_retrieve_detailed_and_list(emu: CdfEmulator, client: CogniteClient) -> None:
    seed_with_sdk(client)
    execution = client.workflows.executions.run("sdk-wf", "1", input={"day": "monday"}, metadata={"deployment": "d1"})
    assert isinstance(execution, WorkflowExecution)
    assert execution.status == "running"
    assert execution.metadata == {"deployment": "d1"}
    detailed = wait_detailed(client, execution.id, "completed")
    assert detailed.input == {"day": "monday"}
    assert [t.external_id for t in detailed.executed_tasks] == ["call", "ping"]
    call, ping = detailed.executed_tasks
    assert isinstance(call, WorkflowTaskExecution) and call.status == "completed"
    assert call.output is not None and ping.output is not None
    assert detailed.workflow_definition.hash_
    listed = client.workflows.executions.list(WorkflowVersionId("sdk-wf", "1"), statuses="completed", limit=None)
    assert [e.id for e in listed] == [execution.id]
    assert listed[0].metadata == {"deployment": "d1"}
    assert emu.sessions(PROJECT)[0]["status"] == "ACTIVE"


def test_run_with_client_credentials_and_with_nonce(emu: CdfEmulator, client: CogniteClient) -> None:
    seed_with_sdk(client)
    by_credentials = client.workflows.executions.run(
        "sdk-wf", "1", client_credentials=ClientCredentials("runner", "runner-secret")
    )
    nonce = client.iam.sessions.create(session_type="TOKEN_EXCHANGE").nonce
    by_nonce = client.workflows.executions.run("sdk-wf", "1", nonce=nonce)
    assert by_credentials.status == by_nonce.status == "running"
    assert {s["clientId"] for s in emu.sessions() if s["type"] == "CLIENT_CREDENTIALS"} == {"runner"}
    assert all("runner-secret" not in str(entry) for entry in emu.requests())
    with pytest.raises(CogniteAPIError) as reused:
        client.workflows.executions.run("sdk-wf", "1", nonce=nonce)
    assert reused.value.code == 400


def test_list_pages_through_more_than_one_page(emu: CdfEmulator, client: CogniteClient) -> None:
    seed_with_sdk(client)
    ids = {client.workflows.executions.run("sdk-wf", "1").id for _ in range(3)}
    # The SDK pages with its own limit; force small pages through the wire to exercise nextCursor.
    listed = client.workflows.executions.list(WorkflowVersionId("sdk-wf"), limit=2)
    assert len(listed) == 2
    assert {e.id for e in client.workflows.executions.list(WorkflowVersionId("sdk-wf"), limit=None)} == ids


def test_cancel_and_retry(emu: CdfEmulator, client: CogniteClient) -> None:
    seed_with_sdk(client)
    emu.set_outcome("sdk-wf", "1", "RUN_UNTIL_CANCELLED")
    execution = client.workflows.executions.run("sdk-wf", "1")
    cancelled = client.workflows.executions.cancel(execution.id, reason="test")
    assert cancelled.status == "terminated"
    assert cancelled.reason_for_incompletion == "test"
    emu.set_outcome("sdk-wf", "1", "COMPLETED")
    retried = client.workflows.executions.retry(execution.id)
    assert retried.status == "running"
    wait_detailed(client, execution.id, "completed")
    with pytest.raises(CogniteAPIError) as finished:
        client.workflows.executions.cancel(execution.id, reason="again")
    assert finished.value.code == 409


def test_failed_execution_reason(emu: CdfEmulator, client: CogniteClient) -> None:
    seed_with_sdk(client)
    emu.set_outcome("sdk-wf", "1", "FAILED", reason="bad input", failed_task="call")
    execution = client.workflows.executions.run("sdk-wf", "1")
    detailed = wait_detailed(client, execution.id, "failed")
    assert detailed.reason_for_incompletion == "bad input"
    assert detailed.executed_tasks[0].status == "failed"


def test_async_task_update(client: CogniteClient) -> None:
    seed_with_sdk(client, async_task=True)
    execution = client.workflows.executions.run("sdk-wf", "1")
    running = wait_detailed(client, execution.id, "running")
    [task] = [t for t in running.executed_tasks if t.task_type == "function"]  # started in the run's request
    assert task.status == "in_progress"
    updated = client.workflows.tasks.update(task.id, "completed", output={"answer": 42})
    assert isinstance(updated, WorkflowTaskExecution)
    assert updated.status == "completed"
    wait_detailed(client, execution.id, "completed")


def test_error_cases(emu: CdfEmulator, client: CogniteClient) -> None:
    seed_with_sdk(client)
    assert client.workflows.executions.retrieve_detailed("not-a-uuid") is None  # 400 -> None in the SDK
    with pytest.raises(CogniteNotFoundError):
        client.workflows.executions.retrieve_detailed("00000000-0000-4000-8000-000000000000")
    with pytest.raises(CogniteNotFoundError):
        client.workflows.executions.run("sdk-wf", "404")
    with pytest.raises(CogniteAPIError) as too_much:
        client.workflows.executions.run("sdk-wf", "1", metadata={str(i): "v" for i in range(11)})
    assert too_much.value.code == 400
    assert too_much.value.x_request_id


def test_unauthorized_static_token(emu: CdfEmulator) -> None:
    bad = make_client(emu, Token("not-issued"))
    with pytest.raises(CogniteProjectAccessError, match="code: 401"):
        bad.workflows.retrieve("anything")
    assert emu.requests("GET", "/token/inspect$")[0]["status"] == 401  # the SDK's probe after a 401


def test_static_token_session_uses_token_exchange(emu: CdfEmulator) -> None:
    client = make_client(emu, Token("static-ci-token"))
    seed_with_sdk(client)
    execution = client.workflows.executions.run("sdk-wf", "1")
    assert execution.status == "running"
    assert emu.sessions()[0]["type"] == "TOKEN_EXCHANGE"


def test_expired_token_is_401_and_a_new_token_works(emu: CdfEmulator, client: CogniteClient) -> None:
    seed_with_sdk(client)
    emu.expire_tokens()
    with pytest.raises(CogniteProjectAccessError):
        client.workflows.retrieve("sdk-wf")
    fresh = make_client(emu)
    assert fresh.workflows.retrieve("sdk-wf") is not None


# ----- workflows' dataSetId and triggers

NOON = int(datetime(2030, 1, 1, 12, 0, tzinfo=timezone.utc).timestamp() * 1000)


def nightly(cron: str = "0 2 * * *") -> WorkflowTriggerUpsert:
    return WorkflowTriggerUpsert(
        external_id="nightly",
        trigger_rule=WorkflowScheduledTriggerRule(cron_expression=cron, timezone=ZoneInfo("Europe/Oslo")),
        workflow_external_id="sdk-wf",
        workflow_version="1",
        input={"a": 1, "b": [2, 3]},
        metadata={"team": "data"},
    )


def on_new_time_series() -> WorkflowTriggerUpsert:
    view = ViewId("cdf_cdm", "CogniteTimeSeries", "v1")
    query = WorkflowTriggerDataModelingQuery(
        with_={"timeseries": NodeResultSetExpression(limit=500)},
        select={"timeseries": Select(sources=[SourceSelector(view, ["name"])])},
    )
    return WorkflowTriggerUpsert(
        external_id="on-new-ts",
        trigger_rule=WorkflowDataModelingTriggerRule(data_modeling_query=query, batch_size=500, batch_timeout=300),
        workflow_external_id="sdk-wf",
        workflow_version="1",
    )


def test_workflow_data_set_id_round_trip(client: CogniteClient) -> None:
    created = client.workflows.upsert(WorkflowUpsert(external_id="ds-wf", data_set_id=123456789012))
    assert created.data_set_id == 123456789012
    retrieved = client.workflows.retrieve("ds-wf")
    assert retrieved is not None and retrieved.data_set_id == 123456789012


def test_triggers_upsert_and_list_read_back_what_was_sent(emu: CdfEmulator, client: CogniteClient) -> None:
    seed_with_sdk(client)
    for sent in (nightly(), on_new_time_series()):
        created = client.workflows.triggers.upsert(sent)
        assert isinstance(created, WorkflowTrigger)
        assert created.as_write().dump() == sent.dump()
        assert created.is_paused is False and created.created_time == created.last_updated_time
    listed = client.workflows.triggers.list(limit=None)
    assert [t.external_id for t in listed] == ["nightly", "on-new-ts"]
    assert [t.as_write().dump() for t in listed] == [nightly().dump(), on_new_time_series().dump()]
    # The SDK creates a session with the client's own credentials; its nonce binds to the trigger.
    bound = {s["boundTriggerExternalId"]: s["type"] for s in emu.sessions() if "boundTriggerExternalId" in s}
    assert bound == {"nightly": "CLIENT_CREDENTIALS", "on-new-ts": "CLIENT_CREDENTIALS"}


def test_trigger_timezone_defaults_to_utc(client: CogniteClient) -> None:
    seed_with_sdk(client)
    rule = WorkflowScheduledTriggerRule(cron_expression="*/5 * * * *")
    created = client.workflows.triggers.upsert(WorkflowTriggerUpsert("utc", rule, "sdk-wf", "1"))
    assert isinstance(created.trigger_rule, WorkflowScheduledTriggerRule)
    assert created.trigger_rule.timezone == ZoneInfo("UTC")
    assert created.input == {} and created.metadata == {}


def test_trigger_update_in_place_pause_resume_and_delete(client: CogniteClient) -> None:
    seed_with_sdk(client)
    created = client.workflows.triggers.upsert(nightly())
    client.workflows.triggers.pause("nightly")
    client.workflows.triggers.pause("nightly")
    updated = client.workflows.triggers.upsert(nightly("0 * * * *"))
    assert updated.as_write().dump() == nightly("0 * * * *").dump()
    assert updated.created_time == created.created_time
    assert updated.last_updated_time > created.last_updated_time
    assert updated.is_paused is True
    client.workflows.triggers.resume("nightly")
    client.workflows.triggers.resume("nightly")
    assert [t.is_paused for t in client.workflows.triggers.list()] == [False]
    client.workflows.triggers.delete("nightly")
    assert len(client.workflows.triggers.list()) == 0
    with pytest.raises(CogniteNotFoundError):
        client.workflows.triggers.delete("nightly")


def test_trigger_errors_as_the_sdk_sees_them(client: CogniteClient) -> None:
    seed_with_sdk(client)
    with pytest.raises(CogniteAPIError, match=r"Workflow trigger not found\."):
        client.workflows.triggers.list_runs("integration_test-non_existing_trigger")
    for action in (client.workflows.triggers.pause, client.workflows.triggers.resume):
        with pytest.raises(CogniteAPIError, match=r"Trigger not found\."):
            action("integration_test-non_existing_trigger")
    with pytest.raises(CogniteAPIError, match="Invalid cron expression") as never:
        client.workflows.triggers.upsert(nightly("0 0 31 2 *"))
    assert never.value.code == 400


def test_trigger_runs_start_executions_the_sdk_reads(emu: CdfEmulator, client: CogniteClient) -> None:
    seed_with_sdk(client)
    emu.set_time(NOON)
    client.workflows.triggers.upsert(nightly("*/10 * * * *"))
    assert len(client.workflows.triggers.list_runs("nightly")) == 0
    emu.advance_time(30 * 60)
    runs = client.workflows.triggers.list_runs("nightly", limit=None)
    assert all(isinstance(r, WorkflowTriggerRun) for r in runs)
    assert [r.fire_time for r in runs] == [NOON + m * 60_000 for m in (30, 20, 10)]
    assert {(r.status, r.workflow_external_id, r.workflow_version) for r in runs} == {("success", "sdk-wf", "1")}
    run_ids = [r.workflow_execution_id for r in runs]
    assert all(run_ids) and len(client.workflows.triggers.list_runs("nightly", limit=2)) == 2
    detailed = wait_detailed(client, str(run_ids[0]), "completed")
    assert detailed.input == {"a": 1, "b": [2, 3], "version": "1"}  # version gets appended by a trigger
    assert detailed.metadata == {"team": "data"}


def test_workflow_delete_while_an_execution_runs_is_an_api_error(emu: CdfEmulator, client: CogniteClient) -> None:
    seed_with_sdk(client)
    emu.set_outcome("sdk-wf", "1", "RUN_UNTIL_CANCELLED")
    execution = client.workflows.executions.run("sdk-wf", "1")
    with pytest.raises(CogniteAPIError, match="running executions") as refused:
        client.workflows.delete("sdk-wf")
    assert refused.value.code == 400
    client.workflows.executions.cancel(execution.id, reason="to delete")
    client.workflows.delete("sdk-wf")
    assert client.workflows.retrieve("sdk-wf") is None


def test_data_modeling_trigger_runs_carry_the_matches(emu: CdfEmulator, client: CogniteClient) -> None:
    seed_with_sdk(client)
    client.workflows.triggers.upsert(on_new_time_series())
    emu.add_trigger_matches("on-new-ts", [{"space": "sp", "externalId": "ts-1"}])
    emu.advance_time(300)  # the rule's batchTimeout
    [run] = client.workflows.triggers.list_runs("on-new-ts")
    assert run.status == "success" and run.workflow_execution_id
    detailed = wait_detailed(client, run.workflow_execution_id, "completed")
    assert detailed.input is not None and detailed.input["items"] == [{"space": "sp", "externalId": "ts-1"}]
