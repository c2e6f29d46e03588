"""An interrupted `pulumi up` never starts a second run: the next create of the same resource with the same
inputs takes over the execution that still runs; anything else (another resource, stack or input, a run
outside the look-up window) runs; a failed look-up runs nothing; the engine's Cancel ends a wait at once."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from harness import PluginError, Registration, capture_registrations, wait_until

from pulumi_cdf_workflows import WorkflowExecution
from pulumi_cdf_workflows.emulator import CdfEmulator
from pulumi_cdf_workflows.resources.execution.recovery import RUN_MARKER_KEY

from .conftest import CDF_PROJECT, VERSION, WORKFLOW, Stack, stack_config, start_stack

DAY_MS = 24 * 3600 * 1000


def register(name: str = "run", stack: str = "dev", **kwargs: Any) -> Registration:
    kwargs = {"workflow_external_id": WORKFLOW, "version": VERSION, "input": {"day": "mon"}, **kwargs}

    def program() -> None:
        WorkflowExecution(name, **kwargs)

    return capture_registrations(program, stack=stack)[0]


def next_up(emu: CdfEmulator) -> Iterator[Stack]:
    return start_stack(emu, stack_config(emu))


def create(stack: Stack, registration: Registration) -> tuple[str, dict[str, Any]]:
    checked = stack.plugin.check(registration.urn, {}, registration.engine_inputs)
    assert checked.failures == []
    return stack.plugin.create(registration.urn, checked.inputs)


def interrupted_up(emu: CdfEmulator, **kwargs: Any) -> str:
    """An `up` killed (SIGKILL) while its create waits: the run was started and nothing recorded it."""
    registration = register(wait_for_completion=True, **kwargs)
    for stack in next_up(emu):
        before = len(emu.executions(CDF_PROJECT))
        errors: list[BaseException] = []
        thread = threading.Thread(target=_create_into, args=(stack, registration, errors))
        thread.start()
        wait_until(lambda: len(emu.executions(CDF_PROJECT)) > before, "the interrupted run to start", 20)  # noqa: B023
        assert stack.plugin.pid is not None
        os.kill(stack.plugin.pid, signal.SIGKILL)
        thread.join(timeout=30)
        assert errors, "the create should have died with its plugin"
    return str(emu.executions(CDF_PROJECT)[-1]["id"])


def _create_into(stack: Stack, registration: Registration, errors: list[BaseException]) -> None:
    try:
        create(stack, registration)
    except PluginError as exc:
        errors.append(exc)


@pytest.fixture
def slow(emu: CdfEmulator) -> CdfEmulator:
    emu.set_outcome(WORKFLOW, VERSION, "COMPLETED", task_duration=3.0)
    return emu


def test_the_up_after_an_interrupted_one_takes_over_its_running_execution(slow: CdfEmulator) -> None:
    first = interrupted_up(slow)
    for stack in next_up(slow):
        id_, outs = create(stack, register(wait_for_completion=True))
        assert id_ == first
        assert outs["status"] == "COMPLETED"  # it waited for the adopted execution
        assert f"adopted execution {first} started by an interrupted deploy at " in stack.plugin.stderr_text()
    assert len(slow.executions(CDF_PROJECT)) == 1
    assert slow.requests("POST", r"/run$")[-1]["status"] == 202 and len(slow.requests("POST", r"/run$")) == 1


@pytest.mark.parametrize(
    "other",
    [
        {"name": "another-resource"},
        {"stack": "prod"},
        {"input": {"day": "tue"}},
        {"triggers": ["release-2"]},
    ],
    ids=["another resource", "another stack", "other input", "other triggers"],
)
def test_a_run_of_another_resource_stack_or_input_is_not_taken_over(slow: CdfEmulator, other: dict[str, Any]) -> None:
    first = interrupted_up(slow)
    for stack in next_up(slow):
        id_, _ = create(stack, register(**other))
    assert id_ != first
    assert len(slow.executions(CDF_PROJECT)) == 2


def test_a_run_that_has_ended_is_not_taken_over_the_next_up_runs_again(slow: CdfEmulator) -> None:
    first = interrupted_up(slow)
    slow.backend.cancel(CDF_PROJECT, first, {})
    for stack in next_up(slow):
        id_, _ = create(stack, register())
    assert id_ != first
    assert len(slow.executions(CDF_PROJECT)) == 2


def test_a_run_older_than_cdfs_longest_execution_is_outside_the_look_up(slow: CdfEmulator) -> None:
    now = slow.now()
    slow.set_time(now - DAY_MS - 3600 * 1000)  # the interrupted run started 25 h ago by CDF's clock
    slow.set_outcome(WORKFLOW, VERSION, "RUN_UNTIL_CANCELLED")
    first = interrupted_up(slow)
    slow.set_time(now)
    for stack in next_up(slow):
        id_, _ = create(stack, register())
    assert id_ != first


def test_the_look_up_follows_the_list_across_pages(slow: CdfEmulator) -> None:
    slow.set_outcome(WORKFLOW, VERSION, "RUN_UNTIL_CANCELLED")
    first = interrupted_up(slow)  # the oldest: on the last page, newest first
    for stack in next_up(slow):
        for i in range(5):
            create(stack, register(f"other-{i}"))
        slow.backend.page_size = 2
        id_, _ = create(stack, register())
    assert id_ == first
    lists = [r for r in slow.requests("POST", r"/executions/list$")]
    assert len(lists) >= 3  # 6 running executions, 2 a page


def test_a_failed_look_up_runs_nothing_and_says_so(emu: CdfEmulator, stack: Stack) -> None:
    emu.inject_fault("POST", r"/executions/list$", status=403)
    with pytest.raises(PluginError) as caught:
        create(stack, register())
    message = caught.value.details
    assert "Could not check whether an interrupted deploy already started" in message
    assert "Nothing was run; the next `pulumi up` tries again" in message
    assert emu.requests("POST", r"/run$") == []


def test_with_all_ten_metadata_pairs_taken_there_is_no_marker_and_no_look_up(emu: CdfEmulator, stack: Stack) -> None:
    metadata = {f"k{i}": "v" for i in range(10)}
    create(stack, register(metadata=metadata))
    (execution,) = emu.executions(CDF_PROJECT)
    assert RUN_MARKER_KEY not in execution["metadata"]
    assert emu.requests("POST", r"/executions/list$") == []


def test_the_marker_is_the_same_for_every_run_of_a_resource_with_the_same_inputs(emu: CdfEmulator) -> None:
    for stack in next_up(emu):
        create(stack, register())
    for stack in next_up(emu):
        create(stack, register())
    first, second = (e["metadata"][RUN_MARKER_KEY] for e in emu.executions(CDF_PROJECT))
    assert first != second  # each attempt is told apart (a lost reply finds its own run) ...
    assert first.partition(".")[0] == second.partition(".")[0]  # ... but the resource and inputs are the same


def test_the_engines_cancel_ends_a_wait_at_once_and_the_stack_records_the_running_execution(
    emu: CdfEmulator, stack: Stack
) -> None:
    emu.set_outcome(WORKFLOW, VERSION, "RUN_UNTIL_CANCELLED")
    result: list[tuple[str, dict[str, Any]]] = []
    thread = threading.Thread(target=lambda: result.append(create(stack, register(wait_for_completion=True))))
    thread.start()
    wait_until(lambda: "is RUNNING after" in stack.plugin.stderr_text(), "the wait to begin", 20)
    cancelled = time.monotonic()
    stack.plugin.cancel()  # one Ctrl-C: the engine sends Cancel, then waits for the calls in flight
    thread.join(timeout=30)

    assert time.monotonic() - cancelled < 5, "the wait should end at once, not at timeout_seconds"
    ((id_, outs),) = result
    assert outs["status"] == "RUNNING" and id_ == emu.executions(CDF_PROJECT)[0]["id"]
    assert "stopped waiting for execution" in stack.plugin.stderr_text()
    assert "was not cancelled; the stack records it" in stack.plugin.stderr_text()


def test_the_engines_cancel_ends_a_workflow_deletes_wait_and_the_workflow_stays(emu: CdfEmulator, stack: Stack) -> None:
    from pulumi_cdf_workflows import Workflow

    def program() -> None:
        Workflow("wf", external_id=WORKFLOW, force_destroy=True)

    (registration,) = capture_registrations(program, stack="dev")
    id_, outs = create(stack, registration)
    emu.set_outcome(WORKFLOW, VERSION, "RUN_UNTIL_CANCELLED")
    create(stack, register("busy"))
    errors: list[BaseException] = []
    thread = threading.Thread(target=_delete_into, args=(stack, registration, id_, outs, errors))
    thread.start()
    wait_until(lambda: "waiting for 1 running execution(s)" in stack.plugin.stderr_text(), "the delete's wait", 20)
    stack.plugin.cancel()
    thread.join(timeout=10)

    assert not thread.is_alive(), "the delete should stop waiting at once"
    (error,) = errors
    assert "Stopped waiting to delete workflow wf because the deploy was cancelled" in str(error)
    assert emu.backend.get_workflow(CDF_PROJECT, WORKFLOW) is not None


def _delete_into(
    stack: Stack, registration: Registration, id_: str, outs: dict[str, Any], errors: list[BaseException]
) -> None:
    try:
        stack.plugin.delete(registration.urn, id_, outs)
    except PluginError as exc:
        errors.append(exc)
