"""Trigger rules and timestamps as the public sources give them: recordStream bounds (toolkit), dataModeling bounds
(spec), the version CDF adds to a triggered run's input (SDK integration test, docs), and CDF's timestamps on the
emulator's clock, from which a schedule's next firing can be computed."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest
import requests
from cronsim import CronSim

from pulumi_cdf_workflows.emulator import CdfEmulator

from .conftest import PROJECT, Api, assert_envelope

NOON = int(datetime(2030, 1, 1, 12, 0, tzinfo=timezone.utc).timestamp() * 1000)
STREAM: dict[str, Any] = {"triggerType": "recordStream", "streamExternalId": "readings", "batchSize": 100,
                          "batchTimeout": 60}  # fmt: skip


def dm(size: int, timeout: int) -> dict[str, Any]:
    query = {"with": {"n": {"nodes": {}, "limit": size}}, "select": {"n": {}}}
    return {"triggerType": "dataModeling", "dataModelingQuery": query, "batchSize": size, "batchTimeout": timeout}


def upsert(api: Api, rule: Any, xid: str = "t1", **fields: Any) -> requests.Response:
    body = {"externalId": xid, "triggerRule": rule, "workflowExternalId": "wf", "workflowVersion": "1",
            "authentication": {"nonce": api.nonce()}, **fields}  # fmt: skip
    return api.post("/workflows/triggers", {"items": [body]})


def next_after(cron: str, epoch_ms: int) -> int:
    start = datetime.fromtimestamp(epoch_ms / 1000, timezone.utc)
    return int(next(iter(CronSim(cron, start))).timestamp() * 1000)


# ----- recordStream (toolkit RecordStreamTriggerRule) and dataModeling (spec) bounds


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"batchSize": 0}, "batchSize must be an integer between 1 and 100"),
        ({"batchSize": 101}, "batchSize must be an integer between 1 and 100"),
        ({"batchTimeout": 9}, "batchTimeout must be an integer between 10 and 86400"),
        ({"batchTimeout": 86401}, "batchTimeout"),
        ({"streamExternalId": "Readings"}, "streamExternalId"),
        ({"streamExternalId": "1readings"}, "streamExternalId"),
        ({"streamExternalId": "readings-"}, "streamExternalId"),
        ({"streamExternalId": "r" * 101}, "streamExternalId"),
        ({"streamExternalId": ""}, "streamExternalId"),
        ({"sources": [{"source": {"type": "container", "space": "s", "externalId": "c"}, "properties": []}]},
         "properties must list 1 to 1000"),
        ({"sources": [{"properties": ["*"]}]}, "sources[0] must be an object with a source"),
        ({"filter": "all"}, "filter must be an object"),
    ],
)  # fmt: skip
def test_a_record_stream_rule_out_of_the_toolkits_bounds_is_400(
    api: Api, changes: dict[str, Any], message: str
) -> None:
    assert_envelope(upsert(api, {**STREAM, **changes}), 400, message)


@pytest.mark.parametrize(
    "changes",
    [
        {"batchSize": 1, "batchTimeout": 10},
        {"batchSize": 100, "batchTimeout": 86400},
        {"streamExternalId": "a"},
        {"streamExternalId": "my_stream-2"},
        {"streamExternalId": "r" * 100},
        {"filter": {"equals": {"property": ["space"], "value": "s"}}, "initializeCursor": "6h-ago",
         "sources": [{"source": {"type": "container", "space": "s", "externalId": "c"}, "properties": ["*"]}]},
    ],
)  # fmt: skip
def test_a_record_stream_rule_within_the_bounds_is_stored_as_sent(api: Api, changes: dict[str, Any]) -> None:
    rule = {**STREAM, **changes}
    response = upsert(api, rule)
    assert response.status_code == 200, response.text
    assert response.json()["items"][0]["triggerRule"] == rule  # filter and sources are optional [SDK]


@pytest.mark.parametrize(("size", "timeout"), [(1, 10), (1000, 86400), (100, 100), (500, 300)])
def test_data_modeling_bounds_are_the_specs(api: Api, size: int, timeout: int) -> None:
    response = upsert(api, dm(size, timeout))
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(("size", "timeout"), [(0, 10), (1001, 10), (1, 9), (1, 86401)])
def test_data_modeling_outside_the_specs_bounds_is_400(api: Api, size: int, timeout: int) -> None:
    assert_envelope(upsert(api, dm(size, timeout)), 400, "between")


# ----- the version CDF adds to a triggered run's input


def test_a_triggered_runs_input_gets_the_version_over_a_key_of_the_same_name(emu: CdfEmulator, api: Api) -> None:
    # SDK-IT test_trigger_run_history sets input["version"] after copying the trigger's input.
    emu.set_time(NOON)
    emu.upsert_trigger(PROJECT, "t1", "wf", "1", "*/10 * * * *", input={"version": "mine", "a": 1})
    [fired] = emu.advance_time(600)
    assert api.execution(fired["workflowExecutionId"])["input"] == {"version": "1", "a": 1}


# ----- CDF's timestamps come from the emulator's clock


def test_trigger_times_come_from_the_clock_and_the_next_firing_follows_from_them(emu: CdfEmulator, api: Api) -> None:
    emu.set_time(NOON + 7 * 60_000 + 123)
    cron = "*/5 * * * *"
    [created] = upsert(api, {"triggerType": "schedule", "cronExpression": cron}).json()["items"]
    assert NOON + 7 * 60_000 <= created["createdTime"] == created["lastUpdatedTime"] <= emu.now()
    [first] = emu.advance_time(10 * 60)[:1]
    assert first["fireTime"] == next_after(cron, created["lastUpdatedTime"])
    [updated] = upsert(api, {"triggerType": "schedule", "cronExpression": "*/7 * * * *"}).json()["items"]
    assert updated["createdTime"] == created["createdTime"]
    assert emu.now() - 1_000 <= updated["lastUpdatedTime"] <= emu.now()
    [after_update] = emu.advance_time(7 * 60)
    assert after_update["fireTime"] == next_after("*/7 * * * *", updated["lastUpdatedTime"])


def test_workflow_version_and_session_times_come_from_the_clock(emu: CdfEmulator, api: Api) -> None:
    emu.set_time(NOON)
    workflow = api.post("/workflows", {"items": [{"externalId": "clocked"}]}).json()["items"][0]
    tasks = [{"externalId": "t", "type": "function", "parameters": {"function": {"externalId": "fn"}}}]
    item = {"workflowExternalId": "clocked", "version": "1", "workflowDefinition": {"tasks": tasks}}
    version = api.post("/workflows/versions", {"items": [item]}).json()["items"][0]
    for stamp in (workflow["createdTime"], version["createdTime"], version["lastUpdatedTime"]):
        assert NOON <= stamp <= emu.now()
    emu.advance_time(3600)
    again = api.post("/workflows/versions", {"items": [item]}).json()["items"][0]
    assert again["lastUpdatedTime"] >= NOON + 3_600_000 and again["createdTime"] == version["createdTime"]
    api.nonce()
    [session] = api.get("/sessions").json()["items"]
    assert NOON + 3_600_000 <= session["creationTime"] <= emu.now()
