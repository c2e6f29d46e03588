"""Fidelity: the official cognite-sdk's sessions API (list, retrieve, revoke), version upserts with every task
type and record-stream triggers, against the emulator; every reply parses into the SDK's data classes."""

from __future__ import annotations

import pytest

pytest.importorskip("cognite.client")

from cognite.client import CogniteClient
from cognite.client.data_classes import RevokedSession, Session, SessionList
from cognite.client.data_classes.workflows import (
    CDFTaskParameters,
    DynamicTaskParameters,
    FunctionTaskParameters,
    SubworkflowReferenceParameters,
    SubworkflowTaskParameters,
    TransformationTaskParameters,
    UnknownWorkflowTaskParameters,
    WorkflowDefinitionUpsert,
    WorkflowRecordStreamTriggerRule,
    WorkflowTask,
    WorkflowTriggerUpsert,
    WorkflowVersionId,
    WorkflowVersionUpsert,
)
from cognite.client.exceptions import CogniteAPIError, CogniteNotFoundError

from pulumi_cdf_workflows.emulator import CdfEmulator

from .test_sdk_fidelity import make_client


@pytest.fixture
def client(emu: CdfEmulator) -> CogniteClient:
    return make_client(emu)


# ----- sessions


def test_list_retrieve_and_revoke_as_the_sdk_calls_them(client: CogniteClient) -> None:
    created = client.iam.sessions.create()
    ready = client.iam.sessions.list(status="READY", limit=-1)
    assert isinstance(ready, SessionList) and created.id in {s.id for s in ready}
    retrieved = client.iam.sessions.retrieve(created.id)
    assert isinstance(retrieved, Session)
    assert (retrieved.id, retrieved.type, retrieved.status, retrieved.client_id) == (
        created.id, "CLIENT_CREDENTIALS", "READY", "sdk-client")  # fmt: skip
    assert retrieved.creation_time > 0 and retrieved.expiration_time >= retrieved.creation_time
    revoked = client.iam.sessions.revoke(created.id)
    assert isinstance(revoked, RevokedSession) and (revoked.id, revoked.status) == (created.id, "REVOKED")
    assert created.id in {s.id for s in client.iam.sessions.list(status="REVOKED")}
    assert created.id not in {s.id for s in client.iam.sessions.list(status="READY")}


def test_a_revoked_nonce_cannot_start_a_run(client: CogniteClient) -> None:
    session = client.iam.sessions.create(session_type="TOKEN_EXCHANGE")
    client.iam.sessions.revoke(session.id)
    with pytest.raises(CogniteAPIError) as refused:
        client.workflows.executions.run("wf", "1", nonce=session.nonce)
    assert refused.value.code == 400 and "revoked" in refused.value.message


def test_retrieve_of_unknown_ids_is_not_found(client: CogniteClient) -> None:
    known = client.iam.sessions.create()
    assert client.iam.sessions.retrieve(123) is None  # the SDK maps a singleton's missing id to None
    with pytest.raises(CogniteNotFoundError) as missing:
        client.iam.sessions.retrieve([known.id, 123])
    assert missing.value.not_found == [{"id": 123}]
    assert [s.id for s in client.iam.sessions.retrieve([known.id])] == [known.id]


def test_list_pages_past_the_sdks_page_of_100(emu: CdfEmulator, client: CogniteClient) -> None:
    for _ in range(130):
        emu.backend.sessions.create("test-project", "TOKEN_EXCHANGE")
    assert len(client.iam.sessions.list(limit=-1)) == 130
    assert len(client.iam.sessions.list()) == 25  # the SDK's default limit


def test_revoke_many_in_one_call(client: CogniteClient) -> None:
    made = [client.iam.sessions.create(session_type="TOKEN_EXCHANGE").id for _ in range(3)]
    revoked = client.iam.sessions.revoke(made)
    assert sorted(s.id for s in revoked) == sorted(made) and {s.status for s in revoked} == {"REVOKED"}


# ----- versions with every task type


