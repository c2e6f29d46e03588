"""The sessions API over HTTP as CDF serves it: list (status filter, limit, cursor), byids and revoke."""

from __future__ import annotations

from typing import Any

import pytest

from pulumi_cdf_workflows.emulator import CdfEmulator

from .conftest import Api, assert_envelope

SESSION_KEYS = {"id", "type", "status", "creationTime", "expirationTime"}


def create(api: Api, item: dict[str, Any] | None = None) -> dict[str, Any]:
    response = api.post("/sessions", {"items": [item or {"tokenExchange": True}]})
    assert response.status_code == 200, response.text
    created: dict[str, Any] = response.json()["items"][0]
    return created


def listed(api: Api, **query: Any) -> dict[str, Any]:
    response = api.get("/sessions", params=query)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def ids(body: dict[str, Any]) -> list[int]:
    return [s["id"] for s in body["items"]]


# ----- list


def test_list_shows_each_session_without_its_nonce(api: Api) -> None:
    exchanged = create(api)
    client = create(api, {"clientId": "me", "clientSecret": "s3cr3t"})
    [first, second] = listed(api)["items"]
    assert set(first) == SESSION_KEYS and set(second) == SESSION_KEYS | {"clientId"}
    assert (first["id"], first["type"], first["status"]) == (exchanged["id"], "TOKEN_EXCHANGE", "READY")
    assert (second["id"], second["clientId"]) == (client["id"], "me")
    assert first["expirationTime"] > first["creationTime"]


def test_list_filters_by_status(api: Api) -> None:
    ready = create(api)
    bound = create(api)
    assert api.post("/workflows/wf/versions/1/run", {"authentication": {"nonce": bound["nonce"]}}).status_code == 202
    assert ids(listed(api, status="READY")) == [ready["id"]]
    assert ids(listed(api, status="ACTIVE")) == [bound["id"]]
    assert ids(listed(api, status="REVOKED")) == []


def test_list_defaults_to_25_and_pages_with_a_cursor(api: Api) -> None:
    made = [create(api)["id"] for _ in range(30)]
    first = listed(api)
    assert ids(first) == made[:25] and first["nextCursor"]
    rest = listed(api, cursor=first["nextCursor"])
    assert ids(rest) == made[25:] and "nextCursor" not in rest
    small = listed(api, limit=10)
    assert ids(small) == made[:10]
    assert ids(listed(api, limit=10, cursor=small["nextCursor"])) == made[10:20]


def test_list_shows_only_the_projects_sessions(emu: CdfEmulator, api: Api) -> None:
    mine = create(api)
    other = Api(emu, "other-project")
    create(other)
    assert ids(listed(api)) == [mine["id"]]


@pytest.mark.parametrize(("query", "message"), [({"status": "ready"}, "status"), ({"limit": 1001}, "limit"),
                                                ({"limit": 0}, "limit"), ({"cursor": "nope"}, "cursor")])  # fmt: skip
def test_list_refuses_bad_parameters(api: Api, query: dict[str, Any], message: str) -> None:
    assert_envelope(api.get("/sessions", params=query), 400, message)


def test_creation_time_comes_from_the_emulators_clock(emu: CdfEmulator, api: Api) -> None:
    emu.set_time(1_900_000_000_000)
    created = create(api)
    [shown] = listed(api)["items"]
    assert 1_900_000_000_000 <= shown["creationTime"] <= emu.now()
    assert shown["id"] == created["id"]


# ----- byids


def test_byids_returns_the_sessions_asked_for(api: Api) -> None:
    a, b = create(api), create(api)
    response = api.post("/sessions/byids", {"items": [{"id": b["id"]}, {"id": a["id"]}]})
    assert response.status_code == 200, response.text
    assert ids(response.json()) == [b["id"], a["id"]]
    assert set(response.json()["items"][0]) == SESSION_KEYS


def test_byids_fails_if_any_id_is_unknown(emu: CdfEmulator, api: Api) -> None:
    known = create(api)
    elsewhere = create(Api(emu, "other-project"))
    body = {"items": [{"id": known["id"]}, {"id": 42}, {"id": elsewhere["id"]}]}
    error = assert_envelope(api.post("/sessions/byids", body), 400, "not found")
    assert error["missing"] == [{"id": 42}, {"id": elsewhere["id"]}]


@pytest.mark.parametrize("body", [{}, {"items": []}, {"items": [{"id": "1"}]}, {"items": [{"externalId": "x"}]},
                                  {"items": [{"id": i} for i in range(1, 1002)]}])  # fmt: skip
def test_byids_refuses_a_bad_body(api: Api, body: dict[str, Any]) -> None:
    assert_envelope(api.post("/sessions/byids", body), 400, "items")


# ----- revoke


def test_revoke_marks_the_session_revoked_and_is_idempotent(api: Api) -> None:
    session = create(api)
    response = api.post("/sessions/revoke", {"items": [{"id": session["id"]}]})
    assert response.status_code == 200, response.text
    [revoked] = response.json()["items"]
    assert (revoked["id"], revoked["status"]) == (session["id"], "REVOKED") and set(revoked) == SESSION_KEYS
    again = api.post("/sessions/revoke", {"items": [{"id": session["id"]}]})
    assert again.status_code == 200 and again.json()["items"][0]["status"] == "REVOKED"
    assert ids(listed(api, status="REVOKED")) == [session["id"]]


def test_a_revoked_sessions_nonce_can_no_longer_be_bound(api: Api) -> None:
    session = create(api)
    api.post("/sessions/revoke", {"items": [{"id": session["id"]}]})
    run = api.post("/workflows/wf/versions/1/run", {"authentication": {"nonce": session["nonce"]}})
    assert_envelope(run, 400, "revoked")
    rule = {"triggerType": "schedule", "cronExpression": "0 * * * *"}
    trigger = {"externalId": "t", "triggerRule": rule, "workflowExternalId": "wf", "workflowVersion": "1"}
    trigger["authentication"] = {"nonce": session["nonce"]}
    assert_envelope(api.post("/workflows/triggers", {"items": [trigger]}), 400, "revoked")


def test_revoke_of_an_unknown_session_is_400_with_missing(api: Api) -> None:
    error = assert_envelope(api.post("/sessions/revoke", {"items": [{"id": 7}]}), 400, "not found")
    assert error["missing"] == [{"id": 7}]
    assert_envelope(api.post("/sessions/revoke", {"items": []}), 400, "items")


def test_revoke_takes_more_than_the_sdks_100_ids(api: Api) -> None:
    made = [create(api)["id"] for _ in range(101)]
    response = api.post("/sessions/revoke", {"items": [{"id": i} for i in made]})
    assert response.status_code == 200 and len(response.json()["items"]) == 101
