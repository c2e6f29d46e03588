"""Injected faults, the request log and the /_emulator/ controls, over real HTTP."""

from __future__ import annotations

import gzip
import json
from typing import Any

import pytest
import requests

from pulumi_cdf_workflows.emulator import CdfEmulator, Fault

from .conftest import PROJECT, Api

RUN = "/workflows/wf/versions/1/run"


def control(emu: CdfEmulator, verb: str, name: str, body: Any = None, **params: str) -> Any:
    response = requests.request(verb, f"{emu.base_url}/_emulator/{name}", json=body, params=params, timeout=5)
    assert response.status_code == 200, response.text
    return response.json()


# ----- faults


def test_fault_before_answers_without_processing(emu: CdfEmulator, api: Api) -> None:
    emu.inject_fault(status=503, retry_after=2)
    response = api.run()
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "2"
    assert response.headers["X-Request-ID"]
    assert response.json()["error"]["code"] == 503
    assert emu.executions() == []
    assert api.run().status_code == 202  # times=1: the next one goes through


def test_fault_after_processes_then_fails_the_reply(emu: CdfEmulator, api: Api) -> None:
    emu.inject_fault(when="after", status=502)
    assert api.run().status_code == 502
    assert len(emu.executions()) == 1


def test_drop_closes_the_connection_without_reply(emu: CdfEmulator, api: Api) -> None:
    emu.inject_fault(drop=True, when="after")
    with pytest.raises(requests.ConnectionError):
        api.run()
    assert len(emu.executions()) == 1  # processed, the reply was lost
    [entry] = emu.requests("POST", RUN + "$")
    assert entry["status"] is None and entry["dropped"] is True
    assert api.get("/workflows/wf").status_code == 200  # the client reconnects fine


def test_delay_causes_client_read_timeout(emu: CdfEmulator, api: Api) -> None:
    emu.inject_fault(method="GET", path=r"/workflows/wf$", status=None, delay=0.5)
    with pytest.raises(requests.ReadTimeout):
        api.http.get(api.url("/workflows/wf"), timeout=0.1)
    assert api.get("/workflows/wf").status_code == 200


def test_fault_matches_method_and_path_and_counts_times(emu: CdfEmulator, api: Api) -> None:
    fault = emu.inject_fault(method="GET", path=r"/workflows/wf$", times=2, status=429)
    assert isinstance(fault, Fault)
    assert api.run().status_code == 202  # POST .../run does not match
    assert api.get("/workflows/wf/versions/1").status_code == 200  # path does not match
    assert [api.get("/workflows/wf").status_code for _ in range(3)] == [429, 429, 200]
    assert fault.hits == 2 and fault.remaining == 0


def test_fault_on_token_endpoint(emu: CdfEmulator) -> None:
    emu.inject_fault(path="/oauth2/token$", status=500)
    form = {"grant_type": "client_credentials", "client_id": "a", "client_secret": "b"}
    assert requests.post(emu.token_url, data=form).status_code == 500
    assert requests.post(emu.token_url, data=form).status_code == 200


