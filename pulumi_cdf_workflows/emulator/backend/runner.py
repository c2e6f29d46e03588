"""An execution's state machine on the virtual clock: its tasks in `dependsOn` order, each taking its time.

No threads here. `begin` starts an execution that got its slot: its first task starts and `execution.due` is
the clock time that task's time is up; at that time the scheduler calls `step`, which ends the task and starts
the next, until the last ends and the run is COMPLETED. Tests steer runs with `set_outcome`; the task the
outcome targets instead:
- FAILED: fails at its step, and the run with it (unless the task says onFailure: skipTask);
- TIMED_OUT: times out at its step, and the run with it;
- RUN_UNTIL_CANCELLED: has no end time, and runs until a cancel.
A function task with isAsyncComplete: true, once it has had its time, waits for its task update.
"""

from __future__ import annotations

import uuid
from typing import Any

from pulumi_cdf_workflows.emulator.backend.shared import Shared
from pulumi_cdf_workflows.emulator.definitions import topological_order
from pulumi_cdf_workflows.emulator.exceptions import BadRequest
from pulumi_cdf_workflows.emulator.models import (
    OUTCOMES,
    RETRYABLE_TASK,
    Execution,
    Outcome,
    OutcomeSpec,
    Plan,
    TaskExecution,
)
from pulumi_cdf_workflows.emulator.references import resolve_references


