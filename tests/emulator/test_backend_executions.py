"""The execution state machine, driven through CdfBackend without sockets or threads: tasks end only when the
test moves the clock, so every step is deterministic. Runs, outcomes, cancel, retry, async tasks, listing."""

from __future__ import annotations

from typing import Any

import pytest

from pulumi_cdf_workflows.emulator.backend import CdfBackend
from pulumi_cdf_workflows.emulator.exceptions import BadRequest, Conflict, NotFound
from pulumi_cdf_workflows.emulator.models import Execution
from pulumi_cdf_workflows.emulator.queries import ExecutionFilter, WorkflowFilter
from pulumi_cdf_workflows.emulator.references import resolve_references

from .conftest import CHAIN, P, after, nonce, run, seed

MINUTE = 60_000


def task_statuses(data: dict[str, Any]) -> dict[str, str]:
    return {t["externalId"]: t["status"] for t in data["executedTasks"]}


def in_progress(execution: Execution) -> list[str]:
    return [t.external_id for t in execution.tasks if t.status == "IN_PROGRESS"]


# ----- running


def test_a_run_starts_its_first_task_at_once_and_each_task_ends_when_its_time_is_up(backend: CdfBackend) -> None:
    backend.runner.set_outcome("wf", "1", task_duration=60)
    execution = run(backend, input={"day": "monday"}, metadata={"by": "test"})
    t0 = execution.tasks[0].start_time
    assert execution.status == "RUNNING" and in_progress(execution) == ["extract"]
    assert in_progress(backend.executions.get(P, execution.id)) == ["extract"]
    backend.scheduler.advance(59)
    assert in_progress(execution) == ["extract"]  # a second short
    backend.scheduler.advance(1)
    assert in_progress(execution) == ["load"]
    data = after(backend, 120, execution)
    assert data["status"] == "COMPLETED"
    assert [(t["externalId"], t["startTime"] - t0, t["endTime"] - t0) for t in data["executedTasks"]] == [
        ("extract", 0, MINUTE),
        ("load", MINUTE, 2 * MINUTE),
        ("notify", 2 * MINUTE, 3 * MINUTE),
    ]
    assert data["createdTime"] <= data["startTime"] <= t0 and data["endTime"] == t0 + 3 * MINUTE
    assert data["metadata"] == {"by": "test"} and data["input"] == {"day": "monday"}
    assert data["workflowDefinition"]["hash"]


def test_executed_tasks_show_resolved_input_and_typed_output(backend: CdfBackend) -> None:
    data = after(backend, 1, run(backend, input={"day": "monday"}))
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


def test_a_version_with_no_tasks_completes_at_the_next_step_not_in_the_runs_reply(backend: CdfBackend) -> None:
    seed(backend, "empty", "1", [])
    execution = run(backend, "empty")
    assert execution.status == "RUNNING"
    data = after(backend, 0, execution)
    assert data["status"] == "COMPLETED" and data["executedTasks"] == []


def test_outcome_failed_fails_the_chosen_task_and_stops(backend: CdfBackend) -> None:
    backend.runner.set_outcome("wf", "1", "FAILED", reason="boom", failed_task="load")
    data = after(backend, 1, run(backend))
    assert data["status"] == "FAILED" and data["reasonForIncompletion"] == "boom"
    assert task_statuses(data) == {"extract": "COMPLETED", "load": "FAILED"}
    assert data["executedTasks"][1]["reasonForIncompletion"] == "boom"


def test_outcome_failed_defaults_to_the_last_task(backend: CdfBackend) -> None:
    backend.runner.set_outcome("wf", "1", "FAILED")
    data = after(backend, 1, run(backend))
    assert data["status"] == "FAILED" and task_statuses(data)["notify"] == "FAILED"
    assert data["reasonForIncompletion"]


def test_failing_a_skip_task_does_not_fail_the_workflow(backend: CdfBackend) -> None:
    seed(backend, "skippy", "1", [{**CHAIN[0], "onFailure": "skipTask"}, *CHAIN[1:]])
    backend.runner.set_outcome("skippy", "1", "FAILED", failed_task="extract")
    data = after(backend, 1, run(backend, "skippy"))
    assert data["status"] == "COMPLETED"
    assert task_statuses(data)["extract"] == "COMPLETED_WITH_ERRORS"


