"""Waiting for a workflow execution to end: the polling schedule, progress reports and the final verdict."""

from __future__ import annotations

import enum
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from pulumi_cdf_workflows.cdf.errors import CdfApiError, CdfAuthError, CdfError, CdfNotFoundError
from pulumi_cdf_workflows.cdf.models import CdfWorkflowExecutionDetailed, CdfWorkflowStatus, CdfWorkflowTaskExecution
from pulumi_cdf_workflows.lifecycle.plugin_host import Interruption
from pulumi_cdf_workflows.lifecycle.polling import PollSchedule
from pulumi_cdf_workflows.lifecycle.provider import ProviderError

TASK_OUTPUT_LIMIT_BYTES = 4096
_FINISHED_TASK = (
    "COMPLETED",
    "COMPLETED_WITH_ERRORS",
    "FAILED",
    "FAILED_WITH_TERMINAL_ERROR",
    "TIMED_OUT",
    "CANCELED",
    "CANCELLED",
    "SKIPPED",
)
TIMEOUT_SECONDS = "timeout_seconds"
CUSTOM_TIMEOUTS = "the resource's customTimeouts (create)"
_FAILED_TASK = ("FAILED", "FAILED_WITH_TERMINAL_ERROR", "TIMED_OUT", "COMPLETED_WITH_ERRORS")


class _ExecutionReader(Protocol):
    def retrieve_execution(self, execution_id: str) -> CdfWorkflowExecutionDetailed: ...


class WaitOutcome(enum.Enum):
    COMPLETED = "completed"
    ENDED_UNSUCCESSFULLY = "ended unsuccessfully"
    STILL_RUNNING = "still running"
    VANISHED = "vanished"
    REFUSED = "refused"
    """CDF refused to show the execution (401/403 or another 4xx): further reads would learn nothing."""
    INTERRUPTED = "interrupted"
    """The deploy was cancelled or terminated while waiting (see `interruption`)."""


# Why a status read is refused, in words a user can act on.
_REFUSAL_MEANING = {
    401: "the credentials were refused, even after a new token was fetched",
    403: "the credentials may not read workflow executions in this project (workflowOrchestration:read)",
}


@dataclass
class WaitResult:
    outcome: WaitOutcome
    execution_id: str
    execution: CdfWorkflowExecutionDetailed | None
    waited_seconds: float
    reads: int
    timeout: float
    last_error: str | None = None
    refused_status: int | None = None
    interruption: Interruption | None = None
    limit: str = TIMEOUT_SECONDS
    """What bounded the wait: `timeout_seconds`, or the engine's customTimeouts when smaller."""

    @property
    def may_still_run(self) -> bool:
        """The wait ended without seeing the execution end: it may still be running in CDF."""
        return self.outcome in (WaitOutcome.STILL_RUNNING, WaitOutcome.REFUSED, WaitOutcome.INTERRUPTED)

    def message(self, what: str, cancelled: str | None = None, recorded: bool = False) -> str:
        """The error a user sees when the wait did not end in COMPLETED. `cancelled` says what became of a
        cancel sent because the wait gave up (None: no cancel was sent); `recorded`, that the stack keeps the
        execution as it is (the provider plugin can, the dynamic provider cannot). The next `up` does the same
        either way."""
        kept = (
            "The stack records it as it is (`pulumi refresh` reads it again)"
            if recorded
            else "Nothing was recorded in the stack"
        )
        again = f"{kept}, so the next `pulumi up` runs the workflow again"
        if self.may_still_run:
            if cancelled is None:
                overlap = (
                    f" and was not cancelled. {kept}: the next `pulumi up` takes this execution over while it still "
                    "runs (and waits for it again), and runs the workflow again once it has ended"
                )
            else:
                overlap = f". {cancelled}. {again}"
        if self.outcome is WaitOutcome.STILL_RUNNING:
            if self.execution is None:
                seen = f"its status could not be read (last error: {self.last_error})"
            elif self.last_error:
                seen = f"it was {self.execution.status} at the last read that worked (then: {self.last_error})"
            else:
                seen = f"it is still {self.execution.status}"
            return (
                f"Gave up waiting for execution {self.execution_id} of {what} after {self.timeout:g} s "
                f"({self.limit}): {seen}{overlap}, or raise {self.limit}."
            )
        if self.outcome is WaitOutcome.REFUSED:
            meaning = _REFUSAL_MEANING.get(self.refused_status or 0, "CDF will not show this execution")
            return (
                f"Stopped waiting for execution {self.execution_id} of {what}: reading its status failed with "
                f"{self.last_error} ({meaning}). It was started, may still run{overlap}."
            )
        if self.outcome is WaitOutcome.INTERRUPTED:
            why = self.interruption.value if self.interruption else "the deploy was interrupted"
            return (
                f"Stopped waiting for execution {self.execution_id} of {what} after {self.waited_seconds:.0f} s "
                f"because {why}: it may still run and was not cancelled. Nothing could be recorded in the stack; "
                "the next `pulumi up` takes this execution over while it still runs, and runs the workflow again "
                "once it has ended."
            )
        if self.outcome is WaitOutcome.VANISHED:
            return f"Execution {self.execution_id} of {what} disappeared from CDF while waiting for it. {again}."
        assert self.execution is not None
        execution = self.execution
        reason = f": {execution.reason_for_incompletion}" if execution.reason_for_incompletion else ""
        failed = [
            f"{t.external_id} ({t.status}{': ' + t.reason_for_incompletion if t.reason_for_incompletion else ''})"
            for t in execution.executed_tasks
            if t.status in _FAILED_TASK
        ]
        tasks = f" Failed tasks: {', '.join(failed)}." if failed else ""
        return f"Execution {self.execution_id} of {what} ended {execution.status}{reason}.{tasks} {again}."


