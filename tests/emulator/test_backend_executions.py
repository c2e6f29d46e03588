"""The emulator's execution state machine, driven through CdfBackend without sockets: runs, async tasks, lifecycle."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from pulumi_cdf_workflows.emulator.exceptions import BadRequest, Conflict, NotFound
from pulumi_cdf_workflows.emulator.models import CdfBackend, Execution, resolve_references

from .conftest import CHAIN, FakeClock, P, nonce, run, wait_for, wait_until


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
