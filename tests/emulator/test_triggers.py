"""Workflow triggers over real HTTP: upsert, list, delete, history, pause/resume, their errors and limits."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from pulumi_cdf_workflows.emulator import CdfEmulator

from .conftest import PROJECT, Api, assert_envelope

EVERY_TEN = {"triggerType": "schedule", "cronExpression": "*/10 * * * *"}
DM_RULE: dict[str, Any] = {
    "triggerType": "dataModeling",
    "dataModelingQuery": {
        "with": {"ts": {"nodes": {"chainTo": "destination", "direction": "outwards"}, "limit": 500}},
        "select": {"ts": {"sources": [{"source": {"space": "s", "externalId": "V", "version": "v1", "type": "view"},
                                       "properties": ["name"]}]}},
    },
    "batchSize": 500,
    "batchTimeout": 300,
}  # fmt: skip


def item(api: Api, xid: str = "t1", **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "externalId": xid,
        "triggerRule": EVERY_TEN,
        "workflowExternalId": "wf",
        "workflowVersion": "1",
        "authentication": {"nonce": api.nonce()},
    }
    body.update(fields)
    return body


def upsert(api: Api, xid: str = "t1", **fields: Any) -> requests.Response:
    return api.post("/workflows/triggers", {"items": [item(api, xid, **fields)]})


def listed(api: Api, query: str = "") -> dict[str, Any]:
    response = api.get(f"/workflows/triggers{query}")
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


# ----- upsert


def test_upsert_returns_the_view_with_timezone_filled_and_never_the_authentication(api: Api) -> None:
    response = upsert(api, input={"day": "monday"}, metadata={"team": "data"})
    assert response.status_code == 200, response.text
    [view] = response.json()["items"]
    assert view["triggerRule"] == {**EVERY_TEN, "timezone": "UTC"}
    assert view["input"] == {"day": "monday"} and view["metadata"] == {"team": "data"}
    assert (view["externalId"], view["workflowExternalId"], view["workflowVersion"]) == ("t1", "wf", "1")
    assert view["isPaused"] is False
    assert view["createdTime"] == view["lastUpdatedTime"]
    assert "authentication" not in view
    assert listed(api)["items"] == [view]


def test_upsert_of_an_existing_trigger_updates_it_in_place(api: Api) -> None:
    first = upsert(api, metadata={"a": "1"}).json()["items"][0]
    assert api.post("/workflows/triggers/t1/pause").status_code == 200
    rule = {"triggerType": "schedule", "cronExpression": "0 * * * *", "timezone": "Europe/Oslo"}
    second = upsert(api, triggerRule=rule, input={"x": 1}).json()["items"][0]
    assert second["triggerRule"] == rule
    assert second["createdTime"] == first["createdTime"]
    assert second["lastUpdatedTime"] > first["lastUpdatedTime"]
    assert second["isPaused"] is True  # pause/resume own isPaused, not the upsert body
    assert second["input"] == {"x": 1} and "metadata" not in second  # the whole object is replaced
    assert len(listed(api)["items"]) == 1


def test_the_nonce_binds_to_the_trigger(emu: CdfEmulator, api: Api) -> None:
    nonce = api.nonce()
    response = api.post("/workflows/triggers", {"items": [{**item(api), "authentication": {"nonce": nonce}}]})
    assert response.status_code == 200, response.text
    [session] = [s for s in emu.sessions(PROJECT) if "boundTriggerExternalId" in s]
    assert session["boundTriggerExternalId"] == "t1" and session["status"] == "ACTIVE"
    reused = api.post("/workflows/wf/versions/1/run", {"authentication": {"nonce": nonce}})
    assert_envelope(reused, 400, "already been used")
    again = api.post("/workflows/triggers", {"items": [{**item(api, "t2"), "authentication": {"nonce": nonce}}]})
    assert_envelope(again, 400, "already been used")


def test_a_nonce_of_another_project_or_a_made_up_one_is_refused(emu: CdfEmulator, api: Api) -> None:
    other = Api(emu, "other-project")
    foreign = api.post("/workflows/triggers", {"items": [{**item(api), "authentication": {"nonce": other.nonce()}}]})
    assert_envelope(foreign, 400, "Invalid nonce")
    made_up = api.post("/workflows/triggers", {"items": [{**item(api), "authentication": {"nonce": "nope"}}]})
    assert_envelope(made_up, 400, "Invalid nonce")
    other.http.close()


@pytest.mark.parametrize(
    "field", ["externalId", "triggerRule", "workflowExternalId", "workflowVersion", "authentication"]
)
def test_upsert_requires_each_field(api: Api, field: str) -> None:
    body = item(api)
    del body[field]
    assert_envelope(api.post("/workflows/triggers", {"items": [body]}), 400)


@pytest.mark.parametrize("count", [0, 2])
def test_upsert_takes_exactly_one_item(api: Api, count: int) -> None:
    items = [item(api, f"t{i}") for i in range(count)]
    assert_envelope(api.post("/workflows/triggers", {"items": items}), 400, "exactly 1")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"externalId": "x" * 256}, "at most 255"),
        ({"externalId": " padded"}, "whitespace"),
        ({"workflowVersion": "1 "}, "whitespace"),
        ({"input": {"blob": "x" * 102400}}, "100 KB"),
        ({"input": ["not", "an", "object"]}, "JSON object"),
        ({"metadata": {str(i): "v" for i in range(11)}}, "at most 10"),
        ({"metadata": {"k" * 33: "v"}}, "longer than 32"),
        ({"metadata": {"k": "v" * 256}}, "longer than 255"),
        ({"metadata": {"k": 1}}, "must be a string"),
    ],
)
def test_upsert_limits(api: Api, fields: dict[str, Any], message: str) -> None:
    assert_envelope(upsert(api, **fields), 400, message)


def test_input_of_exactly_100_kb_is_accepted(api: Api) -> None:
    blob = "x" * (102400 - len('{"blob":""}'))
    assert upsert(api, input={"blob": blob}).status_code == 200


@pytest.mark.parametrize("cron", ["bad", "* * * *", "61 * * * *", "0 0 31 2 *", "*/5 * * * * *", ""])
def test_an_invalid_cron_expression_is_400(api: Api, cron: str) -> None:
    rule = {"triggerType": "schedule", "cronExpression": cron}
    assert_envelope(upsert(api, triggerRule=rule), 400, "ron")


def test_an_unknown_timezone_is_400_and_an_iana_one_is_kept(api: Api) -> None:
    bad = {**EVERY_TEN, "timezone": "Mars/Olympus_Mons"}
    assert_envelope(upsert(api, triggerRule=bad), 400, "Mars/Olympus_Mons")
    good = {**EVERY_TEN, "timezone": "America/New_York"}
    assert upsert(api, triggerRule=good).json()["items"][0]["triggerRule"] == good


def test_every_minute_is_accepted(api: Api) -> None:
    assert upsert(api, triggerRule={"triggerType": "schedule", "cronExpression": "* * * * *"}).status_code == 200


def test_a_data_modeling_rule_is_stored_as_sent(api: Api) -> None:
    response = upsert(api, triggerRule=DM_RULE)
    assert response.status_code == 200, response.text
    assert response.json()["items"][0]["triggerRule"] == DM_RULE


def _dm(**changes: Any) -> dict[str, Any]:
    return {**DM_RULE, **changes}


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        (_dm(batchSize=0), "batchSize"),
        (_dm(batchSize=1001), "batchSize"),
        (_dm(batchTimeout=9), "batchTimeout"),
        (_dm(batchTimeout=86401), "batchTimeout"),
        (_dm(batchSize=100), "must equal batchSize"),
        (_dm(dataModelingQuery={"with": {}, "select": {}}), "1 to 50"),
        (_dm(dataModelingQuery={**DM_RULE["dataModelingQuery"], "select": {"other": {}}}), "select.other"),
        (_dm(dataModelingQuery={"with": {f"w{i}": {"limit": 500} for i in range(51)}, "select": {}}), "1 to 50"),
        ({k: v for k, v in DM_RULE.items() if k != "batchTimeout"}, "batchTimeout"),
        ({"triggerType": "webhook"}, "triggerType"),
        ("schedule", "triggerRule"),
    ],
)
def test_invalid_data_modeling_and_unknown_rules_are_400(api: Api, rule: Any, message: str) -> None:
    assert_envelope(upsert(api, triggerRule=rule), 400, message)


def test_upsert_for_an_unknown_workflow_version_is_404(api: Api) -> None:
    error = assert_envelope(upsert(api, workflowVersion="9"), 404, "not found")
    assert error["missing"] == [{"workflowExternalId": "wf", "version": "9"}]


def test_a_project_holds_at_most_200_triggers(emu: CdfEmulator, api: Api) -> None:
    for i in range(200):
        emu.upsert_trigger(PROJECT, f"t{i:03}", "wf", "1", "0 * * * *")
    assert_envelope(upsert(api, "one-too-many"), 400, "at most 200")
    assert upsert(api, "t000").status_code == 200  # updating one of the 200 is fine
    emu.upsert_workflow_version("elsewhere", "wf", "1")
    other = Api(emu, "elsewhere")
    assert upsert(other, "one-too-many").status_code == 200
    other.http.close()


# ----- list and delete


def test_list_is_sorted_by_external_id_and_pages(api: Api) -> None:
    for xid in ["c", "a", "b"]:
        assert upsert(api, xid).status_code == 200
    first = listed(api, "?limit=2")
    assert [t["externalId"] for t in first["items"]] == ["a", "b"]
    rest = api.get("/workflows/triggers", params={"limit": 2, "cursor": first["nextCursor"]}).json()
    assert [t["externalId"] for t in rest["items"]] == ["c"] and "nextCursor" not in rest
    assert_envelope(api.get("/workflows/triggers?limit=0"), 400, "limit")
    assert_envelope(api.get("/workflows/triggers?limit=x"), 400, "limit")


def test_list_takes_the_toolkits_workflow_filters(emu: CdfEmulator, api: Api) -> None:
    emu.upsert_workflow_version(PROJECT, "wf", "2")
    upsert(api, "one")
    upsert(api, "two", workflowVersion="2")
    assert [t["externalId"] for t in listed(api, "?workflowExternalId=wf&workflowVersion=2")["items"]] == ["two"]
    assert listed(api, "?workflowExternalId=other")["items"] == []


def test_delete_removes_the_trigger(api: Api) -> None:
    upsert(api)
    response = api.post("/workflows/triggers/delete", {"items": [{"externalId": "t1"}]})
    assert response.status_code == 200 and response.json() == {}
    assert listed(api)["items"] == []
    assert_envelope(api.get("/workflows/triggers/t1/history"), 404)


def test_delete_of_an_unknown_trigger_is_404_with_missing(api: Api) -> None:
    error = assert_envelope(api.post("/workflows/triggers/delete", {"items": [{"externalId": "nope"}]}), 404)
    assert error["missing"] == [{"externalId": "nope"}]


def test_delete_takes_exactly_one_item(api: Api) -> None:
    upsert(api, "a")
    upsert(api, "b")
    body = {"items": [{"externalId": "a"}, {"externalId": "b"}]}
    assert_envelope(api.post("/workflows/triggers/delete", body), 400, "exactly 1")
    assert len(listed(api)["items"]) == 2


def test_deleting_the_workflow_deletes_its_triggers(api: Api) -> None:
    upsert(api)
    assert api.post("/workflows/delete", {"items": [{"externalId": "wf"}]}).status_code == 200
    assert listed(api)["items"] == []


# ----- history, pause and resume


def test_history_of_a_new_trigger_is_empty(api: Api) -> None:
    upsert(api)
    response = api.get("/workflows/triggers/t1/history")
    assert response.status_code == 200 and response.json() == {"items": []}


def test_history_of_an_unknown_trigger_is_404(api: Api) -> None:
    assert_envelope(api.get("/workflows/triggers/nope/history"), 404, "Workflow trigger not found.")


def test_pause_and_resume_are_idempotent(api: Api) -> None:
    upsert(api)
    for action, paused in [("pause", True), ("pause", True), ("resume", False), ("resume", False)]:
        response = api.post(f"/workflows/triggers/t1/{action}")
        assert response.status_code == 200 and response.json() == {}
        assert listed(api)["items"][0]["isPaused"] is paused


@pytest.mark.parametrize("action", ["pause", "resume"])
def test_pause_or_resume_of_an_unknown_trigger_is_404(api: Api, action: str) -> None:
    assert_envelope(api.post(f"/workflows/triggers/nope/{action}"), 404, "Trigger not found.")


def test_a_trigger_id_with_a_slash_is_url_encoded(api: Api) -> None:
    assert upsert(api, "a/b").status_code == 200
    assert api.post("/workflows/triggers/a%2Fb/pause").status_code == 200
    assert api.get("/workflows/triggers/a%2Fb/history").status_code == 200
