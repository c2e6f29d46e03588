"""Workflow fields over HTTP: dataSetId round trip, and maxConcurrentExecutions queueing runs for a slot."""

from __future__ import annotations

from typing import Any

import pytest

from pulumi_cdf_workflows.emulator import CdfEmulator

from .conftest import Api, assert_envelope


def set_limit(api: Api, limit: int | None, xid: str = "wf") -> None:
    body: dict[str, Any] = {"externalId": xid}
    if limit is not None:
        body["maxConcurrentExecutions"] = limit
    response = api.post("/workflows", {"items": [body]})
    assert response.status_code == 200, response.text


def run_id(api: Api) -> str:
    response = api.run()
    assert response.status_code == 202, response.text
    execution_id: str = response.json()["id"]
    return execution_id


def started(api: Api, execution_id: str) -> bool:
    return bool(api.execution(execution_id)["executedTasks"])


# ----- dataSetId


def test_data_set_id_is_stored_returned_and_cleared_by_an_upsert_without_it(api: Api) -> None:
    body = {"externalId": "ds-wf", "dataSetId": 4_000_000_123, "description": "d"}
    [created] = api.post("/workflows", {"items": [body]}).json()["items"]
    assert created["dataSetId"] == 4_000_000_123
    assert api.get("/workflows/ds-wf").json()["dataSetId"] == 4_000_000_123
    assert [w.get("dataSetId") for w in api.get("/workflows").json()["items"] if w["externalId"] == "ds-wf"] == [
        4_000_000_123
    ]
    [updated] = api.post("/workflows", {"items": [{"externalId": "ds-wf"}]}).json()["items"]
    assert "dataSetId" not in updated and "description" not in updated  # upsert replaces the whole object


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("dataSetId", "123"),
        ("dataSetId", 0),
        ("dataSetId", True),
        ("maxConcurrentExecutions", 0),
        ("maxConcurrentExecutions", 10001),
        ("maxConcurrentExecutions", 1.5),
        ("description", "d" * 501),
    ],
)
def test_invalid_workflow_fields_are_400(api: Api, field: str, value: Any) -> None:
    assert_envelope(api.post("/workflows", {"items": [{"externalId": "bad", field: value}]}), 400, field)


# ----- maxConcurrentExecutions: a run takes its slot (and starts its first task) in the request that makes it or
# ----- frees it, so nothing here waits; tasks take a minute of the emulator's clock, which the tests move

MINUTE = 60_000


def test_a_run_beyond_the_limit_is_accepted_and_waits_for_the_earlier_one(emu: CdfEmulator, api: Api) -> None:
    set_limit(api, 1)
    emu.set_outcome("wf", "1", task_duration=60)
    first, second = run_id(api), run_id(api)
    queued = api.execution(second)
    assert queued["status"] == "RUNNING" and queued["executedTasks"] == []
    assert "startTime" not in queued  # it has not started
    emu.advance_time(60)
    done, later = api.execution(first), api.execution(second)
    assert done["status"] == "COMPLETED" and later["status"] == "RUNNING"
    assert later["startTime"] == done["endTime"] == later["executedTasks"][0]["startTime"]
    emu.advance_time(60)
    assert api.execution(second)["endTime"] == done["endTime"] + MINUTE


def test_waiting_runs_start_first_come_first_served(emu: CdfEmulator, api: Api) -> None:
    set_limit(api, 1)
    emu.set_outcome("wf", "1", task_duration=60)
    ids = [run_id(api) for _ in range(3)]
    emu.advance_time(3 * 60)
    finished = [api.execution(i) for i in ids]
    assert [e["status"] for e in finished] == ["COMPLETED"] * 3
    assert [e["endTime"] - e["startTime"] for e in finished] == [MINUTE] * 3
    assert all(finished[i]["endTime"] == finished[i + 1]["startTime"] for i in range(2))


def test_cancelling_the_running_one_starts_the_next(emu: CdfEmulator, api: Api) -> None:
    set_limit(api, 1)
    emu.set_outcome("wf", "1", "RUN_UNTIL_CANCELLED")
    first, second = run_id(api), run_id(api)
    assert started(api, first) and not started(api, second)
    assert api.post(f"/workflows/executions/{first}/cancel").status_code == 200
    assert started(api, second)


def test_a_cancelled_waiting_run_never_starts_and_frees_its_place(emu: CdfEmulator, api: Api) -> None:
    set_limit(api, 1)
    emu.set_outcome("wf", "1", task_duration=60)
    first, second, third = run_id(api), run_id(api), run_id(api)
    cancelled = api.post(f"/workflows/executions/{second}/cancel").json()
    assert cancelled["status"] == "TERMINATED"
    emu.advance_time(60)
    assert api.execution(first)["status"] == "COMPLETED" and started(api, third)
    emu.advance_time(60)
    assert api.execution(third)["status"] == "COMPLETED"
    assert api.execution(second)["executedTasks"] == []


def test_raising_the_limit_starts_waiting_runs(emu: CdfEmulator, api: Api) -> None:
    set_limit(api, 1)
    emu.set_outcome("wf", "1", "RUN_UNTIL_CANCELLED")
    first, second = run_id(api), run_id(api)
    assert started(api, first) and not started(api, second)
    set_limit(api, 2)
    assert started(api, second)


def test_the_limit_counts_per_workflow(emu: CdfEmulator, api: Api) -> None:
    set_limit(api, 1)
    emu.upsert_workflow_version("test-project", "other", "1")
    emu.set_outcome("wf", "1", "RUN_UNTIL_CANCELLED")
    emu.set_outcome("other", "1", "RUN_UNTIL_CANCELLED")
    mine = run_id(api)
    other = api.run("other").json()["id"]
    assert started(api, mine) and started(api, other)


def test_a_retried_run_queues_behind_waiting_ones(emu: CdfEmulator, api: Api) -> None:
    set_limit(api, 1)
    emu.set_outcome("wf", "1", "RUN_UNTIL_CANCELLED")
    first = run_id(api)
    api.post(f"/workflows/executions/{first}/cancel")
    second = run_id(api)
    assert started(api, second)
    retried = api.post(f"/workflows/executions/{first}/retry", {"authentication": {"nonce": api.nonce()}})
    assert retried.status_code == 200 and retried.json()["status"] == "RUNNING"
    assert [t["status"] for t in api.execution(first)["executedTasks"]] == []  # its cancelled task waits to rerun
    api.post(f"/workflows/executions/{second}/cancel")
    assert started(api, first)


def test_without_a_limit_runs_go_in_parallel(emu: CdfEmulator, api: Api) -> None:
    set_limit(api, None)
    emu.set_outcome("wf", "1", "RUN_UNTIL_CANCELLED")
    ids = [run_id(api) for _ in range(3)]
    assert all(started(api, i) for i in ids)
