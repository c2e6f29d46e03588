"""Fidelity: the official cognite-sdk drives the emulator and every reply parses into its data classes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("cognite.client")

import cognite.client
from cognite.client import ClientConfig, CogniteClient
from cognite.client.credentials import OAuthClientCredentials, Token
from cognite.client.data_classes import ClientCredentials
from cognite.client.data_classes.workflows import (
    CDFTaskParameters,
    FunctionTaskParameters,
    WorkflowDefinitionUpsert,
    WorkflowExecution,
    WorkflowExecutionDetailed,
    WorkflowTask,
    WorkflowTaskExecution,
    WorkflowUpsert,
    WorkflowVersionId,
    WorkflowVersionUpsert,
)
from cognite.client.exceptions import (
    CogniteAPIError,
    CogniteNotFoundError,
    CogniteProjectAccessError,
)

from pulumi_cdf_workflows.emulator import CdfEmulator

from .conftest import PROJECT, wait_until

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

    return wait_until(probe, 5, f"execution in {statuses}")


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
    task = wait_until(
        lambda: [t for t in wait_detailed(client, execution.id, "running").executed_tasks if t.task_type == "function"],
        what="the async function task to start",
    )[0]
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
