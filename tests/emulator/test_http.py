"""Wire behaviour over real HTTP on 127.0.0.1: routes, statuses, envelope, headers, limits, auth."""

from __future__ import annotations

import base64
import gzip
import json
import time
from typing import Any

import pytest
import requests

from pulumi_cdf_workflows.emulator import CdfEmulator

from .conftest import PROJECT, Api, assert_envelope, wait_until

UNKNOWN_UUID = "00000000-0000-4000-8000-000000000000"


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


def test_token_ttl_is_honoured() -> None:
    with CdfEmulator(token_ttl=0.2) as emu:
        emu.upsert_workflow_version(PROJECT, "wf", "1")
        api = Api(emu)
        assert api.get("/workflows/wf").status_code == 200
        time.sleep(0.25)
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


def test_nonce_expires() -> None:
    with CdfEmulator(nonce_ttl=0.2, task_duration=0.02) as emu:
        emu.upsert_workflow_version(PROJECT, "wf", "1")
        api = Api(emu)
        nonce = api.nonce()
        time.sleep(0.25)
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
    wait_until(lambda: api.execution(execution_id)["executedTasks"], what="task start")
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
    task = wait_until(lambda: api.execution(execution_id)["executedTasks"], what="task start")[0]
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
