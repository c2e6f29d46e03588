"""Every client call against the emulator: what is sent, what comes back, and the API errors."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from pydantic import SecretStr

from pulumi_cdf_workflows._version import __version__
from pulumi_cdf_workflows.cdf import CdfClient, CdfClientCredentials
from pulumi_cdf_workflows.cdf.errors import CdfApiError, CdfNotFoundError, WorkflowBusyError
from pulumi_cdf_workflows.cdf.models import CdfWorkflowExecution, CdfWorkflowStatus
from pulumi_cdf_workflows.emulator import CdfEmulator

from .conftest import (
    CLIENT_ID,
    PROJECT,
    RUN_CLIENT_ID,
    RUN_CLIENT_SECRET,
    RUN_PATH,
    WF,
    Sleeps,
    oauth_settings,
    static_settings,
    wait_for_status,
)

RUN_AS = CdfClientCredentials(client_id=RUN_CLIENT_ID, client_secret=SecretStr(RUN_CLIENT_SECRET))
UNKNOWN_UUID = "00000000-0000-4000-8000-000000000000"


@pytest.fixture
def static_client(emu: CdfEmulator, sleeps: Sleeps) -> CdfClient:
    return CdfClient(static_settings(emu.base_url), sleep=sleeps)


def test_every_request_carries_the_cdf_headers(emu: CdfEmulator, client: CdfClient) -> None:
    client.run(WF, "1")
    for entry in emu.requests(path=r"^/api/"):
        headers = entry["headers"]
        assert headers["cdf-version"] == "20230101"
        assert headers["x-cdp-app"] == "pulumi-cdf-workflows"
        assert headers["x-cdp-sdk"] == f"pulumi-cdf-workflows:{__version__}"
        assert headers["content-type"] == "application/json"
        assert headers["accept"] == "application/json"
        assert "authorization" in headers


# ---------------------------------------------------------------- sessions


def test_create_session_uses_the_connections_own_client_by_default(emu: CdfEmulator, client: CdfClient) -> None:
    session = client.create_session()
    assert (session.type, session.status, session.client_id) == ("CLIENT_CREDENTIALS", "READY", CLIENT_ID)
    assert emu.requests("POST", r"/sessions$")[0]["body"] == {
        "items": [{"clientId": CLIENT_ID, "clientSecret": "<redacted>"}]
    }


def test_create_session_with_explicit_client_credentials(client: CdfClient) -> None:
    session = client.create_session(RUN_AS)
    assert (session.type, session.client_id) == ("CLIENT_CREDENTIALS", RUN_CLIENT_ID)


def test_create_session_by_token_exchange(client: CdfClient, static_client: CdfClient) -> None:
    assert client.create_session(token_exchange=True).type == "TOKEN_EXCHANGE"
    assert static_client.create_session().type == "TOKEN_EXCHANGE"


def test_create_session_with_bad_client_credentials_is_a_400(client: CdfClient) -> None:
    bad = CdfClientCredentials(client_id=RUN_CLIENT_ID, client_secret=SecretStr("nope-s3cret"))
    with pytest.raises(CdfApiError) as info:
        client.create_session(bad)
    assert info.value.status == 400
    assert RUN_CLIENT_ID in str(info.value) and "nope-s3cret" not in str(info.value)


# ---------------------------------------------------------------- run


def test_run_sends_nonce_input_and_metadata_once(emu: CdfEmulator, client: CdfClient) -> None:
    execution = client.run(WF, "1", input={"a": 1, "b": [1, 2]}, metadata={"deployedBy": "pulumi"})
    assert isinstance(execution, CdfWorkflowExecution)
    assert execution.status == CdfWorkflowStatus.RUNNING
    assert (execution.workflow_external_id, execution.version) == (WF, "1")
    assert execution.metadata == {"deployedBy": "pulumi"}
    [run] = emu.requests("POST", RUN_PATH)
    assert run["body"]["input"] == {"a": 1, "b": [1, 2]}
    assert run["body"]["metadata"] == {"deployedBy": "pulumi"}
    assert set(run["body"]["authentication"]) == {"nonce"}
    assert [e["id"] for e in emu.executions()] == [execution.id]


def test_run_leaves_out_input_and_metadata_when_not_given(emu: CdfEmulator, client: CdfClient) -> None:
    client.run(WF, "1")
    assert set(emu.requests("POST", RUN_PATH)[0]["body"]) == {"authentication"}


def test_run_with_explicit_nonce_creates_no_session(emu: CdfEmulator, client: CdfClient) -> None:
    nonce = client.create_session().nonce.get_secret_value()
    client.run(WF, "1", nonce=nonce, client_credentials=RUN_AS)  # the nonce wins, as in the SDK
    assert len(emu.requests("POST", r"/sessions$")) == 1
    (session,) = emu.backend._nonces.values()  # the request log redacts nonces; the emulator knows them
    assert session.nonce == nonce
    assert session.bound_execution == emu.executions()[0]["id"]


def test_run_with_client_credentials_creates_a_session_with_those(emu: CdfEmulator, client: CdfClient) -> None:
    client.run(WF, "1", client_credentials=RUN_AS)
    [session] = emu.sessions()
    assert (session["type"], session["clientId"]) == ("CLIENT_CREDENTIALS", RUN_CLIENT_ID)


def test_run_defaults_to_the_connections_client(emu: CdfEmulator, client: CdfClient) -> None:
    client.run(WF, "1")
    [session] = emu.sessions()
    assert (session["type"], session["clientId"]) == ("CLIENT_CREDENTIALS", CLIENT_ID)


def test_run_with_a_static_token_uses_token_exchange(emu: CdfEmulator, static_client: CdfClient) -> None:
    static_client.run(WF, "1")
    assert [s["type"] for s in emu.sessions()] == ["TOKEN_EXCHANGE"]


def test_run_unknown_version_is_not_found(emu: CdfEmulator, client: CdfClient) -> None:
    with pytest.raises(CdfNotFoundError) as info:
        client.run(WF, "404")
    assert info.value.status == 404
    assert f"workflow {WF!r} version '404' in project {PROJECT!r}" in str(info.value)
    assert info.value.request_id and info.value.request_id in str(info.value)
    assert emu.executions() == []


def test_run_with_a_bad_nonce_is_a_400(emu: CdfEmulator, client: CdfClient) -> None:
    with pytest.raises(CdfApiError) as info:
        client.run_execution(WF, "1", nonce="not-a-real-nonce-value")
    assert info.value.status == 400
    assert "Invalid nonce" in str(info.value)
    assert "not-a-real-nonce-value" not in str(info.value)
    assert emu.executions() == []


def test_run_url_encodes_path_segments(emu: CdfEmulator, client: CdfClient) -> None:
    emu.upsert_workflow_version(PROJECT, "my wf/x", "v 1")
    execution = client.run("my wf/x", "v 1")
    assert execution.workflow_external_id == "my wf/x"
    assert emu.requests("POST", RUN_PATH)[0]["path"].endswith("/workflows/my%20wf%2Fx/versions/v%201/run")


# ---------------------------------------------------------------- retrieve and list


def test_retrieve_execution_is_detailed(client: CdfClient) -> None:
    execution = client.run(WF, "1", input={"x": 1})
    assert wait_for_status(client, execution.id, {"COMPLETED"}) == "COMPLETED"
    detailed = client.retrieve_execution(execution.id)
    assert detailed.input == {"x": 1}
    assert detailed.workflow_definition is not None and detailed.workflow_definition.hash
    assert [t.external_id for t in detailed.executed_tasks] == ["task-1"]
    assert detailed.executed_tasks[0].status == "COMPLETED"
    assert detailed.end_time is not None and detailed.is_terminal


def test_retrieve_unknown_execution_is_not_found(client: CdfClient) -> None:
    with pytest.raises(CdfNotFoundError) as info:
        client.retrieve_execution(UNKNOWN_UUID)
    assert info.value.status == 404
    assert UNKNOWN_UUID in str(info.value) and PROJECT in str(info.value)


def test_retrieve_malformed_execution_id_is_an_error_not_a_missing_execution(client: CdfClient) -> None:
    # Only a 404 says an execution does not exist; a refresh must not drop a resource for anything else.
    with pytest.raises(CdfApiError) as info:
        client.retrieve_execution("not-a-uuid")
    assert not isinstance(info.value, CdfNotFoundError)
    assert info.value.status == 400
    assert "'not-a-uuid'" in str(info.value)


def test_list_executions_filters_and_follows_cursors(emu: CdfEmulator, client: CdfClient) -> None:
    emu.upsert_workflow_version(PROJECT, WF, "2")
    emu.upsert_workflow_version(PROJECT, "other", "1")
    ids_v1 = {client.run(WF, "1").id for _ in range(3)}
    ids_v2 = {client.run(WF, "2").id}
    client.run("other", "1")
    client._page_limit = 2  # force several pages
    assert {e.id for e in client.list_executions([(WF, "1")], limit=None)} == ids_v1
    assert {e.id for e in client.list_executions([WF], limit=None)} == ids_v1 | ids_v2
    assert len(client.list_executions(limit=None)) == 5
    assert len(client.list_executions([WF], limit=3)) == 3
    bodies = [r["body"] for r in emu.requests("POST", r"/executions/list$")]
    assert bodies[0] == {"limit": 2, "filter": {"workflowFilters": [{"externalId": WF, "version": "1"}]}}
    assert "cursor" in bodies[1]


def test_list_executions_by_status_and_created_time(client: CdfClient) -> None:
    first = client.run(WF, "1")
    wait_for_status(client, first.id, {"COMPLETED"})
    second = client.run(WF, "1")
    done = client.list_executions([(WF, "1")], statuses=["completed"])
    assert first.id in {e.id for e in done}
    later = client.list_executions([(WF, "1")], created_time_start=second.created_time)
    assert [e.id for e in later] == [second.id]
    earlier = client.list_executions([(WF, "1")], created_time_end=first.created_time)
    assert [e.id for e in earlier] == [first.id]


# ---------------------------------------------------------------- cancel and retry


def test_cancel_terminates_a_running_execution(emu: CdfEmulator, client: CdfClient) -> None:
    emu.set_outcome(WF, "1", "RUN_UNTIL_CANCELLED")
    execution = client.run(WF, "1")
    cancelled = client.cancel_execution(execution.id, reason="no longer needed")
    assert cancelled.status == "TERMINATED"
    assert cancelled.reason_for_incompletion == "no longer needed"
    assert emu.requests("POST", r"/cancel$")[0]["body"] == {"reason": "no longer needed"}


def test_cancel_without_reason_sends_an_empty_body(emu: CdfEmulator, client: CdfClient) -> None:
    emu.set_outcome(WF, "1", "RUN_UNTIL_CANCELLED")
    client.cancel_execution(client.run(WF, "1").id)
    assert emu.requests("POST", r"/cancel$")[0]["body"] == {}


def test_cancel_a_finished_execution_is_a_409(client: CdfClient) -> None:
    execution = client.run(WF, "1")
    wait_for_status(client, execution.id, {"COMPLETED"})
    with pytest.raises(CdfApiError) as info:
        client.cancel_execution(execution.id)
    assert info.value.status == 409
    assert f"Cancelling workflow execution {execution.id!r} in project {PROJECT!r}" in str(info.value)


def test_cancel_unknown_execution_is_not_found(client: CdfClient) -> None:
    with pytest.raises(CdfNotFoundError):
        client.cancel_execution(UNKNOWN_UUID)


def test_retry_creates_a_fresh_session_and_runs_again(emu: CdfEmulator, client: CdfClient) -> None:
    emu.set_outcome(WF, "1", "FAILED", reason="boom")
    execution = client.run(WF, "1")
    assert wait_for_status(client, execution.id, {"FAILED"}) == "FAILED"
    emu.set_outcome(WF, "1", "COMPLETED")
    retried = client.retry_execution(execution.id, client_credentials=RUN_AS)
    assert (retried.id, retried.status) == (execution.id, "RUNNING")
    assert [s["clientId"] for s in emu.sessions()] == [CLIENT_ID, RUN_CLIENT_ID]
    assert len(emu.executions()) == 1


def test_retry_a_running_execution_is_refused(client: CdfClient, emu: CdfEmulator) -> None:
    emu.set_outcome(WF, "1", "RUN_UNTIL_CANCELLED")
    execution = client.run(WF, "1")
    with pytest.raises(CdfApiError) as info:
        client.retry_execution(execution.id)
    assert info.value.status in (400, 409)
    assert execution.id in str(info.value)


# ---------------------------------------------------------------- workflows and versions


def test_retrieve_workflow_version(client: CdfClient) -> None:
    version = client.retrieve_workflow_version(WF, "1")
    assert version is not None
    assert (version.workflow_external_id, version.version) == (WF, "1")
    assert version.workflow_definition.tasks[0]["externalId"] == "task-1"
    assert client.retrieve_workflow_version(WF, "nope") is None
    assert client.retrieve_workflow_version("nope", "1") is None


def test_upsert_workflow_and_version_then_run(emu: CdfEmulator, client: CdfClient) -> None:
    workflow = client.upsert_workflow("new-wf", description="made by a test")
    assert (workflow.external_id, workflow.description) == ("new-wf", "made by a test")
    task = {"externalId": "t1", "type": "cdf", "parameters": {"cdfRequest": {"resourcePath": "/x", "method": "GET"}}}
    version = client.upsert_workflow_version("new-wf", "1", [task], description="v1")
    assert version.workflow_definition.description == "v1"
    assert client.retrieve_workflow("new-wf") is not None
    assert client.retrieve_workflow("missing-wf") is None
    execution = client.run("new-wf", "1")
    assert wait_for_status(client, execution.id, {"COMPLETED"}) == "COMPLETED"


def test_client_is_a_context_manager(emu: CdfEmulator, sleeps: Sleeps) -> None:
    with CdfClient(static_settings(emu.base_url), sleep=sleeps) as client:
        assert client.retrieve_workflow_version(WF, "1") is not None
    assert "static-test-token" not in repr(client)


def test_clients_for_two_projects_do_not_mix(emu: CdfEmulator, make_client: Callable[..., CdfClient]) -> None:
    emu.upsert_workflow_version("other-project", WF, "1")
    other = make_client(project="other-project")
    other.run(WF, "1")
    assert [e["project"] for e in emu.executions()] == ["other-project"]


def test_works_with_the_shared_cdf_emulator_fixture(cdf_emulator: CdfEmulator, sleeps: Sleeps) -> None:
    cdf_emulator.upsert_workflow_version(PROJECT, WF, "1")
    settings = oauth_settings(cdf_emulator, client_id="any-client", client_secret=SecretStr("any-secret"))
    with CdfClient(settings, sleep=sleeps) as client:
        execution = client.run(WF, "1")
        assert wait_for_status(client, execution.id, {"COMPLETED"}) == "COMPLETED"


def test_deleting_a_workflow_with_running_executions_raises_workflow_busy(emu: CdfEmulator, client: CdfClient) -> None:
    emu.set_outcome(WF, "1", "RUN_UNTIL_CANCELLED")
    execution = client.run(WF, "1")
    with pytest.raises(WorkflowBusyError, match="running executions") as caught:
        client.delete_workflow(WF)
    assert caught.value.status == 400
    client.cancel_execution(execution.id)
    client.delete_workflow(WF)
    assert client.retrieve_workflow(WF) is None
