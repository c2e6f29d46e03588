"""Every endpoint requires what the table (permissions.RULES) says: a call, made once per line of the table, is
allowed with exactly the line's capabilities and refused (403, CDF's error body, nothing changed) without them, in
another project, with a data set other than its workflow's, and with READ where it takes WRITE."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests

from pulumi_cdf_workflows.emulator import CdfEmulator
from pulumi_cdf_workflows.emulator.exceptions import Forbidden
from pulumi_cdf_workflows.emulator.permissions import RULES, UNCHECKED, WORKFLOWS
from pulumi_cdf_workflows.emulator.urls import url_paths

from .conftest import PROJECT, Api, assert_envelope, grant, in_data_set

DATA_SET, OTHER_DATA_SET = 123, 999
LIMITED = "limited-client"


@dataclass
class World:
    """A project whose workflow "wf" (version "1") is in data set 123, with a running execution, its task, a
    trigger "t1" and a session; `admin` may do everything, `limited` what a test gives it."""

    emu: CdfEmulator
    admin: Api
    limited: Api
    execution_id: str
    task_id: str
    session_id: int
    nonce: str  # for the one call a test makes that binds one (made before the test looks at the state)


@pytest.fixture
def world() -> Iterator[World]:
    with CdfEmulator(task_duration=0.02) as emu:
        emu.upsert_workflow_version(PROJECT, "wf", "1")
        emu.set_outcome("wf", "1", "RUN_UNTIL_CANCELLED")
        admin, limited = Api(emu), Api(emu, client_id=LIMITED)
        assert admin.post("/workflows", {"items": [{"externalId": "wf", "dataSetId": DATA_SET}]}).status_code == 200
        execution_id = admin.run().json()["id"]
        task_id = admin.execution(execution_id)["executedTasks"][0]["id"]
        emu.upsert_trigger(PROJECT, "t1", "wf", "1", "0 * * * *")
        session_id = admin.post("/sessions", {"items": [{"tokenExchange": True}]}).json()["items"][0]["id"]
        yield World(emu, admin, limited, execution_id, task_id, session_id, admin.nonce())
        admin.http.close()
        limited.http.close()


def _trigger(w: World) -> dict[str, Any]:
    return {"externalId": "t1", "workflowExternalId": "wf", "workflowVersion": "1",
            "triggerRule": {"triggerType": "schedule", "cronExpression": "0 0 * * *"},
            "authentication": {"nonce": w.nonce}}  # fmt: skip


_TASKS = [{"externalId": "a", "type": "cdf", "parameters": {"cdfRequest": {"resourcePath": "/x", "method": "GET"}}}]

# One call per line of the table, made by the limited client.
CALLS: dict[str, Callable[[World], requests.Response]] = {
    "token_inspect": lambda w: w.limited.http.get(w.emu.base_url + "/api/v1/token/inspect", timeout=10),
    "create_session": lambda w: w.limited.post("/sessions", {"items": [{"tokenExchange": True}]}),
    "list_sessions": lambda w: w.limited.get("/sessions"),
    "retrieve_sessions": lambda w: w.limited.post("/sessions/byids", {"items": [{"id": w.session_id}]}),
    "revoke_sessions": lambda w: w.limited.post("/sessions/revoke", {"items": [{"id": w.session_id}]}),
    "upsert_workflow": lambda w: w.limited.post("/workflows", {"items": [{"externalId": "wf", "dataSetId": DATA_SET}]}),
    "get_workflow": lambda w: w.limited.get("/workflows/wf"),
    "list_workflows": lambda w: w.limited.get("/workflows"),
    "delete_workflows": lambda w: w.limited.post("/workflows/delete", {"items": [{"externalId": "wf"}]}),
    "upsert_versions": lambda w: w.limited.post("/workflows/versions", {"items": [
        {"workflowExternalId": "wf", "version": "2", "workflowDefinition": {"tasks": _TASKS}}]}),
    "get_version": lambda w: w.limited.get("/workflows/wf/versions/1"),
    "list_versions": lambda w: w.limited.post("/workflows/versions/list", {"filter": {"workflowFilters": []}}),
    "delete_versions": lambda w: w.limited.post(
        "/workflows/versions/delete", {"items": [{"workflowExternalId": "wf", "version": "1"}]}),
    "run": lambda w: w.limited.post("/workflows/wf/versions/1/run", {"authentication": {"nonce": w.nonce}}),
    "get_execution": lambda w: w.limited.get(f"/workflows/executions/{w.execution_id}"),
    "list_executions": lambda w: w.limited.post("/workflows/executions/list", {"filter": {}}),
    "cancel": lambda w: w.limited.post(f"/workflows/executions/{w.execution_id}/cancel", {}),
    "retry": lambda w: w.limited.post(
        f"/workflows/executions/{w.execution_id}/retry", {"authentication": {"nonce": w.nonce}}),
    "update_task": lambda w: w.limited.post(f"/workflows/tasks/{w.task_id}/update", {"status": "COMPLETED"}),
    "upsert_triggers": lambda w: w.limited.post("/workflows/triggers", {"items": [_trigger(w)]}),
    "list_triggers": lambda w: w.limited.get("/workflows/triggers"),
    "delete_triggers": lambda w: w.limited.post("/workflows/triggers/delete", {"items": [{"externalId": "t1"}]}),
    "trigger_history": lambda w: w.limited.get("/workflows/triggers/t1/history"),
    "pause_trigger": lambda w: w.limited.post("/workflows/triggers/t1/pause"),
    "resume_trigger": lambda w: w.limited.post("/workflows/triggers/t1/resume"),
}  # fmt: skip

SCOPED = sorted(h for h, rule in RULES.items() if rule.locate is not None)
LISTS = sorted(h for h, rule in RULES.items() if rule.locate is None and rule.needs[0][0] == WORKFLOWS)
WRITES = sorted(h for h, rule in RULES.items() if (WORKFLOWS, "WRITE") in rule.needs)
PROJECT_SCOPED = sorted(h for h, rule in RULES.items() if not rule.any_project)


def needs(handler: str, scope: dict[str, Any] | None = None, projects: list[str] | None = None) -> list[Any]:
    """Exactly what the table's line for `handler` requires."""
    return [grant(acl, action, scope, projects) for acl, action in RULES[handler].needs]


