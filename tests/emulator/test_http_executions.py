"""Execution routes over real HTTP on 127.0.0.1: run, retrieve, list, cancel, retry and async task update."""

from __future__ import annotations

from typing import Any

import pytest

from pulumi_cdf_workflows.emulator import CdfEmulator

from .conftest import PROJECT, Api, assert_envelope

UNKNOWN_UUID = "00000000-0000-4000-8000-000000000000"


# ----- run, retrieve, list


def test_run_answers_202_with_running_execution_and_metadata(api: Api) -> None:
    response = api.run(input={"x": 1}, metadata={"deployment": "abc"})
    assert response.status_code == 202
    execution = response.json()
    assert execution["status"] == "RUNNING"
    assert execution["metadata"] == {"deployment": "abc"}
    assert len(execution["id"]) == 36 and len(execution["engineExecutionId"]) == 36
    assert execution["workflowExternalId"] == "wf" and execution["version"] == "1"
    assert isinstance(execution["createdTime"], int)
    done = api.wait_status(execution["id"], "COMPLETED")
    assert set(done) >= {
        "workflowDefinition",
        "executedTasks",
        "input",
        "metadata",
        "engineExecutionId",
        "endTime",
    }
    task = done["executedTasks"][0]
    assert set(task) >= {"id", "externalId", "status", "taskType", "input", "output", "startTime", "endTime"}


def test_run_unknown_version_is_404_and_keeps_the_nonce_usable(api: Api) -> None:
    nonce = api.nonce()
    assert_envelope(api.post("/workflows/wf/versions/9/run", {"authentication": {"nonce": nonce}}), 404)
    assert api.post("/workflows/wf/versions/1/run", {"authentication": {"nonce": nonce}}).status_code == 202


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"input": {"blob": "x" * 102400}}, "102400 bytes"),
        ({"metadata": {str(i): "v" for i in range(11)}}, "at most 10"),
        ({"metadata": {"k" * 33: "v"}}, "32"),
        ({"metadata": {"k": "v" * 256}}, "255"),
    ],
)
def test_run_limits_are_400(api: Api, extra: dict[str, Any], message: str) -> None:
    assert_envelope(api.run(**extra), 400, message)


def test_run_without_nonce_is_400(api: Api) -> None:
    assert_envelope(api.post("/workflows/wf/versions/1/run", {}), 400, "nonce")


def test_long_ids_are_400(api: Api) -> None:
    assert_envelope(api.run("w" * 256), 400, "255")


def test_retrieve_malformed_id_is_400_and_unknown_is_404(api: Api) -> None:
    assert_envelope(api.get("/workflows/executions/not-a-uuid"), 400)
    assert_envelope(api.get(f"/workflows/executions/{UNKNOWN_UUID}"), 404)


def test_list_filters_pages_and_omits_details(emu: CdfEmulator, api: Api) -> None:
    emu.upsert_workflow_version(PROJECT, "wf", "2")
    ids = [api.run().json()["id"], api.run("wf", "2").json()["id"], api.run().json()["id"]]
    body: dict[str, Any] = {"filter": {"workflowFilters": [{"externalId": "wf", "version": "1"}]}, "limit": 1}
    first = api.post("/workflows/executions/list", body).json()
    second = api.post("/workflows/executions/list", {**body, "cursor": first["nextCursor"]}).json()
    assert [e["id"] for e in first["items"] + second["items"]] == [ids[2], ids[0]]
    assert "nextCursor" not in second
    item = first["items"][0]
    assert "metadata" in item
    assert not {"executedTasks", "workflowDefinition", "input"} & set(item)
    all_items = api.post("/workflows/executions/list", {}).json()["items"]
    assert len(all_items) == 3


@pytest.mark.parametrize("limit", [0, 1001, "10"])
def test_list_limit_range(api: Api, limit: Any) -> None:
    assert_envelope(api.post("/workflows/executions/list", {"limit": limit}), 400, "limit")