class ExecutionNotCompleted(ProviderError):
    """Create started an execution, but its wait ended badly: what the stack could record of it (the provider
    plugin records it; the dynamic provider cannot), and the message for either case."""

    def __init__(self, result: WaitResult, what: str, cancelled: str | None) -> None:
        super().__init__(result.message(what, cancelled))
        self.result = result
        self.recorded_message = result.message(what, cancelled, recorded=True)
        self.execution_id = result.execution_id
        # Why the stack records it as failed, in a few words: "ended unsuccessfully: FAILED", "still running: ..."
        why = result.limit if result.outcome is WaitOutcome.STILL_RUNNING else None
        why = why or (result.execution.status if result.execution is not None else "status unknown")
        self.outcome = f"{result.outcome.value}: {why}"
        self.outputs: dict[str, Any] = {}


@dataclass
class ExecutionWaiter:
    """Polls the detailed execution until it leaves RUNNING or `timeout` seconds have passed."""

    client: _ExecutionReader
    execution_id: str
    timeout: float
    report: Callable[[str], None] = lambda _message: None
    schedule: PollSchedule = field(default_factory=PollSchedule)
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    # Why the wait must stop before its time (Ctrl-C, a terminated deploy), or None; `sleep` ends early then.
    interrupted: Callable[[], Interruption | None] = lambda: None
    # The engine's customTimeouts for this call in seconds (the provider plugin gets them), or None.
    engine_timeout: Callable[[], float | None] = lambda: None

    def wait(self) -> WaitResult:
        engine = self.engine_timeout()
        if engine and engine < self.timeout:
            self.timeout, limit = engine, CUSTOM_TIMEOUTS
        else:
            limit = TIMEOUT_SECONDS
        start = self.clock()
        deadline = start + self.timeout
        last: CdfWorkflowExecutionDetailed | None = None
        last_error: str | None = None
        reported_tasks: set[str] = set()
        reads = 0

        def ended(outcome: WaitOutcome, execution: CdfWorkflowExecutionDetailed | None, **why: Any) -> WaitResult:
            return WaitResult(outcome, self.execution_id, execution, self.clock() - start, reads, self.timeout, **why)

        while (remaining := deadline - self.clock()) > 0:
            self.sleep(min(self.schedule.delay(reads, self.clock() - start), remaining))
            if (why := self.interrupted()) is not None:
                return ended(WaitOutcome.INTERRUPTED, last, last_error=last_error, interruption=why)
            reads += 1
            try:
                current = self.client.retrieve_execution(self.execution_id)
            except CdfNotFoundError:
                return ended(WaitOutcome.VANISHED, last)
            except CdfApiError as exc:
                if isinstance(exc, CdfAuthError) or (exc.status is not None and 400 <= exc.status < 500):
                    # The client already renewed the token once: asking again would learn nothing.
                    refusal = f"HTTP {exc.status}: {exc.cdf_message or exc}"
                    return ended(WaitOutcome.REFUSED, last, last_error=refusal, refused_status=exc.status)
                last_error = str(exc)  # a 5xx the client retried already; the execution runs on regardless
                self.report(f"could not read execution {self.execution_id}: {exc}; still waiting")
                continue
            except CdfError as exc:
                # The client already retried; keep waiting, the execution runs on regardless.
                last_error = str(exc)
                self.report(f"could not read execution {self.execution_id}: {exc}; still waiting")
                continue
            last_error = None
            self._report_progress(last, current, reported_tasks, self.clock() - start)
            last = current
            if current.status != CdfWorkflowStatus.RUNNING:
                outcome = WaitOutcome.COMPLETED if current.status == "COMPLETED" else WaitOutcome.ENDED_UNSUCCESSFULLY
                return ended(outcome, current)
        return ended(WaitOutcome.STILL_RUNNING, last, last_error=last_error, limit=limit)

    def _report_progress(
        self,
        previous: CdfWorkflowExecutionDetailed | None,
        current: CdfWorkflowExecutionDetailed,
        reported_tasks: set[str],
        elapsed: float,
    ) -> None:
        for task in current.executed_tasks:
            key = task.id or task.external_id
            if task.status in _FINISHED_TASK and key not in reported_tasks:
                reported_tasks.add(key)
                reason = f": {task.reason_for_incompletion}" if task.reason_for_incompletion else ""
                self.report(f"task {task.external_id} {task.status}{reason}")
        if previous is None or previous.status != current.status:
            self.report(f"execution {current.id} is {current.status} after {elapsed:.0f} s")


def _bounded_output(output: dict[str, Any] | None) -> Any:
    if output is None:
        return None
    size = len(json.dumps(output, separators=(",", ":"), default=str).encode())
    if size <= TASK_OUTPUT_LIMIT_BYTES:
        return output
    return {"truncated": True, "bytes": size, "limit": TASK_OUTPUT_LIMIT_BYTES}


def compact_tasks(tasks: Sequence[CdfWorkflowTaskExecution]) -> list[dict[str, Any]]:
    """Task results small enough for stack state: identity, status, times, reason and a bounded output."""
    return [
        {
            "external_id": t.external_id,
            "status": t.status,
            "task_type": t.task_type,
            "start_time": t.start_time,
            "end_time": t.end_time,
            "reason_for_incompletion": t.reason_for_incompletion,
            "output": _bounded_output(t.output),
        }
        for t in tasks
    ]
