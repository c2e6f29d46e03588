"""Data-modeling and record-stream triggers fire on the matches a test feeds them, in batches."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest
import requests

from pulumi_cdf_workflows.emulator import CdfEmulator

from .conftest import PROJECT, Api, assert_envelope

NOON = int(datetime(2030, 1, 1, 12, 0, tzinfo=timezone.utc).timestamp() * 1000)
SECOND = 1000


def dm_rule(size: int = 3, timeout: int = 60) -> dict[str, Any]:
    query = {"with": {"n": {"nodes": {}, "limit": size}}, "select": {"n": {}}}
    return {"triggerType": "dataModeling", "dataModelingQuery": query, "batchSize": size, "batchTimeout": timeout}


def stream_rule(size: int = 3, timeout: int = 60) -> dict[str, Any]:
    return {"triggerType": "recordStream", "streamExternalId": "s1", "batchSize": size, "batchTimeout": timeout}


def matches(*names: str) -> list[dict[str, Any]]:
    return [{"externalId": n, "space": "sp"} for n in names]


def feed(emu: CdfEmulator, xid: str, body: Any) -> requests.Response:
    return requests.post(f"{emu.base_url}/_emulator/triggers/{xid}/matches", json=body, timeout=10)


def fired_by(emu: CdfEmulator, xid: str, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    response = feed(emu, xid, {"items": items})
    assert response.status_code == 200, response.text
    fired: list[dict[str, Any]] = response.json()["fired"]
    return fired


def run_input(api: Api, firing: dict[str, Any]) -> Any:
    assert firing["status"] == "success", firing
    return api.execution(firing["workflowExecutionId"])["input"]


@pytest.fixture
def dm(emu: CdfEmulator) -> str:
    emu.set_time(NOON)
    emu.upsert_trigger(PROJECT, "dm", "wf", "1", dm_rule(), input={"source": "nodes"}, metadata={"by": "dm"})
    return "dm"


@pytest.mark.parametrize("rule", [dm_rule(), stream_rule()], ids=["dataModeling", "recordStream"])
def test_each_full_batch_fires_at_once_with_its_matches_as_input_items(
    emu: CdfEmulator, api: Api, rule: dict[str, Any]
) -> None:
    emu.upsert_trigger(PROJECT, "t", "wf", "1", rule, input={"source": "feed"})
    assert fired_by(emu, "t", matches("a", "b")) == []
    [first] = fired_by(emu, "t", matches("c", "d"))
    assert first["externalId"] == "t" and first["project"] == PROJECT
    assert run_input(api, first) == {"source": "feed", "version": "1", "items": matches("a", "b", "c")}
    second, third = fired_by(emu, "t", matches("e", "f", "g", "h", "i"))
    assert run_input(api, second)["items"] == matches("d", "e", "f")  # the leftover match goes first
    assert run_input(api, third)["items"] == matches("g", "h", "i")
    execution = api.wait_status(first["workflowExecutionId"], "COMPLETED")
    assert execution["workflowExternalId"] == "wf"


def test_a_partial_batch_fires_only_when_batch_timeout_has_passed_since_its_first_match(
    emu: CdfEmulator, api: Api, dm: str
) -> None:
    before = emu.now()
    assert fired_by(emu, dm, matches("a")) == []
    assert emu.advance_time(30) == []
    assert fired_by(emu, dm, matches("b")) == []  # a later match does not push the timeout back
    assert emu.advance_time(29) == []
    [firing] = emu.advance_time(2)
    assert 0 <= firing["fireTime"] - (before + 60 * SECOND) < SECOND
    assert run_input(api, firing) == {"source": "nodes", "version": "1", "items": matches("a", "b")}
    assert api.execution(firing["workflowExecutionId"])["metadata"] == {"by": "dm"}
    assert emu.advance_time(3600) == []  # the queue is empty now


def test_batch_timeouts_fire_in_time_order_with_schedules(emu: CdfEmulator, api: Api) -> None:
    emu.set_time(NOON)
    emu.upsert_trigger(PROJECT, "minutely", "wf", "1", "* * * * *")
    emu.upsert_trigger(PROJECT, "dm", "wf", "1", dm_rule(timeout=90))
    fired_by(emu, "dm", matches("a"))
    fired = emu.advance_time(150)
    assert [f["externalId"] for f in fired] == ["minutely", "dm", "minutely"]
    assert [f["fireTime"] for f in fired] == sorted(f["fireTime"] for f in fired)
    execution = api.execution(fired[1]["workflowExecutionId"])
    assert 0 <= execution["createdTime"] - fired[1]["fireTime"] < SECOND  # the clock stood at the timeout


def test_a_paused_trigger_queues_matches_and_fires_them_after_resume(emu: CdfEmulator, api: Api, dm: str) -> None:
    assert api.post(f"/workflows/triggers/{dm}/pause").status_code == 200
    assert fired_by(emu, dm, matches("a", "b", "c", "d")) == []
    assert emu.advance_time(120) == []
    assert api.get(f"/workflows/triggers/{dm}/history").json()["items"] == []
    assert api.post(f"/workflows/triggers/{dm}/resume").status_code == 200
    full, partial = emu.advance_time(1)  # the full batch, then the one whose timeout passed while paused
    assert run_input(api, full)["items"] == matches("a", "b", "c")
    assert run_input(api, partial)["items"] == matches("d")


def test_a_resumed_trigger_fires_a_full_batch_on_the_next_add(emu: CdfEmulator, api: Api, dm: str) -> None:
    api.post(f"/workflows/triggers/{dm}/pause")
    fired_by(emu, dm, matches("a", "b"))
    api.post(f"/workflows/triggers/{dm}/resume")
    [firing] = fired_by(emu, dm, matches("c"))
    assert run_input(api, firing)["items"] == matches("a", "b", "c")


def test_history_lists_batch_firings_newest_first(emu: CdfEmulator, api: Api, dm: str) -> None:
    [full] = fired_by(emu, dm, matches("a", "b", "c", "d"))
    [partial] = emu.advance_time(60)
    history = api.get(f"/workflows/triggers/{dm}/history").json()["items"]
    assert [h["workflowExecutionId"] for h in history] == [partial["workflowExecutionId"], full["workflowExecutionId"]]
    assert history[1] == {k: v for k, v in full.items() if k != "project"}
    assert {h["status"] for h in history} == {"success"}


def test_set_time_restarts_the_batch_timeout(emu: CdfEmulator, dm: str) -> None:
    fired_by(emu, dm, matches("a"))
    emu.set_time(NOON + 3600 * SECOND)
    assert emu.advance_time(59) == []
    assert len(emu.advance_time(2)) == 1


def test_the_control_returns_the_clock_and_names_a_project_when_ids_clash(emu: CdfEmulator, api: Api) -> None:
    emu.upsert_trigger(PROJECT, "dm", "wf", "1", dm_rule(size=1))
    emu.upsert_workflow_version("elsewhere", "wf", "1")
    emu.upsert_trigger("elsewhere", "dm", "wf", "1", dm_rule(size=1))
    assert_envelope(feed(emu, "dm", {"items": matches("a")}), 400, "several projects")
    reply = feed(emu, "dm", {"items": matches("a"), "project": "elsewhere"}).json()
    assert reply["now"] >= reply["fired"][0]["fireTime"]
    assert [f["project"] for f in reply["fired"]] == ["elsewhere"]
    assert emu.executions(PROJECT) == []


@pytest.mark.parametrize(
    ("xid", "body", "status", "message"),
    [
        ("nope", {"items": []}, 404, "Workflow trigger not found."),
        ("hourly", {"items": matches("a")}, 400, "takes no matches"),
        ("dm", {"items": {"externalId": "a"}}, 400, "list of JSON objects"),
        ("dm", {"items": ["a"]}, 400, "list of JSON objects"),
        ("dm", {}, 400, "items"),
        ("dm", {"items": [], "project": 7}, 400, "project"),
    ],
)
def test_bad_match_requests_are_refused(
    emu: CdfEmulator, dm: str, xid: str, body: dict[str, Any], status: int, message: str
) -> None:
    emu.upsert_trigger(PROJECT, "hourly", "wf", "1", "0 * * * *")
    assert_envelope(feed(emu, xid, body), status, message)
    assert emu.executions() == []


def test_a_batch_for_a_deleted_version_is_a_failed_firing(emu: CdfEmulator, api: Api, dm: str) -> None:
    api.post("/workflows/versions/delete", {"items": [{"workflowExternalId": "wf", "version": "1"}]})
    [firing] = fired_by(emu, dm, matches("a", "b", "c"))
    assert firing["status"] == "failed" and "not found" in firing["reasonForFailure"]
    assert emu.executions() == []