class Runner:
    def __init__(self, shared: Shared, task_duration: float) -> None:
        self._shared = shared
        self.task_duration = task_duration  # seconds per task, unless an outcome says otherwise
        self.reset()

    def reset(self) -> None:
        self._outcomes: dict[tuple[str, str], OutcomeSpec] = {}
        self._counter = 1000  # ids in task outputs

    def set_outcome(
        self,
        xid: str,
        version: str,
        outcome: Outcome | str = "COMPLETED",
        reason: str | None = None,
        task_duration: float | None = None,
        failed_task: str | None = None,
    ) -> OutcomeSpec:
        """How executions of this workflow version end from now on (in every project), from when they start."""
        if outcome not in OUTCOMES:
            raise BadRequest(f"outcome must be one of {', '.join(OUTCOMES)}, got {outcome!r}")
        if task_duration is not None and task_duration < 0:
            raise BadRequest("taskDuration must be >= 0")
        spec = OutcomeSpec(outcome, reason, task_duration, failed_task)
        with self._shared.lock:
            self._outcomes[(xid, version)] = spec
        return spec

    def begin(self, execution: Execution) -> None:
        """The execution got its slot: fix its plan from the outcome set now, and start its first task."""
        spec = self._outcomes.get((execution.workflow_external_id, execution.version), OutcomeSpec())
        duration = self.task_duration if spec.task_duration is None else spec.task_duration
        ordered = topological_order(execution.definition["tasks"])
        ids = [t["externalId"] for t in ordered]
        target = spec.failed_task if spec.failed_task in ids else None
        if target is None and ids:
            target = ids[0 if spec.outcome == "RUN_UNTIL_CANCELLED" else -1]
        execution.plan = Plan(ordered, spec.outcome, spec.reason, round(duration * 1000), target)
        now = self._shared.now_ms()
        if ordered:
            self._next_task(execution, now)
        else:
            execution.due = now  # nothing to run: it completes at its first step, not in the run's reply

    def step(self, execution: Execution) -> None:
        """The current task's time is up: it ends as the plan says, and the next one starts, both at the time it
        was due (not when the scheduler got to it), so a run's timestamps follow its plan exactly."""
        plan, now = _plan(execution), execution.due
        if now is None:
            raise RuntimeError(f"execution {execution.id} has no task whose time is up")
        execution.due = None
        if not plan.tasks:
            execution.finish("COMPLETED", now)
            return
        task = execution.tasks[-1]  # the one started last
        if task.external_id == plan.target and plan.outcome == "FAILED":
            self._fail(execution, task, "FAILED", plan.reason or f"Task {task.external_id} failed", now)
        elif task.external_id == plan.target and plan.outcome == "TIMED_OUT":
            reason = plan.reason or "Workflow execution timed out"
            task.finish("TIMED_OUT", now, reason)
            execution.finish("TIMED_OUT", now, reason)
        elif task.async_complete:
            execution.awaits_update = True
            self._go_on_after_update(execution, now)  # it may have had its update already
        else:
            task.finish("COMPLETED", now, output=self._task_output(task))
            self._next_task(execution, now)

    def task_updated(self, execution: Execution) -> None:
        """An async task got its update; the execution goes on once the task has also had its time."""
        self._go_on_after_update(execution, self._shared.now_ms())

    def cancel(self, execution: Execution, reason: str) -> None:
        now = self._shared.now_ms()
        for task in execution.tasks:
            if task.status == "IN_PROGRESS":
                task.finish("CANCELED", now, reason)
        execution.finish("TERMINATED", now, reason)
        execution.due, execution.awaits_update = None, False

    def _go_on_after_update(self, execution: Execution, now: int) -> None:
        task = execution.tasks[-1]
        if not execution.awaits_update or task.status == "IN_PROGRESS":
            return
        execution.awaits_update = False
        if task.status == "COMPLETED":
            self._next_task(execution, now)
        else:
            self._fail(execution, task, task.status, task.reason or f"Task {task.external_id} failed", now)

    def _next_task(self, execution: Execution, now: int) -> None:
        """Starts the first task not done yet (a retry keeps completed ones); completes the execution after the last."""
        plan = _plan(execution)
        for definition in plan.tasks:
            previous = execution.task(definition["externalId"])
            if previous is not None and previous.status not in RETRYABLE_TASK:
                continue
            task = self._start_task(execution, definition, now)
            waits = task.external_id == plan.target and plan.outcome == "RUN_UNTIL_CANCELLED"
            execution.due = None if waits else now + plan.duration_ms
            return
        execution.finish("COMPLETED", now)

    def _fail(self, execution: Execution, task: TaskExecution, status: str, reason: str, now: int) -> None:
        """Fails a task; the workflow goes on only if the task says onFailure: skipTask."""
        definition = next(t for t in _plan(execution).tasks if t["externalId"] == task.external_id)
        if definition.get("onFailure") == "skipTask":
            task.finish("COMPLETED_WITH_ERRORS", now, reason)
            self._next_task(execution, now)
            return
        task.finish(status, now, reason)
        execution.finish("FAILED", now, reason)

    def _start_task(self, execution: Execution, definition: dict[str, Any], now: int) -> TaskExecution:
        context: dict[str, Any] = {
            "workflow": {"input": execution.input or {}, "metadata": execution.metadata},
            **{t.external_id: {"input": t.input, "output": t.output} for t in execution.tasks},
        }
        resolved = resolve_references(definition["parameters"], context)
        async_complete = False
        if definition["type"] == "function":
            # Executed tasks spell the flag `asyncComplete`, definitions `isAsyncComplete` (cdf-api.md §3.3).
            async_complete = bool(resolved.pop("isAsyncComplete", False))
            resolved["asyncComplete"] = async_complete
        task = TaskExecution(
            id=str(uuid.uuid4()),
            external_id=definition["externalId"],
            task_type=definition["type"],
            input=resolved,
            start_time=now,
            async_complete=async_complete,
        )
        if async_complete:
            task.output = self._task_output(task)
        execution.tasks.append(task)
        return task

    def _task_output(self, task: TaskExecution) -> dict[str, Any]:
        self._counter += 1
        n = self._counter
        if task.task_type == "function":
            return task.output or {"callId": n, "functionId": n, "response": {}}
        if task.task_type == "transformation":
            return {"jobId": n}
        if task.task_type == "cdf":
            return {"statusCode": 200, "response": {}}
        if task.task_type == "simulation":
            return {"runId": n, "logId": n, "statusMessage": "Success"}
        return {}


def _plan(execution: Execution) -> Plan:
    if execution.plan is None:
        raise RuntimeError(f"execution {execution.id} has not begun: it has no plan")
    return execution.plan
