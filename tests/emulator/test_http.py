"""Wire behaviour over real HTTP on 127.0.0.1: auth, envelope, headers, sessions, workflows and versions."""

from __future__ import annotations

import base64
import gzip
import json
from typing import Any

import pytest
import requests

from pulumi_cdf_workflows.emulator import CdfEmulator

from .conftest import PROJECT, Api, FakeClock, assert_envelope


@pytest.fixture
def lifetimes() -> FakeClock:
    """The clock token and nonce lifetimes count on, moved by the test (the emulator's own clock never ends them)."""
    return FakeClock()


# ----- OAuth token endpoint and bearer auth


def test_token_endpoint_issues_bearer_tokens_from_form_credentials(emu: CdfEmulator) -> None:
    response = requests.post(
        emu.token_url,
        data={
            "grant_type": "client_credentials",
            "client_id": "a",
            "client_secret": "b",
            "scope": "x/.default",
        },
    )
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600 and body["access_token"]
    inspect = requests.get(
        emu.base_url + "/api/v1/token/inspect", headers={"Authorization": f"Bearer {body['access_token']}"}
    )
    assert inspect.status_code == 200
    assert inspect.json()["subject"] == "a"


def test_token_inspect_lists_projects_seen(emu: CdfEmulator, api: Api) -> None:
    inspect = api.http.get(emu.base_url + "/api/v1/token/inspect")
    assert inspect.status_code == 200
    body = inspect.json()
    assert {"projectUrlName": PROJECT, "groups": []} in body["projects"]
    assert any("workflowOrchestrationAcl" in c for c in body["capabilities"])


def test_seeded_version_has_one_cdf_task(api: Api) -> None:
    [task] = api.get("/workflows/wf/versions/1").json()["workflowDefinition"]["tasks"]
    assert task["externalId"] == "task-1" and task["type"] == "cdf"


def test_emulator_can_be_started_again_after_stop() -> None:
    emu = CdfEmulator(task_duration=0.01)
    for _ in range(2):
        with emu:
            emu.upsert_workflow_version(PROJECT, "wf", "1")
            api = Api(emu)
            api.wait_status(api.run().json()["id"], "COMPLETED")
            api.http.close()


def test_token_endpoint_accepts_http_basic() -> None:
    with CdfEmulator(clients={"id:1": "pw"}) as emu:
        basic = base64.b64encode(b"id%3A1:pw").decode()
        response = requests.post(
            emu.token_url,
            data={"grant_type": "client_credentials"},
            headers={"Authorization": f"Basic {basic}"},
        )
        assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    "form",
    [
        {"grant_type": "client_credentials", "client_id": "known", "client_secret": "Zq9-secret"},
        {"grant_type": "client_credentials", "client_id": "other", "client_secret": "Xk2-pass"},
        {"grant_type": "client_credentials"},
    ],
)
def test_bad_client_credentials_get_oauth_invalid_client(form: dict[str, str]) -> None:
    with CdfEmulator(clients={"known": "Xk2-pass"}) as emu:
        response = requests.post(emu.token_url, data=form)
    assert response.status_code == 401
    body = response.json()
    assert body["error"] == "invalid_client"
    assert body["error_description"]
    assert "Xk2-pass" not in response.text and "Zq9-secret" not in response.text


def test_unsupported_grant_type(emu: CdfEmulator) -> None:
    response = requests.post(emu.token_url, data={"grant_type": "password", "client_id": "a", "client_secret": "b"})
    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_grant_type"


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer unknown"}, {"Authorization": "Basic eDp5"}])
def test_api_routes_need_a_valid_bearer_token(emu: CdfEmulator, headers: dict[str, str]) -> None:
    response = requests.get(f"{emu.base_url}/api/v1/projects/p/workflows/wf", headers=headers)
    assert_envelope(response, 401)


def test_expired_tokens_get_401_and_static_tokens_work(emu: CdfEmulator, api: Api) -> None:
    assert api.get("/workflows/wf").status_code == 200
    emu.expire_tokens()
    assert_envelope(api.get("/workflows/wf"), 401, "expired")
    static = requests.get(api.url("/workflows/wf"), headers={"Authorization": "Bearer static-abc"})
    assert static.status_code == 200