@pytest.mark.parametrize("kwargs", [{"when": "later"}, {"times": 0}, {"delay": -1}, {"status": 42}])
def test_invalid_faults_are_refused(emu: CdfEmulator, kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        emu.inject_fault(**kwargs)


# ----- request log


def test_request_log_counts_runs_including_faulted_ones(emu: CdfEmulator, api: Api) -> None:
    emu.inject_fault(status=503, times=2)
    statuses = [api.run().status_code for _ in range(3)]
    assert statuses == [503, 503, 202]
    runs = emu.requests("POST", r"/run$")
    assert [e["status"] for e in runs] == [503, 503, 202]
    assert all(e["fault"] for e in runs[:2]) and runs[2]["fault"] is None
    assert len(emu.executions()) == 1


def test_request_log_redacts_authorization_and_client_secrets(emu: CdfEmulator, api: Api) -> None:
    api.post("/sessions", {"items": [{"clientId": "c", "clientSecret": "TOPSECRET-1"}]})
    form = {"grant_type": "client_credentials", "client_id": "x", "client_secret": "TOPSECRET-2"}
    requests.post(emu.token_url, data=form)
    log = emu.requests()
    text = json.dumps(log)
    assert "TOPSECRET" not in text
    assert str(api.http.headers["Authorization"]).split()[1] not in text
    session = emu.requests("POST", "/sessions$")[0]
    assert session["body"]["items"][0]["clientId"] == "c"
    assert session["headers"]["authorization"] == "<redacted>"
    token = emu.requests(path="/oauth2/token")[-1]
    assert token["body"]["client_id"] == "x"


def test_request_log_decodes_gzip_bodies_and_queries(api: Api, emu: CdfEmulator) -> None:
    body = gzip.compress(json.dumps({"items": [{"externalId": "a"}]}).encode())
    api.http.post(
        api.url("/workflows/delete?ignoreUnknownIds=true"), data=body, headers={"Content-Encoding": "gzip"}
    )
    [entry] = emu.requests("POST", "/workflows/delete")
    assert entry["body"] == {"items": [{"externalId": "a"}]}
    assert entry["query"] == {"ignoreUnknownIds": "true"}
    assert entry["status"] == 200


# ----- controls over HTTP


def test_controls_are_not_under_api_and_not_logged(emu: CdfEmulator, api: Api) -> None:
    control(emu, "GET", "requests")
    assert_url = emu.base_url + "/api/v1/_emulator/reset"
    assert requests.post(assert_url, headers=api.http.headers).status_code == 404
    assert not [e for e in emu.requests() if "/_emulator/" in e["path"] and not e["path"].startswith("/api/")]


def test_http_controls_seed_outcome_fault_and_inspect(emu: CdfEmulator) -> None:
    control(emu, "POST", "seed", {"project": "p2", "workflowExternalId": "x", "version": "1"})
    control(
        emu,
        "POST",
        "outcomes",
        {"workflowExternalId": "x", "version": "1", "outcome": "FAILED", "reason": "r"},
    )
    fault = control(
        emu, "POST", "faults", {"method": "POST", "path": "/run$", "status": 503, "retryAfter": 1}
    )
    assert fault["hits"] == 0
    api = Api(emu, "p2")
    assert api.run("x").status_code == 503
    execution_id = api.run("x").json()["id"]
    assert api.wait_status(execution_id, "FAILED")["reasonForIncompletion"] == "r"
    [execution] = control(emu, "GET", "executions", project="p2")["items"]
    assert execution["project"] == "p2" and execution["id"] == execution_id
    sessions = control(emu, "GET", "sessions")["items"]
    assert {s["status"] for s in sessions} == {"READY", "ACTIVE"}
    assert all("nonce" not in s for s in sessions)
    runs = control(emu, "GET", "requests", method="POST", path="/run$")["items"]
    assert [r["status"] for r in runs] == [503, 202]
    assert control(emu, "POST", "tokens/expire")["expired"] >= 1
    assert api.get("/workflows/x").status_code == 401


def test_http_reset_clears_state_faults_and_log(emu: CdfEmulator, api: Api) -> None:
    api.run()
    emu.inject_fault(method="GET", path=".*", times=5)
    control(emu, "POST", "reset")
    assert emu.executions() == [] and emu.requests() == [] and emu.faults() == []
    assert api.get("/workflows/wf").status_code == 404  # seeded version is gone, token still valid


def test_bad_control_requests_get_envelopes(emu: CdfEmulator) -> None:
    response = requests.post(f"{emu.base_url}/_emulator/outcomes", json={"workflowExternalId": "x"})
    assert response.status_code == 400 and "version" in response.json()["error"]["message"]
    bad_outcome = {"workflowExternalId": "x", "version": "1", "outcome": "MAYBE"}
    assert requests.post(f"{emu.base_url}/_emulator/outcomes", json=bad_outcome).status_code == 400
    assert requests.post(f"{emu.base_url}/_emulator/faults", json={"when": "soon"}).status_code == 400
    assert requests.get(f"{emu.base_url}/_emulator/nope").status_code == 404


def test_library_reset_keeps_the_server_usable(emu: CdfEmulator) -> None:
    emu.reset()
    emu.upsert_workflow_version(PROJECT, "wf", "1")
    assert Api(emu).run().status_code == 202


def test_stop_closes_keep_alive_connections() -> None:
    emu = CdfEmulator().start()
    emu.upsert_workflow_version(PROJECT, "wf", "1")
    api = Api(emu)
    url = api.url("/workflows/wf")
    assert api.http.get(url).status_code == 200
    emu.stop()
    with pytest.raises(requests.ConnectionError):
        api.http.get(url, timeout=2)