def test_every_task_type_round_trips_through_the_sdk(client: CogniteClient) -> None:
    tasks = [
        WorkflowTask("call", FunctionTaskParameters("fn", data={"a": 1})),
        WorkflowTask("load", TransformationTaskParameters("tr")),
        WorkflowTask("ping", CDFTaskParameters("/assets/list", "POST", body={"limit": 1})),
        WorkflowTask("fan-out", DynamicTaskParameters("${call.output.response.tasks}"), depends_on=["call"]),
        WorkflowTask("nested", SubworkflowTaskParameters([WorkflowTask("inner", TransformationTaskParameters("t2"))])),
        WorkflowTask("embedded", SubworkflowReferenceParameters("wf", "1")),
        WorkflowTask("app", UnknownWorkflowTaskParameters("functionApp", {"functionApp": {"externalId": "a",
                                                                                           "path": "/p"}})),
    ]  # fmt: skip
    upsert = WorkflowVersionUpsert("sdk-types", "1", WorkflowDefinitionUpsert(tasks, "every type"))
    created = client.workflows.versions.upsert(upsert)
    retrieved = client.workflows.versions.retrieve(WorkflowVersionId("sdk-types", "1"))
    assert retrieved is not None and retrieved.dump() == created.dump()
    by_id = {t.external_id: t for t in retrieved.workflow_definition.tasks}
    assert [t.external_id for t in retrieved.workflow_definition.tasks] == [t.external_id for t in tasks]
    call = by_id["call"].parameters
    assert isinstance(call, FunctionTaskParameters) and call.is_async_complete is False
    load = by_id["load"].parameters
    assert isinstance(load, TransformationTaskParameters)
    assert (load.concurrency_policy, load.use_transformation_credentials) == ("fail", False)
    assert isinstance(by_id["ping"].parameters, CDFTaskParameters)
    assert by_id["ping"].parameters.request_timeout_in_millis == 10000
    assert isinstance(by_id["fan-out"].parameters, DynamicTaskParameters)
    assert isinstance(by_id["nested"].parameters, SubworkflowTaskParameters)
    assert isinstance(by_id["embedded"].parameters, SubworkflowReferenceParameters)
    assert isinstance(by_id["app"].parameters, UnknownWorkflowTaskParameters)
    assert all((t.retries, t.timeout, t.on_failure) == (3, 3600, "abortWorkflow") for t in by_id.values())


def test_a_typo_in_parameters_is_an_api_error_400(client: CogniteClient) -> None:
    typo = UnknownWorkflowTaskParameters("function", {"function": {"externalId": "fn"}, "isAsyncCompleted": True})
    upsert = WorkflowVersionUpsert("sdk-typo", "1", WorkflowDefinitionUpsert([WorkflowTask("call", typo)]))
    with pytest.raises(CogniteAPIError) as refused:
        client.workflows.versions.upsert(upsert)
    assert refused.value.code == 400 and "isAsyncCompleted" in refused.value.message
    assert client.workflows.versions.retrieve(WorkflowVersionId("sdk-typo", "1")) is None


# ----- record-stream triggers


def test_a_record_stream_trigger_round_trips_and_its_bounds_are_enforced(client: CogniteClient) -> None:
    rule = WorkflowRecordStreamTriggerRule("readings", batch_size=100, batch_timeout=60, initialize_cursor="6h-ago")
    upsert = WorkflowTriggerUpsert("on-readings", rule, "wf", "1")
    created = client.workflows.triggers.upsert(upsert)
    assert isinstance(created.trigger_rule, WorkflowRecordStreamTriggerRule)
    assert created.trigger_rule.dump() == rule.dump()
    [listed] = [t for t in client.workflows.triggers.list(limit=-1) if t.external_id == "on-readings"]
    assert listed.trigger_rule.dump() == rule.dump()
    too_big = WorkflowTriggerUpsert("too-big", WorkflowRecordStreamTriggerRule("readings", 101, 60), "wf", "1")
    with pytest.raises(CogniteAPIError) as refused:
        client.workflows.triggers.upsert(too_big)
    assert refused.value.code == 400 and "batchSize" in refused.value.message
