"""Deletes that CDF guards: a workflow with running executions, and the sessions of replaced or deleted triggers."""

from __future__ import annotations

from typing import Any

import requests

from pulumi_cdf_workflows.emulator import CdfEmulator

from .conftest import PROJECT, Api, assert_envelope

EVERY_TEN = {"triggerType": "schedule", "cronExpression": "*/10 * * * *"}


def delete_workflows(api: Api, *xids: str) -> requests.Response:
    return api.post("/workflows/delete", {"items": [{"externalId": x} for x in xids]})


def upsert_trigger(api: Api, xid: str = "t1", workflow: str = "wf") -> None:
    item = {
        "externalId": xid,
        "triggerRule": EVERY_TEN,
        "workflowExternalId": workflow,
        "workflowVersion": "1",
        "authentication": {"nonce": api.nonce()},
    }
    response = api.post("/workflows/triggers", {"items": [item]})
    assert response.status_code == 200, response.text


def sessions(emu: CdfEmulator) -> list[dict[str, Any]]:
    response = requests.get(f"{emu.base_url}/_emulator/sessions", params={"project": PROJECT}, timeout=10)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def trigger_sessions(emu: CdfEmulator, xid: str) -> list[str]:
    """Statuses of the sessions bound to trigger `xid`, oldest first."""
    return [s["status"] for s in sessions(emu) if s.get("boundTriggerExternalId") == xid]


# ----- a workflow with running executions


def test_delete_is_refused_while_an_execution_runs_and_allowed_once_it_is_cancelled(emu: CdfEmulator, api: Api) -> None:
    emu.set_outcome("wf", "1", "RUN_UNTIL_CANCELLED")
    execution_id = api.run().json()["id"]
    error = assert_envelope(delete_workflows(api, "wf"), 400)
    assert error["message"] == (
        "Cannot delete workflow 'wf' while it has running executions (1): cancel them or wait for them to finish"
    )
    assert api.get("/workflows/wf").status_code == 200
    assert api.get("/workflows/wf/versions/1").status_code == 200
    assert api.post(f"/workflows/executions/{execution_id}/cancel", {}).status_code == 200
    assert delete_workflows(api, "wf").status_code == 200
    assert_envelope(api.get("/workflows/wf"), 404)


def test_delete_succeeds_once_the_execution_has_finished(emu: CdfEmulator, api: Api) -> None:
    emu.set_outcome("wf", "1", task_duration=60)
    execution_id = api.run().json()["id"]
    assert_envelope(delete_workflows(api, "wf"), 400, "running executions")
    emu.advance_time(60)
    assert api.execution(execution_id)["status"] == "COMPLETED"
    assert delete_workflows(api, "wf").status_code == 200


def test_executions_queued_under_max_concurrent_executions_count_as_running(emu: CdfEmulator, api: Api) -> None:
    assert api.post("/workflows", {"items": [{"externalId": "wf", "maxConcurrentExecutions": 1}]}).status_code == 200
    emu.set_outcome("wf", "1", "RUN_UNTIL_CANCELLED")
    first, second = api.run().json()["id"], api.run().json()["id"]
    assert api.execution(first)["executedTasks"]
    assert api.execution(second)["executedTasks"] == []  # waiting for the slot
    assert_envelope(delete_workflows(api, "wf"), 400, "running executions (2)")
    api.post(f"/workflows/executions/{first}/cancel", {})
    assert_envelope(delete_workflows(api, "wf"), 400, "running executions (1)")
    api.post(f"/workflows/executions/{second}/cancel", {})
    assert delete_workflows(api, "wf").status_code == 200


def test_a_refused_delete_of_several_workflows_deletes_none_of_them(emu: CdfEmulator, api: Api) -> None:
    emu.upsert_workflow_version(PROJECT, "idle", "1")
    upsert_trigger(api, "on-idle", "idle")
    emu.set_outcome("wf", "1", "RUN_UNTIL_CANCELLED")
    api.run()
    error = assert_envelope(delete_workflows(api, "idle", "wf"), 400, "running executions")
    assert "'wf'" in error["message"] and "'idle'" not in error["message"]
    assert api.get("/workflows/idle").status_code == 200
    assert [t["externalId"] for t in api.get("/workflows/triggers").json()["items"]] == ["on-idle"]
    assert trigger_sessions(emu, "on-idle") == ["ACTIVE"]


def test_executions_of_another_project_do_not_block_the_delete(emu: CdfEmulator, api: Api) -> None:
    emu.upsert_workflow_version("elsewhere", "wf", "1")
    emu.set_outcome("wf", "1", "RUN_UNTIL_CANCELLED")
    other = Api(emu, "elsewhere")
    assert other.run().status_code == 202
    assert delete_workflows(api, "wf").status_code == 200
    assert_envelope(delete_workflows(other, "wf"), 400, "running executions")
    other.http.close()


# ----- trigger sessions


def test_an_updated_trigger_revokes_its_previous_session(emu: CdfEmulator, api: Api) -> None:
    upsert_trigger(api)
    assert trigger_sessions(emu, "t1") == ["ACTIVE"]
    upsert_trigger(api)
    assert trigger_sessions(emu, "t1") == ["REVOKED", "ACTIVE"]


def test_a_deleted_trigger_revokes_its_session(emu: CdfEmulator, api: Api) -> None:
    upsert_trigger(api, "t1")
    upsert_trigger(api, "t2")
    assert api.post("/workflows/triggers/delete", {"items": [{"externalId": "t1"}]}).status_code == 200
    assert trigger_sessions(emu, "t1") == ["REVOKED"]
    assert trigger_sessions(emu, "t2") == ["ACTIVE"]


def test_a_deleted_workflow_revokes_its_triggers_sessions_but_not_its_executions(emu: CdfEmulator, api: Api) -> None:
    emu.upsert_workflow_version(PROJECT, "other", "1")
    upsert_trigger(api, "on-wf", "wf")
    upsert_trigger(api, "on-other", "other")
    api.wait_status(api.run().json()["id"], "COMPLETED")
    assert delete_workflows(api, "wf").status_code == 200
    assert trigger_sessions(emu, "on-wf") == ["REVOKED"]
    assert trigger_sessions(emu, "on-other") == ["ACTIVE"]
    assert [s["status"] for s in sessions(emu) if "boundExecutionId" in s] == ["ACTIVE"]