def test_list_accepts_limit_1000(api: Api) -> None:
    assert api.post("/workflows/executions/list", {"limit": 1000}).status_code == 200


# ----- cancel, retry, task update


def test_cancel_terminates_immediately(emu: CdfEmulator, api: Api) -> None:
    emu.set_outcome("wf", "1", "RUN_UNTIL_CANCELLED")
    execution_id = api.run().json()["id"]
    assert api.execution(execution_id)["executedTasks"]  # started in the run's request
    response = api.post(f"/workflows/executions/{execution_id}/cancel", {"reason": "stop"})
    assert response.status_code == 200
    assert response.json()["status"] == "TERMINATED"
    assert response.json()["reasonForIncompletion"] == "stop"
    assert api.execution(execution_id)["executedTasks"][0]["status"] == "CANCELED"


def test_cancel_rules(emu: CdfEmulator, api: Api) -> None:
    emu.set_outcome("wf", "1", "RUN_UNTIL_CANCELLED")
    execution_id = api.run().json()["id"]
    assert_envelope(api.post(f"/workflows/executions/{execution_id}/cancel", {"reason": "r" * 501}), 400, "500")
    default = api.post(f"/workflows/executions/{execution_id}/cancel")
    assert default.json()["reasonForIncompletion"] == "cancelled"
    error = assert_envelope(api.post(f"/workflows/executions/{execution_id}/cancel", {}), 409)
    assert "already finished with status TERMINATED" in error["message"]
    assert_envelope(api.post(f"/workflows/executions/{UNKNOWN_UUID}/cancel", {}), 404)


def test_retry_restarts_failed_execution(emu: CdfEmulator, api: Api) -> None:
    emu.set_outcome("wf", "1", "FAILED", reason="bad data")
    execution_id = api.run().json()["id"]
    failed = api.wait_status(execution_id, "FAILED")
    assert failed["reasonForIncompletion"] == "bad data"
    assert_envelope(api.post(f"/workflows/executions/{execution_id}/retry", {}), 400, "nonce")
    emu.set_outcome("wf", "1", "COMPLETED")
    retried = api.post(f"/workflows/executions/{execution_id}/retry", {"authentication": {"nonce": api.nonce()}})
    assert retried.status_code == 200
    assert retried.json()["status"] == "RUNNING"
    api.wait_status(execution_id, "COMPLETED")
    again = api.post(f"/workflows/executions/{execution_id}/retry", {"authentication": {"nonce": api.nonce()}})
    assert_envelope(again, 409)


def test_async_task_update_over_http(emu: CdfEmulator, api: Api) -> None:
    tasks = [{"externalId": "t", "type": "function",
              "parameters": {"function": {"externalId": "fn"}, "isAsyncComplete": True}}]  # fmt: skip
    emu.upsert_workflow_version(PROJECT, "async", "1", tasks)
    execution_id = api.run("async").json()["id"]
    [task] = api.execution(execution_id)["executedTasks"]  # started in the run's request
    assert task["status"] == "IN_PROGRESS"
    response = api.post(f"/workflows/tasks/{task['id']}/update", {"status": "COMPLETED", "output": {"ok": 1}})
    assert response.status_code == 200
    assert response.json()["status"] == "COMPLETED"
    assert response.json()["output"]["response"] == {"ok": 1}
    api.wait_status(execution_id, "COMPLETED")
    assert_envelope(api.post(f"/workflows/tasks/{task['id']}/update", {"status": "COMPLETED"}), 409)
    assert_envelope(api.post(f"/workflows/tasks/{UNKNOWN_UUID}/update", {"status": "COMPLETED"}), 404)


def test_timed_out_outcome_with_per_outcome_duration(emu: CdfEmulator, api: Api) -> None:
    emu.set_outcome("wf", "1", "TIMED_OUT", task_duration=0.0)
    assert api.wait_status(api.run().json()["id"], "TIMED_OUT")["endTime"]
