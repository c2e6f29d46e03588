"""Injected faults, the request log and the /_emulator/ controls, over real HTTP."""

from __future__ import annotations

import base64
import gzip
import json
from typing import Any

import pytest
import requests

from pulumi_cdf_workflows.emulator import CdfEmulator, Fault
from pulumi_cdf_workflows.emulator.faults import REDACTED, redact

from .conftest import PROJECT, Api

RUN = "/workflows/wf/versions/1/run"


def control(emu: CdfEmulator, verb: str, name: str, body: Any = None, **params: str) -> Any:
    response = requests.request(verb, f"{emu.base_url}/_emulator/{name}", json=body, params=params, timeout=5)
    assert response.status_code == 200, response.text
    return response.json()


def base64_of(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


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


PROXY_PAGE = "<html><body><h1>502 Bad Gateway</h1>nginx</body></html>"


@pytest.mark.parametrize("status", [None, 202])
def test_fault_after_replaces_the_body_of_a_run_that_really_started(
    emu: CdfEmulator, api: Api, status: int | None
) -> None:
    emu.inject_fault(when="after", status=status, body=PROXY_PAGE)
    response = api.run()
    assert response.status_code == 202  # status=None keeps the real status
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert response.text == PROXY_PAGE
    [execution] = emu.executions(PROJECT)  # CDF accepted the run; only the reply is broken
    assert execution["workflowExternalId"] == "wf"
    [entry] = emu.requests("POST", RUN + "$")
    assert entry["status"] == 202 and entry["fault"]["body"] == PROXY_PAGE
    assert api.get("/workflows/wf").status_code == 200  # the connection is still usable


def test_fault_after_with_a_json_body_missing_fields(emu: CdfEmulator, api: Api) -> None:
    emu.inject_fault(when="after", status=None, body={"workflowExternalId": "wf"})
    response = api.run()
    assert response.status_code == 202
    assert response.headers["Content-Type"] == "application/json"
    assert response.json() == {"workflowExternalId": "wf"}  # no id, no status
    assert len(emu.executions(PROJECT)) == 1


def test_fault_before_with_a_body_answers_it_without_processing(emu: CdfEmulator, api: Api) -> None:
    emu.inject_fault(status=502, body="upstream down", content_type="text/plain", retry_after=1)
    response = api.run()
    assert (response.status_code, response.text) == (502, "upstream down")
    assert response.headers["Content-Type"] == "text/plain"
    assert response.headers["Retry-After"] == "1"
    assert emu.executions() == []


def test_http_fault_control_accepts_a_body(emu: CdfEmulator, api: Api) -> None:
    spec = {"path": "/run$", "when": "after", "status": None, "body": PROXY_PAGE, "contentType": "text/html"}
    fault = control(emu, "POST", "faults", spec)
    assert (fault["body"], fault["contentType"], fault["status"]) == (PROXY_PAGE, "text/html", None)
    response = api.run()
    assert (response.status_code, response.text) == (202, PROXY_PAGE)
    assert response.headers["Content-Type"] == "text/html"
    assert len(emu.executions(PROJECT)) == 1
    control(emu, "POST", "faults", {"method": "GET", "path": "/workflows/wf$", "status": 500, "body": {"x": []}})
    [_, listed] = control(emu, "GET", "faults")["items"]
    assert listed["body"] == {"x": []} and listed["contentType"] is None
    response = api.get("/workflows/wf")
    assert (response.status_code, response.json()) == (500, {"x": []})


@pytest.mark.parametrize(
    "kwargs",
    [
        {"when": "later"},
        {"times": 0},
        {"delay": -1},
        {"status": 42},
        {"status": None, "body": "before, with no real status to keep"},
        {"body": {1, 2}},
        {"body": "x", "content_type": "text/html\r\nX-Evil: 1"},
    ],
)
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


def test_redact_matches_secret_keys_case_insensitively_at_any_depth() -> None:
    value = {
        "Client-Secret": "a",
        "outer": [{"ACCESS_TOKEN": "b", "idToken": "c", "deep": {"Nonce": "d", "apiKey": "e"}}],
        "tokenExchange": True,
        "token_type": "Bearer",
        "clientId": "me",
    }
    assert redact(value) == {
        "Client-Secret": REDACTED,
        "outer": [{"ACCESS_TOKEN": REDACTED, "idToken": REDACTED, "deep": {"Nonce": REDACTED, "apiKey": REDACTED}}],
        "tokenExchange": True,
        "token_type": "Bearer",
        "clientId": "me",
    }


def test_request_log_has_no_secret_anywhere(emu: CdfEmulator, api: Api) -> None:
    nonce = api.nonce()
    run = api.post(RUN, {"authentication": {"nonce": nonce}, "input": {"visible": "input-value"}})
    assert run.status_code == 202
    form = {
        "grant_type": "client_credentials",
        "client_id": "form-client",
        "client_secret": "FORM-SECRET",
        "assertion": "ASSERTION-SECRET",
        "refresh_token": "REFRESH-SECRET",
        "password": "PASSWORD-SECRET",
    }
    token = requests.post(emu.token_url, data=form).json()["access_token"]
    basic = requests.post(
        emu.token_url, data={"grant_type": "client_credentials"}, auth=("basic-client", "BASIC-SECRET")
    )
    assert basic.status_code == 200
    api.http.get(
        api.url("/workflows/wf"),
        params={"access_token": "QUERY-SECRET", "limit": "5"},
        headers={"X-Api-Key": "HEADER-SECRET", "Cookie": "sid=COOKIE-SECRET"},
    )
    text = json.dumps(emu.requests())
    secrets = [nonce, token, api.http.headers["Authorization"].split()[1]]
    secrets += ["FORM-SECRET", "ASSERTION-SECRET", "REFRESH-SECRET", "PASSWORD-SECRET", "BASIC-SECRET"]
    secrets += ["QUERY-SECRET", "HEADER-SECRET", "COOKIE-SECRET", base64_of("basic-client:BASIC-SECRET")]
    assert [s for s in secrets if s in text] == []
    assert "input-value" in text and "form-client" in text
    [run_entry] = emu.requests("POST", RUN + "$")
    assert run_entry["body"]["authentication"] == {"nonce": REDACTED}
    [get_entry] = emu.requests("GET", "/workflows/wf$")
    assert get_entry["query"] == {"access_token": REDACTED, "limit": "5"}
    assert get_entry["headers"]["x-api-key"] == REDACTED


def test_fault_bodies_in_the_log_are_redacted(emu: CdfEmulator, api: Api) -> None:
    emu.inject_fault(path="/sessions$", when="after", status=None, body={"items": [{"nonce": "REPLY-NONCE"}]})
    api.post("/sessions", {"items": [{"tokenExchange": True}]})
    [entry] = emu.requests("POST", "/sessions$")
    assert entry["fault"]["body"] == {"items": [{"nonce": REDACTED}]}
    assert "REPLY-NONCE" not in json.dumps(emu.requests())


def test_request_log_decodes_gzip_bodies_and_queries(api: Api, emu: CdfEmulator) -> None:
    body = gzip.compress(json.dumps({"items": [{"externalId": "a"}]}).encode())
    api.http.post(api.url("/workflows/delete?ignoreUnknownIds=true"), data=body, headers={"Content-Encoding": "gzip"})
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
    fault = control(emu, "POST", "faults", {"method": "POST", "path": "/run$", "status": 503, "retryAfter": 1})
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
