"""Giving a client capabilities (constructor, control endpoint, method, CLI, fixture marker), what token inspect
answers with them, and the data-set rules the per-endpoint table (test_permissions.py) does not spell out."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import requests

from pulumi_cdf_workflows.emulator import CdfEmulator
from pulumi_cdf_workflows.emulator.capabilities import parse_capabilities
from pulumi_cdf_workflows.emulator.exceptions import Forbidden

from .conftest import PROJECT, Api, assert_envelope, grant, in_data_set

WRITE_123 = [grant("workflowOrchestrationAcl", "WRITE", in_data_set(123))]
INSPECT = [grant("projectsAcl", "LIST"), grant("groupsAcl", "LIST")]


def inspect(api: Api) -> requests.Response:
    return api.http.get(api.emu.base_url + "/api/v1/token/inspect", timeout=10)


@pytest.mark.parametrize(
    "capabilities",
    [
        {"workflowOrchestrationAcl": {"actions": ["READ"], "scope": {"all": {}}}},  # not a list
        [["workflowOrchestrationAcl"]],
        [{"projectScope": {"allProjects": {}}}],  # no ACL
        [{"aAcl": {"actions": ["READ"], "scope": {"all": {}}}, "bAcl": {"actions": ["READ"], "scope": {"all": {}}}}],
        [{"workflowOrchestrationAcl": {"actions": [], "scope": {"all": {}}}}],
        [{"workflowOrchestrationAcl": {"actions": ["READ"], "scope": {"all": {}, "datasetScope": {"ids": [1]}}}}],
        [{"workflowOrchestrationAcl": {"actions": ["READ"], "scope": {"datasetScope": {"ids": ["1"]}}}}],
        [{"workflowOrchestrationAcl": {"actions": ["READ"], "scope": {"all": {}}}, "projectScope": {"projects": "p"}}],
        [{"workflowOrchestrationAcl": {"actions": ["READ"], "scope": {"all": {}}}, "projectScope": {"some": {}}}],
    ],
)
def test_malformed_capabilities_are_refused_with_the_reason(capabilities: Any) -> None:
    with pytest.raises(ValueError, match="capabilities"):
        parse_capabilities(capabilities)
    with pytest.raises(ValueError):
        CdfEmulator(capabilities={"c": capabilities})


def test_a_capability_without_project_scope_holds_in_every_project() -> None:
    [shown] = parse_capabilities([{"sessionsAcl": {"actions": ["CREATE"], "scope": {"all": {}}}}]).to_json()
    assert shown["projectScope"] == {"allProjects": {}}


def test_constructor_capabilities_apply_and_come_back_after_reset() -> None:
    with CdfEmulator(capabilities={"limited": WRITE_123}) as emu:
        api = Api(emu, client_id="limited")
        assert_envelope(api.get("/workflows"), 403, Forbidden.MESSAGE)
        emu.set_capabilities("limited", None)  # everything again
        assert api.get("/workflows").status_code == 200
        emu.reset()
        assert api.get("/workflows").status_code == 403
        assert emu.capabilities()["limited"][0]["projectScope"] == {"allProjects": {}}


def test_the_control_endpoint_gives_lists_and_takes_back_capabilities(emu: CdfEmulator) -> None:
    control = emu.base_url + "/_emulator/capabilities"
    api = Api(emu, client_id="limited")
    reply = requests.post(control, json={"client": "limited", "capabilities": WRITE_123}, timeout=5)
    assert reply.status_code == 200 and reply.json()["capabilities"][0]["workflowOrchestrationAcl"]["actions"] == [
        "WRITE"
    ]
    assert requests.get(control, timeout=5).json()["items"] == [{"client": "limited", "capabilities": WRITE_123}]
    assert api.get("/workflows").status_code == 403
    assert requests.post(control, json={"client": "limited", "capabilities": None}, timeout=5).status_code == 200
    assert api.get("/workflows").status_code == 200 and requests.get(control, timeout=5).json()["items"] == []
    emu.set_capabilities("limited", WRITE_123)
    emu.reset()  # a test's capabilities go; the constructor gave none
    assert api.get("/workflows").status_code == 200


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"capabilities": []}, "client"),
        ({"client": "c"}, "capabilities"),
        ({"client": "c", "capabilities": [{"x": 1}]}, "capabilities[0]"),
        ({"client": "", "capabilities": []}, "client"),
    ],
)
def test_the_control_endpoint_refuses_a_bad_body(emu: CdfEmulator, body: dict[str, Any], message: str) -> None:
    assert_envelope(requests.post(emu.base_url + "/_emulator/capabilities", json=body, timeout=5), 400, message)


def test_static_tokens_share_one_subject_that_can_be_given_capabilities(emu: CdfEmulator) -> None:
    emu.set_capabilities("static-token", [grant("workflowOrchestrationAcl", "READ")])
    headers = {"Authorization": "Bearer static-anything"}
    url = f"{emu.base_url}/api/v1/projects/{PROJECT}/workflows"
    assert requests.get(url, headers=headers, timeout=5).status_code == 200
    assert requests.post(url, json={"items": [{"externalId": "x"}]}, headers=headers, timeout=5).status_code == 403


# ----- token inspect


def test_inspect_answers_the_configured_capabilities_subject_and_projects(emu: CdfEmulator, api: Api) -> None:
    given = [*INSPECT, grant("workflowOrchestrationAcl", "READ", in_data_set(123), projects=["p1", "p2"])]
    emu.set_capabilities("limited", given)
    body = inspect(Api(emu, client_id="limited")).json()
    assert body["subject"] == "limited"
    assert body["capabilities"] == given
    # Projects named by a project scope, and (for the allProjects ones) those the emulator has seen.
    assert [p["projectUrlName"] for p in body["projects"]] == sorted({"p1", "p2", PROJECT})


def test_inspect_of_a_client_limited_to_named_projects_shows_only_those(emu: CdfEmulator, api: Api) -> None:
    emu.set_capabilities("limited", [grant(acl, "LIST", projects=["p1"]) for acl in ("projectsAcl", "groupsAcl")])
    assert inspect(Api(emu, client_id="limited")).json()["projects"] == [{"projectUrlName": "p1", "groups": []}]


def test_inspect_of_a_client_given_nothing_shows_every_capability_the_emulator_checks(api: Api) -> None:
    body = inspect(api).json()
    acls = {acl: c[acl] for c in body["capabilities"] for acl in c if acl != "projectScope"}
    assert acls["workflowOrchestrationAcl"] == {"actions": ["READ", "WRITE"], "scope": {"all": {}}}
    assert acls["sessionsAcl"]["actions"] == ["CREATE", "DELETE", "LIST"]
    assert acls["projectsAcl"]["actions"] == acls["groupsAcl"]["actions"] == ["LIST"]
    assert all(c["projectScope"] == {"allProjects": {}} for c in body["capabilities"])


@pytest.mark.parametrize("missing", ["projectsAcl", "groupsAcl"])
def test_inspect_is_refused_without_projects_and_groups_list(emu: CdfEmulator, missing: str) -> None:
    emu.set_capabilities("limited", [g for g in INSPECT if missing not in g] + WRITE_123)
    assert_envelope(inspect(Api(emu, client_id="limited")), 403, Forbidden.MESSAGE)


def test_inspect_takes_list_in_any_project_and_any_scope(emu: CdfEmulator) -> None:
    emu.set_capabilities(
        "limited",
        [grant("projectsAcl", "LIST", projects=["elsewhere"]), grant("groupsAcl", "LIST", {"currentuserscope": {}})],
    )
    assert inspect(Api(emu, client_id="limited")).status_code == 200


# ----- sessions


def test_revoke_without_sessions_list_answers_only_ids(emu: CdfEmulator, api: Api) -> None:
    first, second = (api.post("/sessions", {"items": [{"tokenExchange": True}]}).json()["items"][0]["id"] for _ in "ab")
    emu.set_capabilities("limited", [grant("sessionsAcl", "DELETE")])
    limited = Api(emu, client_id="limited")
    assert limited.post("/sessions/revoke", {"items": [{"id": first}]}).json() == {"items": [{"id": first}]}
    emu.set_capabilities("limited", [grant("sessionsAcl", "DELETE"), grant("sessionsAcl", "LIST")])
    [revoked] = limited.post("/sessions/revoke", {"items": [{"id": second}]}).json()["items"]
    assert revoked["status"] == "REVOKED" and revoked["type"] == "TOKEN_EXCHANGE"


def test_a_session_for_another_client_s_credentials_needs_only_the_caller_s_create(emu: CdfEmulator) -> None:
    emu.set_capabilities("limited", [grant("sessionsAcl", "CREATE")])
    emu.set_capabilities("runner", [])  # the client whose credentials the session holds may do nothing
    item = {"clientId": "runner", "clientSecret": "s3cr3t"}
    reply = Api(emu, client_id="limited").post("/sessions", {"items": [item]})
    assert reply.status_code == 200 and reply.json()["items"][0]["clientId"] == "runner"


# ----- data sets


def test_writing_a_workflow_in_no_data_set_takes_scope_all(emu: CdfEmulator) -> None:
    emu.set_capabilities("limited", WRITE_123)
    limited = Api(emu, client_id="limited")
    assert limited.post("/workflows", {"items": [{"externalId": "new"}]}).status_code == 403
    assert limited.post("/workflows", {"items": [{"externalId": "new", "dataSetId": 123}]}).status_code == 200
    emu.set_capabilities("limited", [grant("workflowOrchestrationAcl", "WRITE")])
    assert limited.post("/workflows", {"items": [{"externalId": "new2"}]}).status_code == 200


def test_moving_a_workflow_between_data_sets_takes_both(emu: CdfEmulator, api: Api) -> None:
    api.post("/workflows", {"items": [{"externalId": "wf", "dataSetId": 7}]})
    emu.set_capabilities("limited", WRITE_123)
    limited = Api(emu, client_id="limited")
    assert limited.post("/workflows", {"items": [{"externalId": "wf", "dataSetId": 123}]}).status_code == 403
    assert api.get("/workflows/wf").json()["dataSetId"] == 7


def test_a_version_of_an_unknown_workflow_would_be_in_no_data_set(emu: CdfEmulator) -> None:
    emu.set_capabilities("limited", WRITE_123)
    item = {"workflowExternalId": "brand-new", "version": "1", "workflowDefinition": {"tasks": []}}
    assert Api(emu, client_id="limited").post("/workflows/versions", {"items": [item]}).status_code == 403


def test_an_unknown_workflow_is_not_found_with_any_scope_of_the_action(emu: CdfEmulator) -> None:
    emu.set_capabilities("limited", [grant("workflowOrchestrationAcl", "READ", in_data_set(123))])
    assert_envelope(Api(emu, client_id="limited").get("/workflows/nope"), 404)


def test_lists_show_each_client_the_data_sets_it_reads(emu: CdfEmulator, api: Api) -> None:
    for xid, data_set in (("in-123", 123), ("in-7", 7), ("in-none", None)):
        api.post("/workflows", {"items": [{"externalId": xid, "dataSetId": data_set}]})
    emu.set_capabilities("limited", [grant("workflowOrchestrationAcl", "READ", in_data_set(123))])
    listed = Api(emu, client_id="limited").get("/workflows").json()["items"]
    assert [w["externalId"] for w in listed] == ["in-123"]


# ----- the other ways to give them


@pytest.mark.cdf_emulator(capabilities={"limited": WRITE_123})
def test_the_fixture_takes_capabilities_from_its_marker(cdf_emulator: CdfEmulator) -> None:
    assert Api(cdf_emulator, client_id="limited").get("/workflows").status_code == 403
    assert Api(cdf_emulator).get("/workflows").status_code == 200


def test_the_cli_reads_capabilities_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "capabilities.json"
    path.write_text(json.dumps({"limited": WRITE_123}))
    command = [sys.executable, "-m", "pulumi_cdf_workflows.emulator", "--port", "0", "--capabilities", str(path)]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as server:
        try:
            assert server.stdout is not None
            base_url = server.stdout.readline().strip()
            form = {"grant_type": "client_credentials", "client_id": "limited", "client_secret": "x"}
            token = requests.post(base_url + "/oauth2/token", data=form, timeout=5).json()["access_token"]
            url = f"{base_url}/api/v1/projects/{PROJECT}/workflows"
            assert requests.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=5).status_code == 403
        finally:
            server.terminate()
            server.wait(10)


def test_the_cli_refuses_a_bad_capabilities_file(tmp_path: Path) -> None:
    path = tmp_path / "capabilities.json"
    path.write_text(json.dumps({"limited": {"not": "a list"}}))
    command = [sys.executable, "-m", "pulumi_cdf_workflows.emulator", "--capabilities", str(path)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=30)
    assert done.returncode == 2 and "capabilities must be a list" in done.stderr
