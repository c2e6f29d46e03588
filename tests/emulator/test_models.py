"""The emulator's state machine, driven without sockets through CdfBackend."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from pulumi_cdf_workflows.emulator.exceptions import BadRequest, Conflict, NotFound, OAuthError, Unauthorized
from pulumi_cdf_workflows.emulator.models import CdfBackend, Execution, resolve_references

from .conftest import wait_until

P = "proj"
CHAIN: list[dict[str, Any]] = [
    {"externalId": "extract", "type": "function",
     "parameters": {"function": {"externalId": "fn", "data": "${workflow.input}"}}},
    {"externalId": "load", "type": "transformation", "parameters": {"transformation": {"externalId": "tr"}},
     "dependsOn": [{"externalId": "extract"}]},
    {"externalId": "notify", "type": "cdf",
     "parameters": {"cdfRequest": {"resourcePath": "/x", "method": "POST", "body": {"job": "${load.output.jobId}"}}},
     "dependsOn": [{"externalId": "load"}]},
]  # fmt: skip


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def backend(clock: FakeClock) -> Iterator[CdfBackend]:
    b = CdfBackend(task_duration=0.01, nonce_ttl=60, token_ttl=100, clock=clock)
    b.seed(P, "wf", "1", CHAIN)
    yield b
    b.shutdown()


def nonce(backend: CdfBackend, project: str = P) -> str:
    return backend.create_session(project, [{"tokenExchange": True}]).nonce


def run(backend: CdfBackend, xid: str = "wf", version: str = "1", **body: Any) -> Execution:
    return backend.run(P, xid, version, {"authentication": {"nonce": nonce(backend)}, **body})


def wait_for(backend: CdfBackend, execution: Execution, *statuses: str) -> dict[str, Any]:
    def probe() -> dict[str, Any] | None:
        with backend.lock:
            data = backend.get_execution(P, execution.id).to_detailed_json()
        return data if data["status"] in statuses else None

    return wait_until(probe, 5, f"status in {statuses}")


def task_statuses(data: dict[str, Any]) -> dict[str, str]:
    return {t["externalId"]: t["status"] for t in data["executedTasks"]}


# ----- running


def test_tasks_run_in_depends_on_order_and_complete(backend: CdfBackend) -> None:
    execution = run(backend, input={"day": "monday"}, metadata={"by": "test"})
    assert execution.status == "RUNNING"
    data = wait_for(backend, execution, "COMPLETED")
    assert [t["externalId"] for t in data["executedTasks"]] == ["extract", "load", "notify"]
    starts = [t["startTime"] for t in data["executedTasks"]]
    assert starts == sorted(starts)
    assert all(t["status"] == "COMPLETED" and t["endTime"] >= t["startTime"] for t in data["executedTasks"])
    assert data["endTime"] >= data["startTime"]
    assert data["metadata"] == {"by": "test"}
    assert data["input"] == {"day": "monday"}
    assert data["workflowDefinition"]["hash"]


def test_executed_tasks_show_resolved_input_and_typed_output(backend: CdfBackend) -> None:
    data = wait_for(backend, run(backend, input={"day": "monday"}), "COMPLETED")
    extract, load, notify = data["executedTasks"]
    assert extract["input"] == {
        "function": {"externalId": "fn", "data": {"day": "monday"}},
        "asyncComplete": False,
    }
    assert set(extract["output"]) == {"callId", "functionId", "response"}
    assert set(load["output"]) == {"jobId"}
    assert notify["input"]["cdfRequest"]["body"] == {"job": load["output"]["jobId"]}
    assert notify["output"]["statusCode"] == 200


def test_references_inside_strings_are_substituted_and_unknown_ones_kept() -> None:
    context = {"workflow": {"input": {"a": {"b": 3}}}}
    assert resolve_references("n=${workflow.input.a.b}", context) == "n=3"
    assert resolve_references("${nope.output}", context) == "${nope.output}"
    assert resolve_references(["${workflow.input.a}"], context) == [{"b": 3}]


def test_version_with_no_tasks_completes(backend: CdfBackend) -> None:
    backend.seed(P, "empty", "1", [])
    assert wait_for(backend, run(backend, "empty"), "COMPLETED")["executedTasks"] == []


def test_outcome_failed_fails_the_chosen_task_and_stops(backend: CdfBackend) -> None:
    backend.set_outcome("wf", "1", "FAILED", reason="boom", failed_task="load")
    data = wait_for(backend, run(backend), "FAILED")
    assert data["reasonForIncompletion"] == "boom"
    assert task_statuses(data) == {"extract": "COMPLETED", "load": "FAILED"}
    assert data["executedTasks"][1]["reasonForIncompletion"] == "boom"


def test_outcome_failed_defaults_to_the_last_task(backend: CdfBackend) -> None:
    backend.set_outcome("wf", "1", "FAILED")
    data = wait_for(backend, run(backend), "FAILED")
    assert task_statuses(data)["notify"] == "FAILED"
    assert data["reasonForIncompletion"]


def test_failing_a_skip_task_does_not_fail_the_workflow(backend: CdfBackend) -> None:
    tasks = [{**CHAIN[0], "onFailure": "skipTask"}, *CHAIN[1:]]
    backend.seed(P, "skippy", "1", tasks)
    backend.set_outcome("skippy", "1", "FAILED", failed_task="extract")
    data = wait_for(backend, run(backend, "skippy"), "COMPLETED", "FAILED")
    assert data["status"] == "COMPLETED"
    assert task_statuses(data)["extract"] == "COMPLETED_WITH_ERRORS"


def test_outcome_timed_out(backend: CdfBackend) -> None:
    backend.set_outcome("wf", "1", "TIMED_OUT")
    data = wait_for(backend, run(backend), "TIMED_OUT")
    assert task_statuses(data)["notify"] == "TIMED_OUT"
    assert data["endTime"] is not None


def test_run_until_cancelled_then_cancel_terminates(backend: CdfBackend) -> None:
    backend.set_outcome("wf", "1", "RUN_UNTIL_CANCELLED")
    execution = run(backend)
    wait_until(lambda: execution.tasks, what="first task to start")
    assert backend.get_execution(P, execution.id).status == "RUNNING"
    result = backend.cancel(P, execution.id, {"reason": "operator"})
    assert result.status == "TERMINATED"
    assert result.reason == "operator"
    data = result.to_detailed_json()
    assert task_statuses(data) == {"extract": "CANCELED"}
    assert "endTime" in data


def test_cancel_default_reason_is_cancelled(backend: CdfBackend) -> None:
    backend.set_outcome("wf", "1", "RUN_UNTIL_CANCELLED")
    assert backend.cancel(P, run(backend).id, None).reason == "cancelled"


def test_cancelling_a_finished_execution_is_a_conflict(backend: CdfBackend) -> None:
    execution = run(backend)
    wait_for(backend, execution, "COMPLETED")
    with pytest.raises(Conflict, match="already finished with status COMPLETED"):
        backend.cancel(P, execution.id, {})


def test_retry_reruns_only_failed_tasks_and_reads_the_current_outcome(backend: CdfBackend) -> None:
    backend.set_outcome("wf", "1", "FAILED", failed_task="load")
    execution = run(backend)
    failed = wait_for(backend, execution, "FAILED")
    backend.set_outcome("wf", "1", "COMPLETED")
    retried = backend.retry(P, execution.id, {"authentication": {"nonce": nonce(backend)}})
    assert retried.status == "RUNNING"
    assert retried.reason is None
    done = wait_for(backend, execution, "COMPLETED")
    assert done["executedTasks"][0]["id"] == failed["executedTasks"][0]["id"]  # extract was kept
    assert done["executedTasks"][1]["id"] != failed["executedTasks"][1]["id"]  # load ran again
    assert task_statuses(done) == {"extract": "COMPLETED", "load": "COMPLETED", "notify": "COMPLETED"}


def test_retry_of_terminated_execution_runs_cancelled_task_again(backend: CdfBackend) -> None:
    backend.set_outcome("wf", "1", "RUN_UNTIL_CANCELLED")
    execution = run(backend)
    backend.cancel(P, execution.id, {})
    backend.set_outcome("wf", "1", "COMPLETED")
    backend.retry(P, execution.id, {"authentication": {"nonce": nonce(backend)}})
    assert task_statuses(wait_for(backend, execution, "COMPLETED"))["extract"] == "COMPLETED"


def test_retry_is_refused_while_running_or_completed(backend: CdfBackend) -> None:
    backend.set_outcome("wf", "1", "RUN_UNTIL_CANCELLED")
    running = run(backend)
    with pytest.raises(Conflict, match="only FAILED, TIMED_OUT or TERMINATED"):
        backend.retry(P, running.id, {"authentication": {"nonce": nonce(backend)}})


def test_retry_needs_a_fresh_nonce(backend: CdfBackend) -> None:
    backend.set_outcome("wf", "1", "RUN_UNTIL_CANCELLED")
    used = nonce(backend)
    execution = backend.run(P, "wf", "1", {"authentication": {"nonce": used}})
    backend.cancel(P, execution.id, {})
    with pytest.raises(BadRequest, match="nonce is required"):
        backend.retry(P, execution.id, {})
    with pytest.raises(BadRequest, match="already been used"):
        backend.retry(P, execution.id, {"authentication": {"nonce": used}})


# ----- async tasks

ASYNC: list[dict[str, Any]] = [{"externalId": "wait", "type": "function",
          "parameters": {"function": {"externalId": "fn"}, "isAsyncComplete": True}}]  # fmt: skip


def _in_progress_task_id(backend: CdfBackend, execution: Execution) -> str:
    def probe() -> str | None:
        with backend.lock:
            data = backend.get_execution(P, execution.id).to_detailed_json()
        tasks = [t for t in data["executedTasks"] if t["status"] == "IN_PROGRESS"]
        return tasks[0]["id"] if tasks else None

    return wait_until(probe, what="async task to start")


def test_async_function_task_waits_for_update_completed(backend: CdfBackend) -> None:
    backend.seed(P, "async", "1", ASYNC)
    execution = run(backend, "async")
    task_id = _in_progress_task_id(backend, execution)
    assert backend.get_execution(P, execution.id).to_detailed_json()["executedTasks"][0]["input"]["asyncComplete"]
    updated = backend.update_task(P, task_id, {"status": "COMPLETED", "output": {"rows": 3}})
    assert updated.status == "COMPLETED"
    assert updated.output["response"] == {"rows": 3}
    assert wait_for(backend, execution, "COMPLETED", "FAILED")["status"] == "COMPLETED"


@pytest.mark.parametrize("status", ["FAILED", "FAILED_WITH_TERMINAL_ERROR"])
def test_async_function_task_failed_by_update_fails_execution(backend: CdfBackend, status: str) -> None:
    backend.seed(P, "async", "1", ASYNC)
    execution = run(backend, "async")
    backend.update_task(P, _in_progress_task_id(backend, execution), {"status": status})
    data = wait_for(backend, execution, "FAILED", "COMPLETED")
    assert data["status"] == "FAILED"
    assert data["executedTasks"][0]["status"] == status


def test_task_update_rules(backend: CdfBackend) -> None:
    backend.seed(P, "async", "1", ASYNC)
    execution = run(backend, "async")
    task_id = _in_progress_task_id(backend, execution)
    with pytest.raises(BadRequest, match="status must be one of"):
        backend.update_task(P, task_id, {"status": "IN_PROGRESS"})
    with pytest.raises(NotFound):
        backend.update_task(P, "00000000-0000-4000-8000-000000000000", {"status": "COMPLETED"})
    backend.update_task(P, task_id, {"status": "COMPLETED"})
    with pytest.raises(Conflict, match="not in progress"):
        backend.update_task(P, task_id, {"status": "COMPLETED"})
    plain = wait_for(backend, run(backend), "COMPLETED")
    with pytest.raises(BadRequest, match="isAsyncComplete"):
        backend.update_task(P, plain["executedTasks"][0]["id"], {"status": "COMPLETED"})


# ----- sessions and nonces


def test_nonce_binds_once_and_activates_the_session(backend: CdfBackend) -> None:
    session = backend.create_session(P, [{"clientId": "c", "clientSecret": "s"}])
    assert session.type == "CLIENT_CREDENTIALS"
    assert session.status == "READY"
    execution = backend.run(P, "wf", "1", {"authentication": {"nonce": session.nonce}})
    assert session.status == "ACTIVE"
    assert backend.sessions(P)[0]["boundExecutionId"] == execution.id
    with pytest.raises(BadRequest, match="already been used"):
        backend.run(P, "wf", "1", {"authentication": {"nonce": session.nonce}})
    assert len(backend.executions()) == 1


def test_nonce_expires_after_nonce_ttl(backend: CdfBackend, clock: FakeClock) -> None:
    expiring = nonce(backend)
    clock.now += 60
    with pytest.raises(BadRequest, match="expired"):
        backend.run(P, "wf", "1", {"authentication": {"nonce": expiring}})


def test_nonce_from_another_project_is_invalid(backend: CdfBackend) -> None:
    with pytest.raises(BadRequest, match="Invalid nonce"):
        backend.run(P, "wf", "1", {"authentication": {"nonce": nonce(backend, "other")}})


def test_sessions_view_never_shows_the_nonce(backend: CdfBackend) -> None:
    created = backend.create_session(P, [{"oneshotTokenExchange": True}])
    [view] = backend.sessions()
    assert view["type"] == "ONESHOT_TOKEN_EXCHANGE"
    assert created.nonce not in str(view)


@pytest.mark.parametrize(
    "items",
    [
        [],
        [{"tokenExchange": True}, {"tokenExchange": True}],
        [{}],
        [{"clientId": "c"}],
        [{"tokenExchange": False}],
    ],
)
def test_session_create_needs_exactly_one_valid_item(backend: CdfBackend, items: list[dict[str, Any]]) -> None:
    with pytest.raises(BadRequest):
        backend.create_session(P, items)


def test_configured_clients_restrict_sessions_and_tokens() -> None:
    b = CdfBackend(clients={"id": "secret"})
    b.create_session(P, [{"clientId": "id", "clientSecret": "secret"}])
    with pytest.raises(BadRequest, match="invalid client credentials"):
        b.create_session(P, [{"clientId": "id", "clientSecret": "wrong"}])
    with pytest.raises(OAuthError) as caught:
        b.issue_token("client_credentials", "other", "secret")
    assert caught.value.status == 401
    assert b.issue_token("client_credentials", "id", "secret")["token_type"] == "Bearer"


# ----- tokens


def test_tokens_expire_after_ttl_and_on_demand(backend: CdfBackend, clock: FakeClock) -> None:
    token = backend.issue_token("client_credentials", "me", "pw")["access_token"]
    assert backend.authenticate(f"Bearer {token}") == "me"
    clock.now += 100
    with pytest.raises(Unauthorized, match="expired"):
        backend.authenticate(f"Bearer {token}")
    fresh = backend.issue_token("client_credentials", "me", "pw")["access_token"]
    backend.expire_tokens()
    with pytest.raises(Unauthorized):
        backend.authenticate(f"Bearer {fresh}")
    assert backend.authenticate("Bearer static-anything") == "static-token"


@pytest.mark.parametrize("header", [None, "", "Basic abc", "Bearer nope"])
def test_bad_authorization_is_unauthorized(backend: CdfBackend, header: str | None) -> None:
    with pytest.raises(Unauthorized):
        backend.authenticate(header)


# ----- validation


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "authentication.nonce is required"),
        ({"authentication": {}}, "authentication.nonce is required"),
        ({"input": [1]}, "input must be a JSON object"),
        ({"input": {"x": "é" * 51200}}, "at most 102400 bytes"),
        ({"metadata": {f"k{i}": "v" for i in range(11)}}, "at most 10"),
        ({"metadata": {"k" * 33: "v"}}, "longer than 32"),
        ({"metadata": {"k": "v" * 256}}, "longer than 255"),
        ({"metadata": {"k": 1}}, "must be a string"),
    ],
)
def test_run_limits(backend: CdfBackend, body: dict[str, Any], message: str) -> None:
    if "authentication" not in body and message != "authentication.nonce is required":
        body = {"authentication": {"nonce": nonce(backend)}, **body}
    with pytest.raises(BadRequest, match=message):
        backend.run(P, "wf", "1", body)
    assert backend.executions() == []


def test_input_at_the_size_limit_is_accepted(backend: CdfBackend) -> None:
    overhead = len('{"x":""}')
    execution = run(backend, input={"x": "a" * (102400 - overhead)})
    assert execution.status == "RUNNING"


@pytest.mark.parametrize("xid", [" wf", "wf ", "a" * 256, "", "w\0f"])
def test_identifiers_are_validated(backend: CdfBackend, xid: str) -> None:
    with pytest.raises(BadRequest):
        backend.run(P, xid, "1", {"authentication": {"nonce": nonce(backend)}})


def test_unknown_version_is_not_found(backend: CdfBackend) -> None:
    with pytest.raises(NotFound, match="not found"):
        run(backend, "wf", "2")


@pytest.mark.parametrize(
    ("tasks", "message"),
    [
        ([{"externalId": "a", "type": "cdf", "dependsOn": [{"externalId": "b"}]}], "unknown task"),
        (
            [
                {"externalId": "a", "type": "cdf", "dependsOn": [{"externalId": "b"}]},
                {"externalId": "b", "type": "cdf", "dependsOn": [{"externalId": "a"}]},
            ],
            "cycle",
        ),
        ([{"externalId": "a", "type": "cdf"}, {"externalId": "a", "type": "cdf"}], "Duplicate"),
        ([{"externalId": "a", "type": "nope"}], "type must be one of"),
        ([{"externalId": "a", "type": "cdf", "retries": 11}], "retries"),
    ],
)
def test_invalid_definitions_are_rejected(backend: CdfBackend, tasks: list[dict[str, Any]], message: str) -> None:
    with pytest.raises(BadRequest, match=message):
        backend.seed(P, "bad", "1", tasks)


# ----- listing


def test_list_is_newest_first_with_filters_and_stable_cursor(backend: CdfBackend) -> None:
    backend.seed(P, "wf", "2")
    first, second, third = run(backend), run(backend, "wf", "2"), run(backend)
    page, cursor = backend.list_executions(P, {"limit": 2})
    assert [e["id"] for e in page] == [third.id, second.id]
    run(backend)  # a new execution must not shift the next page
    page2, cursor2 = backend.list_executions(P, {"limit": 2, "cursor": cursor})
    assert [e["id"] for e in page2] == [first.id]
    assert cursor2 is None
    only_v2, _ = backend.list_executions(P, {"filter": {"workflowFilters": [{"externalId": "wf", "version": "2"}]}})
    assert [e["id"] for e in only_v2] == [second.id]
    all_wf, _ = backend.list_executions(P, {"filter": {"workflowFilters": [{"externalId": "wf"}]}})
    assert len(all_wf) == 4
    assert backend.list_executions("other-project", {})[0] == []


def test_list_created_time_bounds_are_inclusive_and_status_filters(backend: CdfBackend) -> None:
    execution = run(backend)
    t = execution.created_time
    assert backend.list_executions(P, {"filter": {"createdTimeStart": t, "createdTimeEnd": t}})[0]
    assert not backend.list_executions(P, {"filter": {"createdTimeStart": t + 1}})[0]
    assert not backend.list_executions(P, {"filter": {"createdTimeEnd": t - 1}})[0]
    wait_for(backend, execution, "COMPLETED")
    assert backend.list_executions(P, {"filter": {"status": ["COMPLETED"]}})[0]
    assert not backend.list_executions(P, {"filter": {"status": ["RUNNING", "FAILED"]}})[0]


@pytest.mark.parametrize("body", [{"limit": 0}, {"limit": 1001}, {"cursor": "garbage"}, {"filter": {"status": ["x"]}}])
def test_list_rejects_bad_parameters(backend: CdfBackend, body: dict[str, Any]) -> None:
    with pytest.raises(BadRequest):
        backend.list_executions(P, body)


def test_execution_ids_must_be_uuids(backend: CdfBackend) -> None:
    with pytest.raises(BadRequest, match="must be a UUID"):
        backend.get_execution(P, "not-a-uuid")
    with pytest.raises(NotFound):
        backend.get_execution(P, "00000000-0000-4000-8000-000000000000")


# ----- lifecycle


def test_shutdown_ends_runner_threads_promptly(clock: FakeClock) -> None:
    b = CdfBackend(task_duration=30)
    b.seed(P, "wf", "1")
    b.run(P, "wf", "1", {"authentication": {"nonce": b.create_session(P, [{"tokenExchange": True}]).nonce}})
    runners = [t for t in threading.enumerate() if t.name.startswith("cdf-emulator-execution")]
    assert runners and all(t.daemon for t in runners)
    b.shutdown(timeout=2)
    assert not any(t.is_alive() for t in runners)


def test_reset_forgets_state_and_stops_runners(backend: CdfBackend) -> None:
    backend.set_outcome("wf", "1", "RUN_UNTIL_CANCELLED")
    execution = run(backend)
    backend.reset()
    assert backend.executions() == [] and backend.sessions() == []
    with pytest.raises(NotFound):
        backend.get_execution(P, execution.id)
    with pytest.raises(NotFound):
        backend.get_version(P, "wf", "1")
    name = f"cdf-emulator-execution-{execution.id[:8]}"
    wait_until(lambda: not any(t.name == name for t in threading.enumerate()), what="runner to stop")