def snapshot(w: World) -> Any:
    """Everything a call could change, as the admin sees it."""
    return (
        w.admin.get("/workflows").json(),
        w.admin.post("/workflows/versions/list", {"filter": {"workflowFilters": []}}).json(),
        w.admin.get("/workflows/triggers").json(),
        w.emu.sessions(),
        [(e["id"], e["status"], [(t["id"], t["status"]) for t in e["executedTasks"]]) for e in w.emu.executions()],
    )


def assert_refused(w: World, handler: str) -> None:
    before = snapshot(w)
    assert_envelope(CALLS[handler](w), 403, Forbidden.MESSAGE)
    assert snapshot(w) == before


def test_every_endpoint_has_a_line_in_the_table_and_a_call_here() -> None:
    handlers = {handler for _, _, handler, _ in url_paths}
    assert set(RULES) == handlers - UNCHECKED
    assert set(CALLS) == set(RULES)
    for rule in RULES.values():
        assert rule.source and rule.needs


@pytest.mark.parametrize("handler", sorted(RULES))
def test_exactly_the_table_s_capabilities_allow_the_call(world: World, handler: str) -> None:
    world.emu.set_capabilities(LIMITED, needs(handler))
    response = CALLS[handler](world)
    assert response.status_code != 403, response.text


@pytest.mark.parametrize("handler", sorted(RULES))
def test_no_capabilities_refuse_the_call_and_change_nothing(world: World, handler: str) -> None:
    world.emu.set_capabilities(LIMITED, [])
    assert_refused(world, handler)


@pytest.mark.parametrize("handler", sorted(RULES))
def test_every_other_line_s_capabilities_do_not_allow_the_call(world: World, handler: str) -> None:
    mine = set(RULES[handler].needs)
    others = [g for h, rule in RULES.items() if mine.isdisjoint(rule.needs) for g in needs(h)]
    world.emu.set_capabilities(LIMITED, others)
    assert_refused(world, handler)


@pytest.mark.parametrize("handler", PROJECT_SCOPED)
def test_capabilities_in_another_project_refuse_the_call(world: World, handler: str) -> None:
    world.emu.set_capabilities(LIMITED, needs(handler, projects=["another-project"]))
    assert_refused(world, handler)


@pytest.mark.parametrize("handler", PROJECT_SCOPED)
def test_capabilities_naming_the_project_allow_the_call(world: World, handler: str) -> None:
    world.emu.set_capabilities(LIMITED, needs(handler, projects=["another-project", PROJECT]))
    assert CALLS[handler](world).status_code != 403


@pytest.mark.parametrize("handler", SCOPED)
def test_the_workflow_s_data_set_allows_the_call(world: World, handler: str) -> None:
    world.emu.set_capabilities(LIMITED, needs(handler, in_data_set(DATA_SET)))
    response = CALLS[handler](world)
    assert response.status_code != 403, response.text


@pytest.mark.parametrize("handler", SCOPED)
def test_another_data_set_refuses_the_call(world: World, handler: str) -> None:
    world.emu.set_capabilities(LIMITED, needs(handler, in_data_set(OTHER_DATA_SET)))
    assert_refused(world, handler)


@pytest.mark.parametrize("handler", LISTS)
def test_a_list_answers_only_what_the_data_set_scope_reads(world: World, handler: str) -> None:
    world.emu.set_capabilities(LIMITED, needs(handler, in_data_set(OTHER_DATA_SET)))
    response = CALLS[handler](world)
    assert response.status_code == 200 and response.json()["items"] == []
    world.emu.set_capabilities(LIMITED, needs(handler, in_data_set(DATA_SET)))
    assert CALLS[handler](world).json()["items"]


@pytest.mark.parametrize("handler", WRITES)
def test_read_without_write_refuses_the_call(world: World, handler: str) -> None:
    world.emu.set_capabilities(LIMITED, [grant(WORKFLOWS, "READ")])
    assert_refused(world, handler)


@pytest.mark.parametrize("scope", [{"currentuserscope": {}}, {"idScope": {"ids": [1]}}])
def test_an_action_scope_the_table_does_not_know_reaches_no_data_set(world: World, scope: dict[str, Any]) -> None:
    world.emu.set_capabilities(LIMITED, [grant(WORKFLOWS, "READ", scope)])
    assert_refused(world, "get_workflow")
    assert world.limited.get("/workflows").json()["items"] == []
