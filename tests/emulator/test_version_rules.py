"""Workflow versions over HTTP: the defaults CDF fills in each task type, one version per upsert, timestamps, and
the per-type parameter checks (unknown keys refused) written from CDF's public sources."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from pulumi_cdf_workflows.emulator import CdfEmulator

from .conftest import Api, assert_envelope

FN = {"function": {"externalId": "fn"}}
TR = {"transformation": {"externalId": "tr"}}
CDF = {"cdfRequest": {"resourcePath": "/assets/list", "method": "POST"}}
DYN = {"dynamic": {"tasks": "${plan.output.response.tasks}"}}
SIM = {"simulation": {"routineExternalId": "routine"}}
APP = {"functionApp": {"externalId": "app", "path": "/run"}}
SUB_REF = {"subworkflow": {"workflowExternalId": "other", "version": "1"}}


def task(xid: str, task_type: str, parameters: Any, **fields: Any) -> dict[str, Any]:
    return {"externalId": xid, "type": task_type, "parameters": copy.deepcopy(parameters), **fields}


def upsert(api: Api, tasks: list[dict[str, Any]], xid: str = "rules", version: str = "1") -> Any:
    item = {"workflowExternalId": xid, "version": version, "workflowDefinition": {"tasks": tasks}}
    return api.post("/workflows/versions", {"items": [item]})


def stored(api: Api, tasks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    response = upsert(api, tasks)
    assert response.status_code == 200, response.text
    returned: list[dict[str, Any]] = response.json()["items"][0]["workflowDefinition"]["tasks"]
    assert api.get("/workflows/rules/versions/1").json()["workflowDefinition"]["tasks"] == returned
    return returned


ALL_TYPES = [
    task("call", "function", FN),
    task("load", "transformation", TR),
    task("ping", "cdf", CDF),
    task("plan", "function", FN),
    task("fan-out", "dynamic", DYN, dependsOn=[{"externalId": "plan"}]),
    task("nested", "subworkflow", {"subworkflow": {"tasks": [task("inner", "transformation", TR)]}}),
    task("embedded", "subworkflow", SUB_REF),
    task("simulate", "simulation", SIM),
    task("app", "functionApp", APP),
]


# ----- defaults written back


def test_every_task_type_comes_back_with_the_task_defaults(api: Api) -> None:
    tasks = stored(api, ALL_TYPES)
    for t in tasks:
        assert (t["retries"], t["timeout"], t["onFailure"]) == (3, 3600, "abortWorkflow"), t
        assert isinstance(t["dependsOn"], list), t
    assert tasks[0]["dependsOn"] == [] and tasks[4]["dependsOn"] == [{"externalId": "plan"}]


def test_type_specific_defaults_are_filled(api: Api) -> None:
    by_id = {t["externalId"]: t["parameters"] for t in stored(api, ALL_TYPES)}
    assert by_id["call"] == {"function": {"externalId": "fn"}, "isAsyncComplete": False}
    assert by_id["load"] == {
        "transformation": {"externalId": "tr", "concurrencyPolicy": "fail", "useTransformationCredentials": False}
    }
    assert by_id["ping"]["cdfRequest"]["requestTimeoutInMillis"] == 10000
    assert by_id["fan-out"] == DYN and by_id["embedded"] == SUB_REF and by_id["simulate"] == SIM
    assert by_id["app"] == APP


def test_inline_subworkflow_tasks_get_the_defaults_too(api: Api) -> None:
    [nested] = [t for t in stored(api, ALL_TYPES) if t["externalId"] == "nested"]
    [inner] = nested["parameters"]["subworkflow"]["tasks"]
    defaults = (inner["retries"], inner["timeout"], inner["onFailure"], inner["dependsOn"])
    assert defaults == (3, 3600, "abortWorkflow", [])
    assert inner["parameters"]["transformation"]["concurrencyPolicy"] == "fail"


def test_values_given_are_kept(api: Api) -> None:
    load = task("load", "transformation", {"transformation": {"externalId": "tr", "concurrencyPolicy": "waitForCurrent",
                "useTransformationCredentials": True}}, retries=0, timeout=60, onFailure="skipTask", name="n",
                description="d", dependsOn=[])  # fmt: skip
    ping = task("ping", "cdf", {"cdfRequest": {**CDF["cdfRequest"], "requestTimeoutInMillis": 500}})
    tasks = stored(api, [load, ping])
    assert tasks[0] == load
    assert tasks[1]["parameters"]["cdfRequest"]["requestTimeoutInMillis"] == 500


def test_tasks_keep_the_order_given(api: Api) -> None:
    names = ["z", "a", "m"]
    assert [t["externalId"] for t in stored(api, [task(n, "function", FN) for n in names])] == names


def test_the_hash_does_not_change_when_defaults_are_spelled_out(api: Api) -> None:
    bare = upsert(api, [task("load", "transformation", TR)]).json()["items"][0]["workflowDefinition"]["hash"]
    spelled = task("load", "transformation", {"transformation": {**TR["transformation"], "concurrencyPolicy": "fail",
                   "useTransformationCredentials": False}}, retries=3, timeout=3600, onFailure="abortWorkflow",
                   dependsOn=[])  # fmt: skip
    assert upsert(api, [spelled]).json()["items"][0]["workflowDefinition"]["hash"] == bare


# ----- one version per request, timestamps


@pytest.mark.parametrize("count", [0, 2])
def test_an_upsert_takes_exactly_one_version(api: Api, count: int) -> None:
    item = {"workflowExternalId": "rules", "version": "1", "workflowDefinition": {"tasks": []}}
    items = [{**item, "version": str(i)} for i in range(count)]
    assert_envelope(api.post("/workflows/versions", {"items": items}), 400, "exactly 1")
    assert api.get("/workflows/rules/versions/0").status_code == 404


def test_an_upsert_keeps_created_time_and_raises_last_updated_time_even_without_changes(
    emu: CdfEmulator, api: Api
) -> None:
    emu.set_time(1_900_000_000_000)
    first = upsert(api, [task("call", "function", FN)]).json()["items"][0]
    assert first["createdTime"] == first["lastUpdatedTime"] >= 1_900_000_000_000
    emu.advance_time(30)
    again = upsert(api, [task("call", "function", FN)]).json()["items"][0]
    assert again["createdTime"] == first["createdTime"]
    assert again["lastUpdatedTime"] >= first["lastUpdatedTime"] + 30_000
    quick = upsert(api, [task("call", "function", FN)]).json()["items"][0]
    assert quick["lastUpdatedTime"] > again["lastUpdatedTime"]


def test_a_workflow_upsert_keeps_created_time_and_raises_last_updated_time(api: Api) -> None:
    first = api.post("/workflows", {"items": [{"externalId": "w"}]}).json()["items"][0]
    second = api.post("/workflows", {"items": [{"externalId": "w"}]}).json()["items"][0]
    assert second["createdTime"] == first["createdTime"] and second["lastUpdatedTime"] > first["lastUpdatedTime"]


# ----- parameter checks


REFUSED = [
    (task("t", "function", {**FN, "isAsyncCompleted": True}), "unknown field parameters.isAsyncCompleted"),
    (task("t", "function", TR), "unknown field parameters.transformation"),
    (task("t", "function", {"function": {"externalId": "fn", "input": {}}}), "parameters.function.input"),
    (task("t", "function", {"function": {}}), "parameters.function.externalId is required"),
    (task("t", "function", {**FN, "isAsyncComplete": "yes"}), "isAsyncComplete must be true or false"),
    (task("t", "function", {"function": {"externalId": "f", "data": {"x": "a" * 102400}}}), "function.data"),
    (task("t", "transformation", {"transformation": {"externalId": "tr", "policy": "fail"}}), "transformation.policy"),
    (task("t", "transformation", {"transformation": {"externalId": "tr", "concurrencyPolicy": "queue"}}), "queue"),
    (task("t", "transformation", FN), "unknown field parameters.function"),
    (task("t", "cdf", {"cdfRequest": {"resourcePath": "/a", "method": "PATCH"}}), "cdfRequest.method"),
    (task("t", "cdf", {"cdfRequest": {"method": "GET"}}), "cdfRequest.resourcePath is required"),
    (task("t", "cdf", {"cdfRequest": {**CDF["cdfRequest"], "timeout": 5}}), "cdfRequest.timeout"),
    (task("t", "cdf", {"cdfRequest": {**CDF["cdfRequest"], "requestTimeoutInMillis": 99}}), "requestTimeoutInMillis"),
    (task("t", "cdf", {"cdfRequest": {**CDF["cdfRequest"], "cdfVersionHeader": "gamma"}}), "cdfVersionHeader"),
    (task("t", "cdf", {**CDF, "body": {}}), "unknown field parameters.body"),
    (task("t", "dynamic", {"dynamic": {"tasks": [task("x", "function", FN)]}}), "dynamic.tasks must be a ${...}"),
    (task("t", "dynamic", {"dynamic": {"tasks": "${a.output}", "x": 1}}), "parameters.dynamic.x"),
    (task("t", "subworkflow", {"subworkflow": {"tasks": [], "version": "1"}}), "parameters.subworkflow.version"),
    (task("t", "subworkflow", {"subworkflow": {"tasks": []}}), "at least one task"),
    (task("t", "subworkflow", {"subworkflow": {}}), "either tasks, or workflowExternalId and version"),
    (task("t", "subworkflow", {"subworkflow": {"workflowExternalId": "w"}}), "subworkflow.version"),
    (task("t", "subworkflow", {"subworkflow": {"tasks": [task("i", "subworkflow", SUB_REF)]}}), "cannot contain"),
    (task("t", "subworkflow", {"subworkflow": {"tasks": [task("i", "dynamic", DYN)]}}), "cannot contain dynamic"),
    (task("t", "subworkflow", {"subworkflow": {"tasks": [task("i", "function", {**FN, "isAsync": True})]}}),
     "Task 'i' (in subworkflow 't'): unknown field parameters.isAsync"),
    (task("t", "subworkflow", {"subworkflow": {"tasks": [task("i", "function", FN, timeout=59)]}}), "timeout"),
    (task("t", "simulation", {"simulation": {"routineExternalId": "r", "runtime": 1}}), "simulation.runtime"),
    (task("t", "simulation", {"simulation": {"routineExternalId": "r", "inputs": [{"referenceId": "x"}] * 201}}),
     "at most 200 inputs"),
    (task("t", "simulation", {"simulation": {"routineExternalId": "r", "inputs": [{"referenceId": "x"}]}}),
     "inputs[0].value is required"),
    (task("t", "functionApp", {"functionApp": {"externalId": "a", "path": "/" * 256}}), "functionApp.path"),
    (task("t", "functionApp", {"functionApp": {**APP["functionApp"], "parameters": {f"k{i}": "v" for i in range(11)}}}),
     "functionApp.parameters"),
    (task("t", "functionApp", {"functionApp": {**APP["functionApp"], "headers": {}}}), "functionApp.headers"),
    (task("t", "lambda", FN), "type must be one of"),
    (task("t", "cdfRequest", CDF), "type must be one of"),
    ({"externalId": "t", "type": "function"}, "parameters is required"),
    (task("t", "function", FN, timeout=59), "timeout must be an integer between 60 and 86400"),
    (task("t", "function", FN, timeout=86401), "timeout"),
    (task("t", "function", FN, retries=11), "retries must be an integer between 0 and 10"),
    (task("t", "function", FN, onFailure="ignore"), "onFailure"),
    (task("t", "function", FN, name="n" * 256), "name must be a string of at most 255"),
    (task("t", "function", FN, description="d" * 501), "description must be a string of at most 500"),
    (task("t", "function", FN, dependsOn=[{"externalId": f"d{i}"} for i in range(101)]), "at most 100 tasks"),
]  # fmt: skip


@pytest.mark.parametrize(("bad", "message"), REFUSED, ids=[m for _, m in REFUSED])
def test_invalid_task_parameters_are_400_with_cdfs_error_body(api: Api, bad: dict[str, Any], message: str) -> None:
    error = assert_envelope(upsert(api, [bad]), 400, message)
    assert set(error) == {"code", "message"}
    assert upsert(api, [bad]).json() == {"error": {"code": 400, "message": error["message"]}}
    assert api.get("/workflows/rules/versions/1").status_code == 404  # nothing stored


ACCEPTED = [
    task("t", "function", {"function": {"externalId": "${plan.output.fn}", "data": "${workflow.input}"}}),
    task("t", "function", {"function": {"externalId": "fn", "data": {"a": [1, 2]}}, "isAsyncComplete": True}),
    task("t", "cdf", {"cdfRequest": {"resourcePath": "/x", "method": "${workflow.input.method}",
         "queryParameters": {"limit": 5}, "body": {"items": []}, "requestTimeoutInMillis": "${workflow.input.ms}",
         "cdfVersionHeader": "beta"}}),
    task("t", "cdf", {"cdfRequest": {"resourcePath": "/x", "method": "DELETE", "queryParameters": "${a.output}"}}),
    task("t", "simulation", {"simulation": {"routineExternalId": "r", "runTime": 1700000000000, "inputs": [
         {"referenceId": "CWT", "value": 11, "unit": {"name": "F"}}, {"referenceId": "L", "value": [1.5, 2]}]}}),
    task("t", "functionApp", {"functionApp": {"externalId": "a", "path": "/p", "method": "PATCH",
         "parameters": {"q": "1"}, "body": {"x": 1}}}),
    task("t", "function", FN, timeout=60),
    task("t", "function", FN, timeout=86400),
    task("t", "function", FN, retries=None, timeout=None, onFailure=None, dependsOn=None),
]  # fmt: skip


@pytest.mark.parametrize("good", ACCEPTED)
def test_valid_parameters_of_every_form_are_accepted(api: Api, good: dict[str, Any]) -> None:
    response = upsert(api, [good])
    assert response.status_code == 200, response.text


def test_a_version_holds_at_most_200_tasks(api: Api) -> None:
    tasks = [task(f"t{i}", "function", FN) for i in range(201)]
    assert_envelope(upsert(api, tasks), 400, "at most 200 tasks")
    assert upsert(api, tasks[:200]).status_code == 200
