"""Runs executions in threads: tasks in dependency order, steered by `OutcomeSpec`, queued for a slot under
the workflow's `maxConcurrentExecutions`.
"""

from __future__ import annotations

import copy
import threading
import uuid
from collections.abc import Callable
from typing import Any

from pulumi_cdf_workflows.emulator.definitions import topological_order
from pulumi_cdf_workflows.emulator.state import RETRYABLE_TASK, Execution, OutcomeSpec, TaskExecution, WorkflowVersion
from pulumi_cdf_workflows.emulator.store import BackendState
from pulumi_cdf_workflows.emulator.validation import resolve_references


class ExecutionRunner(BackendState):
    """Starts executions and runs each in its own thread, under the backend lock except while waiting."""

    def _launch(
        self, project: str, version: WorkflowVersion, run_input: dict[str, Any] | None, metadata: dict[str, str]
    ) -> Execution:
        """Creates a RUNNING execution of `version` and starts its runner; it waits there for a slot."""
        self._seq += 1
        now = self.now_ms()
        execution = Execution(
            id=str(uuid.uuid4()),
            project=project,
            workflow_external_id=version.workflow_external_id,
            version=version.version,
            definition=version.definition_json(),
            input=copy.deepcopy(run_input),
            metadata=dict(metadata),
            seq=self._seq,
            created_time=now,
            ticket=next(self._tickets),
        )
        self._executions[execution.id] = execution
        self._admit(project, version.workflow_external_id)
        self._start_runner(execution)
        return execution

    def _admit(self, project: str, xid: str) -> None:
        """Gives free slots of the workflow's maxConcurrentExecutions to waiting executions, first come first.

        Called whenever a slot may have freed or been added: a run, an end, a cancel, a retry, a workflow upsert.
        """
        workflow = self._workflows.get((project, xid))
        limit = workflow.max_concurrent_executions if workflow is not None else None
        running = [
            e
            for e in self._executions.values()
            if e.project == project and e.workflow_external_id == xid and e.status == "RUNNING"
        ]
        free = len(running) if limit is None else limit - sum(e.admitted for e in running)
        waiting = sorted((e for e in running if not e.admitted), key=lambda e: e.ticket)
        if free <= 0 or not waiting:
            return
        now = self.now_ms()
        for execution in waiting[:free]:
            execution.admitted = True
            execution.start_time = now
        self._changed.notify_all()

    def _start_runner(self, execution: Execution) -> None:
        if self._stopped:
            return
        thread = threading.Thread(
            target=self._run_execution,
            args=(execution, execution.generation),
            name=f"cdf-emulator-execution-{execution.id[:8]}",
            daemon=True,
        )
        self._threads.add(thread)
        thread.start()

    def _alive(self, execution: Execution, generation: int) -> bool:
        return not self._stopped and execution.generation == generation and execution.status == "RUNNING"

    def _wait(
        self,
        execution: Execution,
        generation: int,
        seconds: float | None,
        until: Callable[[], bool] = lambda: False,
    ) -> bool:
        """Waits `seconds` (None: forever), until cancelled/stale or until `until()`; True if still alive."""
        self._changed.wait_for(lambda: not self._alive(execution, generation) or until(), timeout=seconds)
        return self._alive(execution, generation)

    def _run_execution(self, execution: Execution, generation: int) -> None:
        try:
            with self._lock:
                self._run_tasks(execution, generation)
        finally:
            with self._lock:
                self._threads.discard(threading.current_thread())
                # Whatever ended it (tasks, cancel, a newer attempt), its slot may now go to the next in line.
                self._admit(execution.project, execution.workflow_external_id)

    def _run_tasks(self, execution: Execution, generation: int) -> None:
        if not self._wait(execution, generation, None, until=lambda: execution.admitted):
            return  # ended while it waited for a slot
        spec = self._outcomes.get((execution.workflow_external_id, execution.version), OutcomeSpec())
        duration = self.task_duration if spec.task_duration is None else spec.task_duration
        ordered = topological_order(execution.definition["tasks"])
        if not ordered:
            if self._alive(execution, generation):
                execution.finish("COMPLETED", self.now_ms())
            return
        target_xid = spec.failed_task if spec.failed_task in {t["externalId"] for t in ordered} else None
        if target_xid is None:
            target_xid = ordered[0 if spec.outcome == "RUN_UNTIL_CANCELLED" else -1]["externalId"]
        for definition in ordered:
            if not self._alive(execution, generation):
                return  # cancelled, retried (a newer runner owns it), reset or shut down
            xid = definition["externalId"]
            previous = execution.task(xid)
            if previous is not None and previous.status not in RETRYABLE_TASK:
                continue  # finished in an earlier attempt (retry keeps completed tasks)
            task = self._start_task(execution, definition)
            execution.tasks.append(task)
            is_target = xid == target_xid
            if is_target and spec.outcome == "RUN_UNTIL_CANCELLED":
                self._wait(execution, generation, None)
                return
            if not self._wait(execution, generation, duration):
                return
            if is_target and spec.outcome == "FAILED":
                reason = spec.reason or f"Task {xid} failed"
                if not self._fail_task(execution, task, definition, "FAILED", reason):
                    return
                continue
            if is_target and spec.outcome == "TIMED_OUT":
                reason = spec.reason or "Workflow execution timed out"
                task.finish("TIMED_OUT", self.now_ms(), reason)
                execution.finish("TIMED_OUT", self.now_ms(), reason)
                return
            if task.async_complete:
                if not self._wait(execution, generation, None, until=_still_in_progress(task)):
                    return
                if task.status != "COMPLETED" and not self._fail_task(
                    execution, task, definition, task.status, task.reason or f"Task {xid} failed"
                ):
                    return
                continue
            task.finish("COMPLETED", self.now_ms(), output=self._task_output(task))
        execution.finish("COMPLETED", self.now_ms())

    def _fail_task(
        self, execution: Execution, task: TaskExecution, definition: dict[str, Any], status: str, reason: str
    ) -> bool:
        """Fails a task; returns True if the workflow goes on (onFailure: skipTask)."""
        if definition.get("onFailure") == "skipTask":
            task.finish("COMPLETED_WITH_ERRORS", self.now_ms(), reason)
            return True
        task.finish(status, self.now_ms(), reason)
        execution.finish("FAILED", self.now_ms(), reason)
        return False

    def _start_task(self, execution: Execution, definition: dict[str, Any]) -> TaskExecution:
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
            start_time=self.now_ms(),
            async_complete=async_complete,
        )
        if async_complete:
            task.output = self._task_output(task)
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


def _still_in_progress(task: TaskExecution) -> Callable[[], bool]:
    return lambda: task.status != "IN_PROGRESS"
