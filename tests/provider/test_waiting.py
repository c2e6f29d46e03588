"""wait_for_completion, refresh, cancel_on_delete and look-up, through the real plugin process."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from harness import PluginError, capture_registrations, wait_until

from pulumi_cdf_workflows import WorkflowExecution
from pulumi_cdf_workflows.cdf import CdfClient, ConnectionSettings
from pulumi_cdf_workflows.emulator import CdfEmulator

from .conftest import CDF_PROJECT, VERSION, WORKFLOW, Stack, stack_config, start_stack

TASKS: list[dict[str, Any]] = [
    {"externalId": "extract", "type": "cdf", "parameters": {"cdfRequest": {"resourcePath": "/x", "method": "GET"}}},
    {
        "externalId": "load",
        "type": "cdf",
        "parameters": {"cdfRequest": {"resourcePath": "/y", "method": "GET"}},
        "dependsOn": [{"externalId": "extract"}],
    },
]


@pytest.fixture
def two_task_stack(emu: CdfEmulator) -> Iterator[Stack]:
    emu.upsert_workflow_version(CDF_PROJECT, WORKFLOW, VERSION, tasks=TASKS)
    yield from start_stack(emu, stack_config(emu))


def _create_error(stack: Stack, **kwargs: Any) -> str:
    registration = stack.register(**kwargs)
    inputs = stack.check(registration)
    with pytest.raises(PluginError) as caught:
        stack.plugin.create(registration.urn, inputs)
    details = caught.value.details
    assert "Traceback" not in details
    return details


def test_waiting_for_a_completed_run_returns_final_status_and_task_results(two_task_stack: Stack) -> None:
    stack = two_task_stack
    run = stack.up(wait_for_completion=True)
    assert run.outs["status"] == "COMPLETED"
    assert run.outs["end_time"] >= run.outs["start_time"]
    tasks = run.outs["executed_tasks"]
    assert [(t["external_id"], t["status"]) for t in tasks] == [("extract", "COMPLETED"), ("load", "COMPLETED")]
    assert tasks[0]["output"] == {"statusCode": 200, "response": tasks[0]["output"]["response"]}
    stderr = stack.plugin.stderr_text()
    assert "task extract COMPLETED" in stderr and "task load COMPLETED" in stderr
    assert f"execution {run.id} is COMPLETED" in stderr


def test_a_failed_run_fails_the_deploy_with_reason_and_failed_tasks(two_task_stack: Stack) -> None:
    stack = two_task_stack
    stack.emu.set_outcome(WORKFLOW, VERSION, "FAILED", reason="bad row 17", failed_task="load")
    details = _create_error(stack, wait_for_completion=True)
    (execution,) = stack.executions()
    assert f"Execution {execution['id']} of workflow 'wf' version '1'" in details
    assert "ended FAILED" in details
    assert "load (FAILED: bad row 17)" in details
    assert "the next `pulumi up` runs the workflow again" in details


def test_an_execution_timed_out_in_cdf_fails_the_deploy(two_task_stack: Stack) -> None:
    stack = two_task_stack
    stack.emu.set_outcome(WORKFLOW, VERSION, "TIMED_OUT")
    details = _create_error(stack, wait_for_completion=True)
    (execution,) = stack.executions()
    assert execution["id"] in details and "ended TIMED_OUT" in details


def test_our_timeout_fails_naming_the_execution_and_leaves_it_running(two_task_stack: Stack) -> None:
    stack = two_task_stack
    stack.emu.set_outcome(WORKFLOW, VERSION, "RUN_UNTIL_CANCELLED")
    started = time.monotonic()
    details = _create_error(stack, wait_for_completion=True, timeout_seconds=2)
    assert 2 <= time.monotonic() - started < 8
    (execution,) = stack.executions()
    assert execution["status"] == "RUNNING"
    assert stack.api_requests("POST", r"/cancel$") == []
    assert f"Gave up waiting for execution {execution['id']}" in details
    assert "after 2 s" in details and "still RUNNING" in details and "was not cancelled" in details
    assert "the next `pulumi up` takes this execution over while it still runs" in details


def test_an_execution_terminated_by_someone_else_while_we_wait_fails_the_deploy(two_task_stack: Stack) -> None:
    stack = two_task_stack
    stack.emu.set_outcome(WORKFLOW, VERSION, "RUN_UNTIL_CANCELLED")

    def cancel_when_started() -> None:
        wait_until(stack.executions, "the execution to start", 10)
        time.sleep(0.5)  # the wait has begun: a cancel now ends the execution while it is watched
        operator = CdfClient(ConnectionSettings(project=CDF_PROJECT, base_url=stack.emu.base_url, token="static-op"))
        operator.cancel_execution(stack.executions()[0]["id"], reason="stopped by an operator")

    canceller = threading.Thread(target=cancel_when_started)
    canceller.start()
    details = _create_error(stack, wait_for_completion=True, timeout_seconds=30)
    canceller.join()
    assert "ended TERMINATED: stopped by an operator" in details


def test_refresh_after_a_failure_elsewhere_shows_the_failure(two_task_stack: Stack) -> None:
    stack = two_task_stack
    stack.emu.set_outcome(WORKFLOW, VERSION, "FAILED", reason="bad row 17", failed_task="extract")
    run = stack.up()  # not waiting: the deploy succeeds while the run is still going
    assert run.outs["status"] == "RUNNING"
    wait_until(lambda: stack.executions()[0]["status"] != "RUNNING", "the execution to end", 10)
    read = stack.plugin.read(run.registration.urn, run.id, run.outs)
    assert read.outs["status"] == "FAILED"
    assert read.outs["reason_for_incompletion"]
    assert read.outs["executed_tasks"][0]["status"] == "FAILED"


def test_a_long_wait_backs_off(emu: CdfEmulator) -> None:
    emu.upsert_workflow_version(CDF_PROJECT, WORKFLOW, VERSION)
    emu.set_outcome(WORKFLOW, VERSION, "COMPLETED", task_duration=6.0)
    for stack in start_stack(emu, stack_config(emu)):
        run = stack.up(wait_for_completion=True)
        gets = stack.api_requests("GET", rf"/executions/{run.id}$")
        # Reads at about 1, 2.5, 4.75 and 8.1 s: four, where a read every second would make six or seven.
        assert 3 <= len(gets) <= 5, len(gets)


def test_eight_concurrent_waits_all_finish_four_at_a_time(emu: CdfEmulator) -> None:
    emu.set_outcome(WORKFLOW, VERSION, "COMPLETED", task_duration=1.0)
    for stack in start_stack(emu, stack_config(emu)):
        runs = [stack.register(f"run-{i}", wait_for_completion=True) for i in range(8)]
        inputs = [stack.check(r) for r in runs]
        started = time.monotonic()
        plugin = stack.plugin
        with ThreadPoolExecutor(max_workers=8) as pool:
            futures = [pool.submit(plugin.create, r.urn, i) for r, i in zip(runs, inputs, strict=True)]
            results = [f.result() for f in futures]
        elapsed = time.monotonic() - started
        assert [outs["status"] for _, outs in results] == ["COMPLETED"] * 8
        assert len({id_ for id_, _ in results}) == 8
        # The plugin serves 4 calls at once, so the second four start only when the first four end.
        assert elapsed >= 2 * 1.0


# --- delete and cancel_on_delete ------------------------------------------------------------------------


def test_cancel_on_delete_cancels_a_running_execution_naming_the_resource(two_task_stack: Stack) -> None:
    stack = two_task_stack
    stack.emu.set_outcome(WORKFLOW, VERSION, "RUN_UNTIL_CANCELLED")
    run = stack.up("backfill", cancel_on_delete=True)
    stack.plugin.delete(run.registration.urn, run.id, run.outs)
    (execution,) = stack.executions()
    assert execution["status"] == "TERMINATED"
    assert execution["reasonForIncompletion"] == "Cancelled by Pulumi: resource dev/backfill was deleted or replaced"


def test_cancel_on_delete_leaves_a_finished_execution_alone(stack: Stack) -> None:
    run = stack.up(cancel_on_delete=True, wait_for_completion=True)
    stack.plugin.delete(run.registration.urn, run.id, run.outs)
    assert stack.api_requests("POST", r"/cancel$") == []
    assert stack.executions()[0]["status"] == "COMPLETED"


@pytest.mark.parametrize("status", [400, 409])
def test_cancel_refused_because_the_execution_just_ended_is_not_an_error(stack: Stack, status: int) -> None:
    stack.emu.set_outcome(WORKFLOW, VERSION, "COMPLETED", task_duration=0.5)
    run = stack.up(cancel_on_delete=True)
    # It ends between the provider's read and its cancel, which CDF then refuses.
    stack.emu.inject_fault("POST", r"/cancel$", when="before", status=status, delay=1.5)

    stack.plugin.delete(run.registration.urn, run.id, run.outs)

    assert [e["status"] for e in stack.executions()] == ["COMPLETED"]


@pytest.mark.parametrize("status", [400, 409])
def test_cancel_refused_while_the_execution_still_runs_fails_destroy(stack: Stack, status: int) -> None:
    stack.emu.set_outcome(WORKFLOW, VERSION, "RUN_UNTIL_CANCELLED")
    run = stack.up(cancel_on_delete=True)
    stack.emu.inject_fault("POST", r"/cancel$", when="before", status=status)

    with pytest.raises(PluginError) as info:
        stack.plugin.delete(run.registration.urn, run.id, run.outs)

    assert f"CDF refused to cancel execution {run.id}" in info.value.details
    assert f"CDF answered {status}: Injected fault" in info.value.details
    assert "It is still RUNNING" in info.value.details
    assert [e["status"] for e in stack.executions()] == ["RUNNING"]


def test_delete_of_a_vanished_execution_succeeds_and_says_there_was_nothing_to_cancel(stack: Stack) -> None:
    run = stack.up(cancel_on_delete=True)
    stack.emu.reset()
    stack.plugin.delete(run.registration.urn, run.id, run.outs)  # no error: the resource leaves the stack
    assert f"execution {run.id} is no longer in CDF project" in stack.plugin.stderr_text()
    assert stack.api_requests("POST", r"/cancel$") == []


# --- look-up of an execution started elsewhere -------------------------------------------------------------


def test_get_reads_an_execution_started_elsewhere_and_runs_nothing(two_task_stack: Stack) -> None:
    stack = two_task_stack
    other = stack.up(
        "started-by-someone", input={"day": "2026-11-26"}, metadata={"by": "toolkit"}, wait_for_completion=True
    )
    before = len(stack.executions())

    def program() -> None:
        WorkflowExecution.get("adopted", other.id)

    (registration,) = capture_registrations(program, stack="dev")
    assert registration.read and registration.resource_id == other.id
    read = stack.plugin.read(registration.urn, other.id, None, inputs=registration.engine_inputs)
    assert read.id == other.id
    assert read.outs["workflow_external_id"] == WORKFLOW
    assert read.outs["version"] == VERSION
    assert read.outs["status"] == "COMPLETED"
    assert read.outs["input"] == {"day": "2026-11-26"}
    assert read.outs["metadata"] == {"by": "toolkit"}
    assert [t["external_id"] for t in read.outs["executed_tasks"]] == ["extract", "load"]
    assert not read.outs.get("cancel_on_delete")
    assert len(stack.executions()) == before


@pytest.mark.parametrize(
    ("outcome", "final"),
    [
        ("COMPLETED", "COMPLETED"),
        ("FAILED", "FAILED"),
        ("TIMED_OUT", "TIMED_OUT"),
        ("RUN_UNTIL_CANCELLED", "TERMINATED"),
    ],
)
def test_refresh_after_each_outcome_reads_the_final_status(two_task_stack: Stack, outcome: str, final: str) -> None:
    stack = two_task_stack
    stack.emu.set_outcome(WORKFLOW, VERSION, outcome)  # type: ignore[arg-type]
    run = stack.up()
    if outcome == "RUN_UNTIL_CANCELLED":
        operator = CdfClient(ConnectionSettings(project=CDF_PROJECT, base_url=stack.emu.base_url, token="static-op"))
        operator.cancel_execution(run.id, reason="operator")
    wait_until(lambda: stack.executions()[0]["status"] != "RUNNING", "the execution to end", 10)
    read = stack.plugin.read(run.registration.urn, run.id, run.outs)
    assert read.outs["status"] == final
    assert read.outs["end_time"]
    assert len(stack.executions()) == 1