def test_outcome_timed_out(backend: CdfBackend) -> None:
    backend.runner.set_outcome("wf", "1", "TIMED_OUT")
    data = after(backend, 1, run(backend))
    assert data["status"] == "TIMED_OUT" and task_statuses(data)["notify"] == "TIMED_OUT"
    assert data["endTime"] is not None


def test_the_outcome_is_read_when_a_run_starts(backend: CdfBackend) -> None:
    execution = run(backend)
    backend.runner.set_outcome("wf", "1", "FAILED")  # too late for the run that started
    assert after(backend, 1, execution)["status"] == "COMPLETED"


def test_run_until_cancelled_then_cancel_terminates(backend: CdfBackend) -> None:
    backend.runner.set_outcome("wf", "1", "RUN_UNTIL_CANCELLED")
    execution = run(backend)
    backend.scheduler.advance(7 * 24 * 3600)
    assert execution.status == "RUNNING" and in_progress(execution) == ["extract"]
    result = backend.executions.cancel(P, execution.id, "operator")
    assert result.status == "TERMINATED" and result.reason == "operator"
    data = result.to_detailed_json()
    assert task_statuses(data) == {"extract": "CANCELED"}
    assert "endTime" in data


def test_cancelling_a_finished_execution_is_a_conflict(backend: CdfBackend) -> None:
    execution = run(backend)
    after(backend, 1, execution)
    with pytest.raises(Conflict, match="already finished with status COMPLETED"):
        backend.executions.cancel(P, execution.id, "late")


def test_retry_reruns_only_failed_tasks_and_reads_the_current_outcome(backend: CdfBackend) -> None:
    backend.runner.set_outcome("wf", "1", "FAILED", failed_task="load")
    execution = run(backend)
    failed = after(backend, 1, execution)
    backend.runner.set_outcome("wf", "1", "COMPLETED")
    retried = backend.executions.retry(P, execution.id, nonce(backend))
    assert retried.status == "RUNNING" and retried.reason is None
    done = after(backend, 1, execution)
    assert done["status"] == "COMPLETED"
    assert done["executedTasks"][0]["id"] == failed["executedTasks"][0]["id"]  # extract was kept
    assert done["executedTasks"][1]["id"] != failed["executedTasks"][1]["id"]  # load ran again
    assert task_statuses(done) == {"extract": "COMPLETED", "load": "COMPLETED", "notify": "COMPLETED"}


def test_retry_of_terminated_execution_runs_cancelled_task_again(backend: CdfBackend) -> None:
    backend.runner.set_outcome("wf", "1", "RUN_UNTIL_CANCELLED")
    execution = run(backend)
    backend.executions.cancel(P, execution.id, "stop")
    backend.runner.set_outcome("wf", "1", "COMPLETED")
    backend.executions.retry(P, execution.id, nonce(backend))
    assert task_statuses(after(backend, 1, execution))["extract"] == "COMPLETED"


def test_retry_is_refused_while_running(backend: CdfBackend) -> None:
    backend.runner.set_outcome("wf", "1", "RUN_UNTIL_CANCELLED")
    running = run(backend)
    with pytest.raises(Conflict, match="only FAILED, TIMED_OUT or TERMINATED"):
        backend.executions.retry(P, running.id, nonce(backend))


def test_retry_needs_a_fresh_nonce(backend: CdfBackend) -> None:
    backend.runner.set_outcome("wf", "1", "RUN_UNTIL_CANCELLED")
    used = nonce(backend)
    execution = backend.executions.run(P, "wf", "1", used, None, {})
    backend.executions.cancel(P, execution.id, "stop")
    with pytest.raises(BadRequest, match="already been used"):
        backend.executions.retry(P, execution.id, used)


# ----- async tasks

ASYNC: list[dict[str, Any]] = [{"externalId": "wait", "type": "function",
          "parameters": {"function": {"externalId": "fn"}, "isAsyncComplete": True}}]  # fmt: skip


@pytest.fixture
def waiting(backend: CdfBackend) -> Execution:
    """A run whose one async task has had its time (10 ms) and waits for its update."""
    seed(backend, "async", "1", ASYNC)
    execution = run(backend, "async")
    backend.scheduler.advance(3600)
    assert execution.status == "RUNNING" and in_progress(execution) == ["wait"]
    assert execution.tasks[0].input["asyncComplete"] is True
    return execution