def test_token_ttl_is_honoured(lifetimes: FakeClock) -> None:
    with CdfEmulator(token_ttl=60, ttl_clock=lifetimes) as emu:
        emu.upsert_workflow_version(PROJECT, "wf", "1")
        api = Api(emu)
        lifetimes.now += 59
        assert api.get("/workflows/wf").status_code == 200
        lifetimes.now += 1
        assert_envelope(api.get("/workflows/wf"), 401)


# ----- general wire rules


def test_every_reply_has_a_request_id(emu: CdfEmulator, api: Api) -> None:
    replies = [
        api.get("/workflows/wf"),
        api.get("/workflows/missing"),
        requests.post(emu.token_url, data={}),
        requests.get(emu.base_url + "/_emulator/requests"),
        requests.get(emu.base_url + "/nowhere"),
    ]
    ids = [r.headers["X-Request-ID"] for r in replies]
    assert all(ids) and len(set(ids)) == len(ids)


def test_gzip_request_bodies_are_accepted(api: Api) -> None:
    body = gzip.compress(json.dumps({"authentication": {"nonce": api.nonce()}, "input": {"a": 1}}).encode())
    response = api.http.post(
        api.url("/workflows/wf/versions/1/run"),
        data=body,
        headers={"Content-Encoding": "gzip", "Content-Type": "application/json"},
    )
    assert response.status_code == 202, response.text
    assert api.execution(response.json()["id"])["input"] == {"a": 1}


def test_broken_gzip_and_json_are_400(api: Api) -> None:
    broken = api.http.post(api.url("/sessions"), data=b"not gzip", headers={"Content-Encoding": "gzip"})
    assert_envelope(broken, 400, "gzip")
    assert_envelope(api.http.post(api.url("/sessions"), data=b"{nope"), 400, "JSON")


def test_unknown_routes_are_404_with_envelope(api: Api) -> None:
    assert_envelope(api.get("/nothing/here"), 404)
    assert_envelope(api.http.delete(api.url("/workflows/wf")), 405)


def test_path_segments_are_url_decoded(emu: CdfEmulator, api: Api) -> None:
    emu.upsert_workflow_version(PROJECT, "my wf/x", "v 1")
    response = api.get("/workflows/my%20wf%2Fx/versions/v%201")
    assert response.status_code == 200
    assert response.json()["workflowExternalId"] == "my wf/x"
    run = api.post("/workflows/my%20wf%2Fx/versions/v%201/run", {"authentication": {"nonce": api.nonce()}})
    assert run.status_code == 202
    assert run.json()["version"] == "v 1"


def test_any_project_name_works(emu: CdfEmulator, api: Api) -> None:
    other = Api(emu, "another-project")
    assert other.post("/workflows", {"items": [{"externalId": "x"}]}).status_code == 200
    assert_envelope(api.get("/workflows/x"), 404)  # projects are separate


# ----- sessions


@pytest.mark.parametrize(
    ("item", "session_type"),
    [
        ({"clientId": "c", "clientSecret": "s"}, "CLIENT_CREDENTIALS"),
        ({"tokenExchange": True}, "TOKEN_EXCHANGE"),
        ({"oneshotTokenExchange": True}, "ONESHOT_TOKEN_EXCHANGE"),
    ],
)
def test_session_shapes(api: Api, item: dict[str, Any], session_type: str) -> None:
    response = api.post("/sessions", {"items": [item]})
    assert response.status_code == 200
    [created] = response.json()["items"]
    assert created["type"] == session_type and created["status"] == "READY"
    assert isinstance(created["id"], int) and created["nonce"]
    assert ("clientId" in created) == (session_type == "CLIENT_CREDENTIALS")


def test_session_needs_exactly_one_item(api: Api) -> None:
    assert_envelope(api.post("/sessions", {"items": []}), 400, "exactly 1")
    two = {"items": [{"tokenExchange": True}, {"tokenExchange": True}]}
    assert_envelope(api.post("/sessions", two), 400, "exactly 1")


def test_nonce_is_single_use(api: Api) -> None:
    nonce = api.nonce()
    body = {"authentication": {"nonce": nonce}}
    assert api.post("/workflows/wf/versions/1/run", body).status_code == 202
    assert_envelope(api.post("/workflows/wf/versions/1/run", body), 400, "already been used")


