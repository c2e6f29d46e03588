"""Models load the API's JSON (samples from cdf-api.md), keep unknown fields and hide nonces."""

from __future__ import annotations

from pydantic import SecretStr

from pulumi_cdf_workflows.cdf import CdfClientCredentials
from pulumi_cdf_workflows.cdf.models import (
    CdfCreatedSession,
    CdfWorkflowExecution,
    CdfWorkflowExecutionDetailed,
    CdfWorkflowStatus,
    CdfWorkflowVersion,
)

EXECUTION = {
    "id": "0b0ab7e1-5e1c-4b43-a0a9-2f6a0a6f0c11",
    "workflowExternalId": "wf",
    "version": "1",
    "status": "RUNNING",
    "engineExecutionId": "8f4c0e0e-0000-4000-8000-000000000001",
    "createdTime": 1730000000000,
    "startTime": 1730000000001,
    "metadata": {"deployedBy": "pulumi"},
}

DETAILED = EXECUTION | {
    "status": "COMPLETED",
    "endTime": 1730000000500,
    "input": {"a": 1},
    "workflowDefinition": {
        "hash": "abc",
        "tasks": [{"externalId": "task-1", "type": "cdf", "parameters": {"cdfRequest": {}}}],
    },
    "executedTasks": [
        {
            "id": "t-1",
            "externalId": "task-1",
            "status": "COMPLETED",
            "taskType": "cdf",
            "input": {"cdfRequest": {"resourcePath": "/timeseries"}},
            "output": {"statusCode": 200, "response": {}},
            "startTime": 1730000000002,
            "endTime": 1730000000400,
        }
    ],
    "someFutureField": {"x": 1},
}


def test_execution_loads_with_snake_case_attributes() -> None:
    e = CdfWorkflowExecution.model_validate(EXECUTION)
    assert e.workflow_external_id == "wf"
    assert e.status == "RUNNING" == CdfWorkflowStatus.RUNNING
    assert e.engine_execution_id == EXECUTION["engineExecutionId"]
    assert e.metadata == {"deployedBy": "pulumi"}
    assert not e.is_terminal


def test_execution_needs_only_the_required_fields() -> None:
    required = {"id": "x", "workflowExternalId": "wf", "status": "FAILED", "createdTime": 1}
    e = CdfWorkflowExecution.model_validate(required)
    assert e.version is None and e.end_time is None and e.is_terminal


def test_detailed_execution_loads_tasks_and_keeps_unknown_fields() -> None:
    d = CdfWorkflowExecutionDetailed.model_validate(DETAILED)
    assert d.workflow_definition is not None and d.workflow_definition.hash == "abc"
    assert [t.external_id for t in d.executed_tasks] == ["task-1"]
    assert d.executed_tasks[0].task_type == "cdf"
    assert d.executed_tasks[0].output == {"statusCode": 200, "response": {}}
    assert d.input == {"a": 1}
    assert d.model_extra == {"someFutureField": {"x": 1}}
    assert d.dump()["someFutureField"] == {"x": 1}
    assert d.dump()["workflowExternalId"] == "wf"


def test_unknown_status_is_tolerated() -> None:
    e = CdfWorkflowExecution.model_validate(EXECUTION | {"status": "QUEUED"})
    assert e.status == "QUEUED" and not e.is_terminal


def test_terminal_statuses() -> None:
    assert [s.value for s in CdfWorkflowStatus if CdfWorkflowStatus.is_terminal(s.value)] == [
        "COMPLETED",
        "FAILED",
        "TIMED_OUT",
        "TERMINATED",
    ]


def test_created_session_hides_its_nonce() -> None:
    s = CdfCreatedSession.model_validate(
        {
            "id": 4000000000001,
            "type": "CLIENT_CREDENTIALS",
            "status": "READY",
            "nonce": "n0nce-v4lue",
            "clientId": "c",
        }
    )
    assert s.nonce.get_secret_value() == "n0nce-v4lue"
    assert "n0nce-v4lue" not in repr(s) and "n0nce-v4lue" not in str(s)
    assert s.client_id == "c"


def test_created_session_from_sdk_mock_shape() -> None:
    s = CdfCreatedSession.model_validate({"id": 1, "status": "READY", "nonce": "n"})
    assert s.type is None and s.client_id is None


def test_client_credentials_dump_and_repr() -> None:
    c = CdfClientCredentials(client_id="id", client_secret=SecretStr("sec"))
    assert c.dump() == {"clientId": "id", "clientSecret": "sec"}
    assert "sec'" not in repr(c) and "'sec" not in repr(c)


def test_workflow_version_loads() -> None:
    v = CdfWorkflowVersion.model_validate(
        {
            "workflowExternalId": "wf",
            "version": "1",
            "workflowDefinition": {"hash": "h", "tasks": []},
            "createdTime": 1,
            "lastUpdatedTime": 2,
        }
    )
    assert v.workflow_definition.hash == "h" and v.last_updated_time == 2


def test_errors_survive_pickling() -> None:
    import pickle

    from pulumi_cdf_workflows.cdf.errors import CdfNotFoundError, ExecutionMayHaveStartedError

    error = ExecutionMayHaveStartedError("lost", project="p", workflow_external_id="wf", version="1", status=503)
    copy = pickle.loads(pickle.dumps(error))
    assert (type(copy), str(copy), copy.workflow_external_id, copy.status) == (type(error), "lost", "wf", 503)
    other = pickle.loads(pickle.dumps(CdfNotFoundError("gone", status=404, missing=[{"id": "x"}])))
    assert (other.status, other.missing) == (404, [{"id": "x"}])