def test_an_async_task_waits_for_its_update_then_the_run_completes(backend: CdfBackend, waiting: Execution) -> None:
    updated = backend.executions.update_task(P, waiting.tasks[0].id, "COMPLETED", {"rows": 3})
    assert updated.status == "COMPLETED" and updated.output["response"] == {"rows": 3}
    assert waiting.status == "COMPLETED"


@pytest.mark.parametrize("status", ["FAILED", "FAILED_WITH_TERMINAL_ERROR"])
def test_an_async_task_failed_by_its_update_fails_the_run(backend: CdfBackend, waiting: Execution, status: str) -> None:
    backend.executions.update_task(P, waiting.tasks[0].id, status, None)
    assert waiting.status == "FAILED" and waiting.tasks[0].status == status


def test_an_update_before_the_tasks_time_is_up_ends_the_run_only_then(backend: CdfBackend) -> None:
    seed(backend, "async", "1", ASYNC)
    backend.runner.set_outcome("async", "1", task_duration=60)
    execution = run(backend, "async")
    backend.executions.update_task(P, execution.tasks[0].id, "COMPLETED", None)
    assert execution.status == "RUNNING"
    assert after(backend, 60, execution)["status"] == "COMPLETED"


def test_task_update_rules(backend: CdfBackend, waiting: Execution) -> None:
    task_id = waiting.tasks[0].id
    with pytest.raises(NotFound):
        backend.executions.update_task(P, "00000000-0000-4000-8000-000000000000", "COMPLETED", None)
    backend.executions.update_task(P, task_id, "COMPLETED", None)
    with pytest.raises(Conflict, match="not in progress"):
        backend.executions.update_task(P, task_id, "COMPLETED", None)
    plain = after(backend, 1, run(backend))
    with pytest.raises(BadRequest, match="isAsyncComplete"):
        backend.executions.update_task(P, plain["executedTasks"][0]["id"], "COMPLETED", None)


# ----- retrieving and listing


def test_unknown_version_and_execution_are_not_found(backend: CdfBackend) -> None:
    with pytest.raises(NotFound, match="not found"):
        run(backend, "wf", "2")
    with pytest.raises(NotFound):
        backend.executions.get(P, "00000000-0000-4000-8000-000000000000")
    with pytest.raises(NotFound):
        backend.executions.get("other-project", run(backend).id)


def test_list_is_newest_first_with_filters_and_stable_cursor(backend: CdfBackend) -> None:
    seed(backend, "wf", "2")
    first, second, third = run(backend), run(backend, "wf", "2"), run(backend)
    everything = ExecutionFilter()
    page, cursor = backend.executions.list_executions(P, everything, 2, None)
    assert [e.id for e in page] == [third.id, second.id]
    run(backend)  # a new execution must not shift the next page
    page2, cursor2 = backend.executions.list_executions(P, everything, 2, cursor)
    assert [e.id for e in page2] == [first.id] and cursor2 is None
    only_v2 = ExecutionFilter(WorkflowFilter((("wf", "2"),)))
    assert [e.id for e in backend.executions.list_executions(P, only_v2, 100, None)[0]] == [second.id]
    all_wf = ExecutionFilter(WorkflowFilter((("wf", None),)))
    assert len(backend.executions.list_executions(P, all_wf, 100, None)[0]) == 4
    assert backend.executions.list_executions("other-project", everything, 100, None)[0] == []


def test_list_created_time_bounds_are_inclusive_and_status_filters(backend: CdfBackend) -> None:
    execution = run(backend)
    t = execution.created_time

    def listed(**bounds: Any) -> list[Execution]:
        return backend.executions.list_executions(P, ExecutionFilter(**bounds), 100, None)[0]

    assert listed(created_start=t, created_end=t)
    assert not listed(created_start=t + 1)
    assert not listed(created_end=t - 1)
    after(backend, 1, execution)
    assert listed(statuses=frozenset({"COMPLETED"}))
    assert not listed(statuses=frozenset({"RUNNING", "FAILED"}))


def test_page_size_caps_every_page_of_the_list(backend: CdfBackend) -> None:
    for _ in range(3):
        run(backend)
    backend.page_size = 2
    page, cursor = backend.executions.list_executions(P, ExecutionFilter(), 100, None)
    assert len(page) == 2 and cursor is not None