def test_nonce_expires(lifetimes: FakeClock) -> None:
    with CdfEmulator(nonce_ttl=60, ttl_clock=lifetimes) as emu:
        emu.upsert_workflow_version(PROJECT, "wf", "1")
        api = Api(emu)
        nonce = api.nonce()
        lifetimes.now += 60
        response = api.post("/workflows/wf/versions/1/run", {"authentication": {"nonce": nonce}})
        assert_envelope(response, 400, "expired")
        assert emu.executions() == []


def test_unknown_nonce_is_400(api: Api) -> None:
    assert_envelope(api.post("/workflows/wf/versions/1/run", {"authentication": {"nonce": "x"}}), 400, "Invalid")


# ----- workflows and versions


def test_workflow_upsert_get_list_delete(api: Api) -> None:
    created = api.post("/workflows", {"items": [{"externalId": "w2", "description": "d", "dataSetId": 7}]})
    assert created.status_code == 200
    [workflow] = created.json()["items"]
    assert workflow["externalId"] == "w2" and workflow["description"] == "d" and workflow["dataSetId"] == 7
    assert api.get("/workflows/w2").json()["description"] == "d"
    page1 = api.get("/workflows", params={"limit": 1})
    assert [w["externalId"] for w in page1.json()["items"]] == ["w2"]
    page2 = api.get("/workflows", params={"limit": 1, "cursor": page1.json()["nextCursor"]})
    assert [w["externalId"] for w in page2.json()["items"]] == ["wf"]
    assert "nextCursor" not in page2.json()
    assert api.post("/workflows/delete", {"items": [{"externalId": "w2"}]}).status_code == 200
    error = assert_envelope(api.get("/workflows/w2"), 404)
    assert error["missing"] == [{"externalId": "w2"}]


def test_workflow_upsert_takes_one_item(api: Api) -> None:
    two = {"items": [{"externalId": "a"}, {"externalId": "b"}]}
    assert_envelope(api.post("/workflows", two), 400, "exactly 1")


def test_delete_unknown_workflow_is_404_unless_ignored(api: Api) -> None:
    assert_envelope(api.post("/workflows/delete", {"items": [{"externalId": "nope"}]}), 404)
    ignored = api.post("/workflows/delete?ignoreUnknownIds=true", {"items": [{"externalId": "nope"}]})
    assert ignored.status_code == 200


def test_version_upsert_get_list_delete(api: Api) -> None:
    tasks = [{"externalId": "t", "type": "function", "parameters": {"function": {"externalId": "fn"}}}]
    item = {
        "workflowExternalId": "new",
        "version": "3",
        "workflowDefinition": {"description": "d", "tasks": tasks},
    }
    response = api.post("/workflows/versions", {"items": [item]})
    assert response.status_code == 200
    [version] = response.json()["items"]
    definition = version["workflowDefinition"]
    assert definition["hash"] and definition["description"] == "d"
    assert definition["tasks"][0]["retries"] == 3 and definition["tasks"][0]["onFailure"] == "abortWorkflow"
    assert api.get("/workflows/new").status_code == 200  # the workflow was created with its version
    assert api.get("/workflows/new/versions/3").json()["workflowDefinition"] == definition
    listed = api.post("/workflows/versions/list", {"filter": {"workflowFilters": [{"externalId": "new"}]}})
    assert [v["version"] for v in listed.json()["items"]] == ["3"]
    everything = api.post("/workflows/versions/list", {"filter": {"workflowFilters": []}, "limit": 1})
    assert len(everything.json()["items"]) == 1 and everything.json()["nextCursor"]
    deleted = api.post("/workflows/versions/delete", {"items": [{"workflowExternalId": "new", "version": "3"}]})
    assert deleted.status_code == 200
    assert_envelope(api.get("/workflows/new/versions/3"), 404)


def test_invalid_version_definition_is_400(api: Api) -> None:
    item = {"workflowExternalId": "x", "version": "1", "workflowDefinition": {"tasks": [{"externalId": "t"}]}}
    assert_envelope(api.post("/workflows/versions", {"items": [item]}), 400, "type must be one of")
