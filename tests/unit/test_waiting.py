"""The polling schedule and the verdicts of a wait, with a fake clock (no sleeping)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from pulumi_cdf_workflows.cdf.errors import CdfApiError, CdfAuthError, CdfConnectionError, CdfNotFoundError
from pulumi_cdf_workflows.cdf.models import CdfWorkflowExecutionDetailed
from pulumi_cdf_workflows.lifecycle.polling import PollSchedule
from pulumi_cdf_workflows.resources.execution.waiting import ExecutionWaiter, WaitOutcome, compact_tasks


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def _execution(
    status: str, tasks: list[dict[str, Any]] | None = None, reason: str | None = None
) -> CdfWorkflowExecutionDetailed:
    return CdfWorkflowExecutionDetailed.model_validate(
        {
            "id": "e1",
            "workflowExternalId": "wf",
            "version": "1",
            "status": status,
            "createdTime": 1,
            "reasonForIncompletion": reason,
            "executedTasks": tasks or [],
        }
    )


class ScriptedReader:
    """Answers with RUNNING until `finish_at` seconds on the fake clock, then with `final`."""

    def __init__(self, clock: FakeClock, finish_at: float, final: CdfWorkflowExecutionDetailed | Exception) -> None:
        self.clock, self.finish_at, self.final, self.reads = clock, finish_at, final, 0

    def retrieve_execution(self, execution_id: str) -> CdfWorkflowExecutionDetailed:
        self.reads += 1
        if self.clock.now < self.finish_at:
            return _execution("RUNNING")
        if isinstance(self.final, Exception):
            raise self.final
        return self.final


class SequenceReader:
    """Gives the scripted answers one read at a time (an exception is raised), then repeats the last one."""

    def __init__(self, answers: Sequence[CdfWorkflowExecutionDetailed | Exception]) -> None:
        self.answers, self.reads = list(answers), 0

    def retrieve_execution(self, execution_id: str) -> CdfWorkflowExecutionDetailed:
        answer = self.answers[min(self.reads, len(self.answers) - 1)]
        self.reads += 1
        if isinstance(answer, Exception):
            raise answer
        return answer


def _wait(
    reader: ScriptedReader | SequenceReader, clock: FakeClock, timeout: float, messages: list[str] | None = None
) -> Any:
    return ExecutionWaiter(
        reader,
        "e1",
        timeout=timeout,
        report=(messages if messages is not None else []).append,
        sleep=clock.sleep,
        clock=clock,
    ).wait()


def test_schedule_starts_near_one_second_and_caps_near_fifteen() -> None:
    schedule = PollSchedule()
    delays = []
    elapsed = 0.0
    for reads in range(12):
        delay = schedule.delay(reads, elapsed)
        delays.append(delay)
        elapsed += delay
    assert delays[:4] == [1.0, 1.5, 2.25, 3.375]
    assert max(delays) == 15.0


def test_an_hour_long_wait_costs_a_few_dozen_reads() -> None:
    schedule = PollSchedule()
    assert schedule.count_reads(600) <= 35
    assert schedule.count_reads(3600) <= 60


def test_completed_execution_ends_the_wait_and_reports_tasks() -> None:
    clock = FakeClock()
    final = _execution("COMPLETED", [{"externalId": "t1", "status": "COMPLETED", "taskType": "cdf", "output": {}}])
    reader = ScriptedReader(clock, 20, final)
    messages: list[str] = []
    result = _wait(reader, clock, 3600, messages)
    assert result.outcome is WaitOutcome.COMPLETED
    assert result.reads == reader.reads
    assert any("task t1 COMPLETED" in m for m in messages)
    assert any("COMPLETED" in m and "execution e1" in m for m in messages)


def test_failed_execution_message_names_id_status_reason_and_failed_tasks() -> None:
    clock = FakeClock()
    final = _execution(
        "FAILED",
        [
            {"externalId": "ok", "status": "COMPLETED", "taskType": "cdf"},
            {"externalId": "load", "status": "FAILED", "taskType": "function", "reasonForIncompletion": "boom"},
        ],
        reason="Task load failed",
    )
    result = _wait(ScriptedReader(clock, 5, final), clock, 3600)
    assert result.outcome is WaitOutcome.ENDED_UNSUCCESSFULLY
    message = result.message("workflow 'wf' version '1'")
    assert "e1" in message and "FAILED" in message and "Task load failed" in message
    assert "load (FAILED: boom)" in message
    assert "next `pulumi up` runs the workflow again" in message


def test_our_timeout_says_still_running_and_not_cancelled() -> None:
    clock = FakeClock()
    result = _wait(ScriptedReader(clock, 10_000, _execution("COMPLETED")), clock, 30)
    assert result.outcome is WaitOutcome.STILL_RUNNING
    assert clock.now == 30  # the last sleep is cut to the deadline
    message = result.message("workflow 'wf' version '1'")
    assert "after 30 s" in message and "still RUNNING" in message and "was not cancelled" in message


def test_read_errors_do_not_end_the_wait() -> None:
    clock = FakeClock()
    reader = ScriptedReader(clock, 3, CdfConnectionError("unreachable"))
    result = _wait(reader, clock, 10)
    assert result.outcome is WaitOutcome.STILL_RUNNING
    assert "unreachable" in result.message("wf")


def test_vanished_execution_ends_the_wait() -> None:
    clock = FakeClock()
    result = _wait(ScriptedReader(clock, 2, CdfNotFoundError("gone", status=404)), clock, 100)
    assert result.outcome is WaitOutcome.VANISHED


WHAT = "workflow 'wf' version '1'"


def test_an_execution_ending_completed_is_completed() -> None:
    clock = FakeClock()
    result = _wait(ScriptedReader(clock, 5, _execution("COMPLETED")), clock, 3600)
    assert result.outcome is WaitOutcome.COMPLETED
    assert not result.may_still_run
    assert result.execution is not None and result.execution.status == "COMPLETED"


@pytest.mark.parametrize("status", ["FAILED", "TIMED_OUT", "TERMINATED"])
def test_an_execution_ending_otherwise_ended_unsuccessfully_naming_status_and_reason(status: str) -> None:
    clock = FakeClock()
    final = _execution(status, reason=f"why it ended {status}")
    result = _wait(ScriptedReader(clock, 5, final), clock, 3600)
    assert result.outcome is WaitOutcome.ENDED_UNSUCCESSFULLY
    assert not result.may_still_run
    message = result.message(WHAT)
    assert f"ended {status}" in message
    assert f"why it ended {status}" in message


@pytest.mark.parametrize(("status", "meaning"), [(403, "workflowOrchestration:read"), (401, "new token")])
def test_a_refused_status_read_ends_the_wait_at_once(status: int, meaning: str) -> None:
    clock = FakeClock()
    reader = ScriptedReader(clock, 0, CdfAuthError("refused", status=status, cdf_message="Forbidden"))
    result = _wait(reader, clock, 3600)
    assert result.outcome is WaitOutcome.REFUSED
    assert reader.reads == 1 and result.reads == 1
    assert result.may_still_run
    message = result.message(WHAT)
    assert f"HTTP {status}" in message and meaning in message
    assert "and was not cancelled" in message


def test_a_404_while_waiting_means_the_execution_vanished() -> None:
    clock = FakeClock()
    reader = SequenceReader([_execution("RUNNING"), CdfNotFoundError("gone", status=404)])
    result = _wait(reader, clock, 3600)
    assert result.outcome is WaitOutcome.VANISHED
    assert reader.reads == 2
    assert "disappeared" in result.message(WHAT)


def test_a_503_keeps_polling_and_the_wait_then_completes() -> None:
    clock = FakeClock()
    unavailable = CdfApiError("CDF answered 503", status=503, cdf_message="Service Unavailable")
    reader = SequenceReader([_execution("RUNNING"), unavailable, unavailable, _execution("COMPLETED")])
    messages: list[str] = []
    result = _wait(reader, clock, 3600, messages)
    assert result.outcome is WaitOutcome.COMPLETED
    assert reader.reads == 4
    assert any("could not read execution e1" in m for m in messages)


def test_a_status_never_read_is_not_claimed_to_be_running() -> None:
    clock = FakeClock()
    reader = ScriptedReader(clock, 0, CdfConnectionError("connection refused"))
    result = _wait(reader, clock, 60)
    assert result.outcome is WaitOutcome.STILL_RUNNING
    assert result.may_still_run
    assert clock.now == 60 and reader.reads > 1
    message = result.message(WHAT)
    assert "status could not be read" in message and "connection refused" in message
    assert "still RUNNING" not in message


def test_the_message_says_what_became_of_the_cancel_when_one_was_sent() -> None:
    clock = FakeClock()
    result = _wait(ScriptedReader(clock, 10_000, _execution("COMPLETED")), clock, 30)
    assert result.outcome is WaitOutcome.STILL_RUNNING
    message = result.message(WHAT, cancelled="It was cancelled (now TERMINATED)")
    assert "It was cancelled (now TERMINATED)" in message
    assert "was not cancelled" not in message


def test_task_outputs_are_bounded_in_state() -> None:
    execution = _execution(
        "COMPLETED",
        [
            {"externalId": "small", "status": "COMPLETED", "taskType": "cdf", "output": {"statusCode": 200}},
            {"externalId": "big", "status": "COMPLETED", "taskType": "cdf", "output": {"response": "x" * 10_000}},
        ],
    )
    small, big = compact_tasks(execution.executed_tasks)
    assert small["output"] == {"statusCode": 200}
    assert big["output"]["truncated"] is True
    assert big["output"]["bytes"] > 10_000
