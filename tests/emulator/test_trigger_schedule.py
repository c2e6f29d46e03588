"""Schedule triggers fire on the emulator's clock: advance_time, set_time, the time controls and the history."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from itertools import takewhile
from typing import Any

import pytest
import requests
from cronsim import CronSim

from pulumi_cdf_workflows.emulator import CdfEmulator
from pulumi_cdf_workflows.emulator.exceptions import BadRequest

from .conftest import PROJECT, Api, assert_envelope

NOON = int(datetime(2030, 1, 1, 12, 0, tzinfo=timezone.utc).timestamp() * 1000)  # a known minute
MINUTE = 60_000


def schedule(emu: CdfEmulator, xid: str = "t1", cron: str = "*/10 * * * *", **kwargs: Any) -> dict[str, Any]:
    return emu.upsert_trigger(PROJECT, xid, "wf", "1", cron, **kwargs)


def history(api: Api, xid: str = "t1", **params: Any) -> dict[str, Any]:
    response = api.get(f"/workflows/triggers/{xid}/history", params=params)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


def control(emu: CdfEmulator, name: str, body: Any = None) -> requests.Response:
    if body is None:
        return requests.get(f"{emu.base_url}/_emulator/{name}", timeout=10)
    return requests.post(f"{emu.base_url}/_emulator/{name}", json=body, timeout=10)


def test_the_clock_starts_at_real_time_and_set_time_moves_it(emu: CdfEmulator) -> None:
    real = int(datetime.now(timezone.utc).timestamp() * 1000)
    assert abs(emu.now() - real) < 5_000
    emu.set_time(NOON)
    assert NOON <= emu.now() < NOON + 5_000  # it keeps running from there


def test_advance_fires_each_due_occurrence_once_in_order(emu: CdfEmulator, api: Api) -> None:
    emu.set_time(NOON)
    schedule(emu)
    fired = emu.advance_time(25 * 60)
    assert [f["fireTime"] for f in fired] == [NOON + 10 * MINUTE, NOON + 20 * MINUTE]
    assert emu.now() >= NOON + 25 * MINUTE
    assert [f["fireTime"] for f in emu.advance_time(5 * 60)] == [NOON + 30 * MINUTE]
    assert emu.advance_time(60) == []
    assert len(history(api)["items"]) == 3


def test_advance_from_any_start_fires_what_cronsim_counts(emu: CdfEmulator) -> None:
    # No set_time: the count (2 or 3) depends on where the real clock stands; cronsim says which.
    schedule(emu)
    start = emu.now()
    fired = emu.advance_time(25 * 60)
    begin = datetime.fromtimestamp(start / 1000, timezone.utc)
    due = takewhile(lambda t: t <= begin + timedelta(minutes=25), CronSim("*/10 * * * *", begin))
    expected = [int(t.timestamp() * 1000) for t in due]
    assert 2 <= len(fired) <= 3
    # A few real milliseconds pass between now() and advance_time; only an occurrence on that edge may differ.
    on_edge = min(start % (10 * MINUTE), 10 * MINUTE - start % (10 * MINUTE)) < 1_000
    if not on_edge:
        assert [f["fireTime"] for f in fired] == expected


def test_each_firing_starts_a_real_execution_with_the_triggers_input_and_metadata(emu: CdfEmulator, api: Api) -> None:
    emu.set_time(NOON)
    schedule(emu, input={"day": "monday"}, metadata={"origin": "schedule"})
    [fired] = emu.advance_time(10 * 60)
    assert fired["status"] == "success" and fired["project"] == PROJECT
    execution = api.wait_status(fired["workflowExecutionId"], "COMPLETED")
    assert execution["input"] == {"day": "monday", "version": "1"}
    assert execution["metadata"] == {"origin": "schedule"}
    assert (execution["workflowExternalId"], execution["version"]) == ("wf", "1")
    assert 0 <= execution["createdTime"] - fired["fireTime"] < 1_000  # the clock stood at the fire time


def test_history_lists_firings_newest_first_with_every_field(emu: CdfEmulator, api: Api) -> None:
    emu.set_time(NOON)
    schedule(emu)
    fired = emu.advance_time(30 * 60)
    items = history(api)["items"]
    assert [h["fireTime"] for h in items] == [NOON + 30 * MINUTE, NOON + 20 * MINUTE, NOON + 10 * MINUTE]
    assert items[0] == {
        "fireTime": NOON + 30 * MINUTE,
        "externalId": "t1",
        "workflowExternalId": "wf",
        "workflowVersion": "1",
        "workflowExecutionId": fired[-1]["workflowExecutionId"],
        "status": "success",
        "reasonForFailure": None,
    }
    first = history(api, limit=2)
    assert len(first["items"]) == 2
    rest = history(api, limit=2, cursor=first["nextCursor"])
    assert [h["fireTime"] for h in rest["items"]] == [NOON + 10 * MINUTE] and "nextCursor" not in rest


def test_a_firing_for_a_deleted_version_is_recorded_as_failed(emu: CdfEmulator, api: Api) -> None:
    emu.set_time(NOON)
    schedule(emu)
    deleted = api.post("/workflows/versions/delete", {"items": [{"workflowExternalId": "wf", "version": "1"}]})
    assert deleted.status_code == 200
    [fired] = emu.advance_time(10 * 60)
    [item] = history(api)["items"]
    assert item["status"] == fired["status"] == "failed"
    assert item["workflowExecutionId"] is None
    assert "not found" in item["reasonForFailure"]
    assert emu.executions(PROJECT) == []


def test_a_paused_trigger_does_not_fire_and_does_not_catch_up_when_resumed(emu: CdfEmulator, api: Api) -> None:
    emu.set_time(NOON)
    schedule(emu, "paused")
    schedule(emu, "active")
    assert api.post("/workflows/triggers/paused/pause").status_code == 200
    assert {f["externalId"] for f in emu.advance_time(30 * 60)} == {"active"}
    assert api.post("/workflows/triggers/paused/resume").status_code == 200
    fired = emu.advance_time(10 * 60)
    assert sorted(f["externalId"] for f in fired) == ["active", "paused"]
    assert [h["fireTime"] for h in history(api, "paused")["items"]] == [NOON + 40 * MINUTE]


def test_firings_of_several_triggers_interleave_in_time_order(emu: CdfEmulator) -> None:
    emu.set_time(NOON)
    schedule(emu, "quarter", "*/15 * * * *")
    schedule(emu, "ten", "*/10 * * * *")
    fired = [(f["fireTime"], f["externalId"]) for f in emu.advance_time(30 * 60)]
    assert fired == sorted(fired)
    assert [x for _, x in fired] == ["ten", "quarter", "ten", "quarter", "ten"]


def test_schedules_follow_their_timezone(emu: CdfEmulator) -> None:
    emu.set_time(int(datetime(2030, 1, 1, tzinfo=timezone.utc).timestamp() * 1000))
    rule = {"triggerType": "schedule", "cronExpression": "0 9 * * *", "timezone": "Europe/Oslo"}
    emu.upsert_trigger(PROJECT, "oslo", "wf", "1", rule)
    fired = emu.advance_time(3 * 24 * 3600)
    hours = [datetime.fromtimestamp(f["fireTime"] / 1000, timezone.utc).hour for f in fired]
    assert hours == [8, 8, 8]  # 09:00 in Oslo is 08:00 UTC in winter


def test_an_updated_rule_fires_from_the_update_on(emu: CdfEmulator, api: Api) -> None:
    emu.set_time(NOON)
    schedule(emu, cron="0 0 1 1 *")
    emu.advance_time(5 * 60)
    schedule(emu, cron="*/10 * * * *")
    assert [f["fireTime"] for f in emu.advance_time(10 * 60)] == [NOON + 10 * MINUTE]


def test_set_time_does_not_fire(emu: CdfEmulator) -> None:
    emu.set_time(NOON)
    schedule(emu)
    emu.set_time(NOON + 60 * MINUTE)
    assert emu.advance_time(60) == []


def test_a_data_modeling_trigger_without_matches_never_fires_on_the_clock(emu: CdfEmulator, api: Api) -> None:
    query = {"with": {"n": {"nodes": {}, "limit": 10}}, "select": {"n": {}}}
    rule = {"triggerType": "dataModeling", "batchSize": 10, "batchTimeout": 60, "dataModelingQuery": query}
    emu.upsert_trigger(PROJECT, "dm", "wf", "1", rule)
    assert emu.advance_time(24 * 3600) == []


def test_an_advance_that_would_fire_too_often_is_refused_whole(emu: CdfEmulator) -> None:
    emu.set_time(NOON)
    schedule(emu, cron="* * * * *")
    with pytest.raises(BadRequest, match="smaller steps"):
        emu.advance_time(2 * 24 * 3600)
    assert NOON <= emu.now() < NOON + MINUTE and emu.executions() == []
    assert len(emu.advance_time(10 * 60)) == 10


def test_time_controls_over_http(emu: CdfEmulator, api: Api) -> None:
    assert control(emu, "time/set", {"time": NOON}).json()["now"] == NOON
    assert NOON <= control(emu, "time").json()["now"] < NOON + 5_000
    rule = {"triggerType": "schedule", "cronExpression": "*/10 * * * *"}
    seed = {"project": PROJECT, "externalId": "t1", "workflowExternalId": "wf", "workflowVersion": "1"}
    seeded = control(emu, "seed/trigger", {**seed, "triggerRule": rule})
    assert seeded.status_code == 200 and seeded.json()["triggerRule"]["timezone"] == "UTC"
    advanced = control(emu, "time/advance", {"seconds": 1200}).json()
    assert [f["fireTime"] for f in advanced["fired"]] == [NOON + 10 * MINUTE, NOON + 20 * MINUTE]
    assert advanced["now"] >= NOON + 20 * MINUTE
    assert_envelope(control(emu, "time/advance", {"seconds": -1}), 400, "seconds")
    assert_envelope(control(emu, "time/advance", {}), 400, "seconds")
    assert_envelope(control(emu, "time/set", {"time": "noon"}), 400, "epoch milliseconds")


def test_reset_forgets_triggers_and_the_clock(emu: CdfEmulator, api: Api) -> None:
    emu.set_time(NOON)
    schedule(emu)
    emu.reset()
    assert abs(emu.now() - int(datetime.now(timezone.utc).timestamp() * 1000)) < 5_000
    emu.upsert_workflow_version(PROJECT, "wf", "1")
    assert api.get("/workflows/triggers").json()["items"] == []


def test_triggered_executions_queue_under_max_concurrent_executions(emu: CdfEmulator, api: Api) -> None:
    assert api.post("/workflows", {"items": [{"externalId": "wf", "maxConcurrentExecutions": 1}]}).status_code == 200
    emu.set_outcome("wf", "1", task_duration=15 * 60)  # longer than the 10 minutes between firings
    emu.set_time(NOON)
    schedule(emu)
    first, second = emu.advance_time(20 * 60)
    assert [t["status"] for t in api.execution(first["workflowExecutionId"])["executedTasks"]] == ["IN_PROGRESS"]
    assert api.execution(second["workflowExecutionId"])["executedTasks"] == []  # waits for the slot
    emu.advance_time(5 * 60)  # the first ends at 12:25 and the second starts then
    done = api.execution(first["workflowExecutionId"])
    started = api.execution(second["workflowExecutionId"])
    assert done["status"] == "COMPLETED" and done["endTime"] == NOON + 25 * MINUTE
    assert started["startTime"] == NOON + 25 * MINUTE and started["executedTasks"][0]["status"] == "IN_PROGRESS"


def test_an_advance_ends_the_fired_executions_whose_tasks_are_due_in_the_same_pass(emu: CdfEmulator, api: Api) -> None:
    emu.set_outcome("wf", "1", task_duration=60)
    emu.set_time(NOON)
    schedule(emu)
    fired = emu.advance_time(25 * 60)
    executions = [api.execution(f["workflowExecutionId"]) for f in fired]
    assert [(e["status"], e["createdTime"], e["endTime"]) for e in executions] == [
        ("COMPLETED", NOON + 10 * MINUTE, NOON + 11 * MINUTE),
        ("COMPLETED", NOON + 20 * MINUTE, NOON + 21 * MINUTE),
    ]
