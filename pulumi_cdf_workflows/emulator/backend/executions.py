"""Workflow executions: run, retrieve, list, cancel, retry and task update, and the queue that a workflow's
`maxConcurrentExecutions` puts runs in. How a running execution moves through its tasks is runner.py's job.
"""

from __future__ import annotations

import copy
import itertools
import uuid
from collections import Counter
from typing import Any

from pulumi_cdf_workflows.emulator.backend.runner import Runner
from pulumi_cdf_workflows.emulator.backend.sessions import Sessions
from pulumi_cdf_workflows.emulator.backend.shared import Shared
from pulumi_cdf_workflows.emulator.backend.workflows import Workflows
from pulumi_cdf_workflows.emulator.exceptions import BadRequest, Conflict, NotFound
from pulumi_cdf_workflows.emulator.models import (
    RETRYABLE_EXECUTION,
    RETRYABLE_TASK,
    Execution,
    TaskExecution,
    WorkflowVersion,
)
from pulumi_cdf_workflows.emulator.queries import ExecutionFilter, page_after
from pulumi_cdf_workflows.emulator.validation import MAX_LIST_LIMIT


class Executions:
    def __init__(self, shared: Shared, workflows: Workflows, sessions: Sessions, runner: Runner) -> None:
        self._shared = shared
        self._workflows = workflows
        self._sessions = sessions
        self._runner = runner
        # A test control: CDF may answer a list with fewer items than asked for, and a cursor; with this set,
        # the executions list never answers more than this many per page.
        self.page_size: int | None = None
        self.reset()

    def reset(self) -> None:
        self._executions: dict[str, Execution] = {}
        self._timed: dict[str, Execution] = {}  # those whose current task has an end time (execution.due)
        self._seq = 0
        self._tickets = itertools.count(1)

    def run(
        self, project: str, xid: str, version: str, nonce: str, input: dict[str, Any] | None, metadata: dict[str, str]
    ) -> Execution:
        """Runs a version on the session of `nonce`, which the run binds."""
        with self._shared.lock, self._shared.instant():
            found = self._workflows.get_version(project, xid, version)
            session = self._sessions.claim(project, nonce)
            execution = self.launch(project, found, input, metadata)
            self._sessions.bind_execution(session, execution.id)
            return execution

    def launch(
        self, project: str, version: WorkflowVersion, run_input: dict[str, Any] | None, metadata: dict[str, str]
    ) -> Execution:
        """Creates a RUNNING execution of `version`: it starts now if its workflow has a free slot, else it queues."""
        with self._shared.lock, self._shared.instant():
            self._seq += 1
            execution = Execution(
                id=str(uuid.uuid4()),
                project=project,
                workflow_external_id=version.workflow_external_id,
                version=version.version,
                definition=version.definition_json(),
                input=copy.deepcopy(run_input),
                metadata=dict(metadata),
                seq=self._seq,
                created_time=self._shared.now_ms(),
                ticket=next(self._tickets),
            )
            self._executions[execution.id] = execution
            self.admit(project, version.workflow_external_id)
            return execution

    def find(self, project: str, execution_id: str) -> Execution | None:
        with self._shared.lock:
            execution = self._executions.get(execution_id)
        return execution if execution is not None and execution.project == project else None

    def get(self, project: str, execution_id: str) -> Execution:
        execution = self.find(project, execution_id)
        if execution is None:
            raise NotFound(f"Workflow execution {execution_id} not found", missing=[{"id": execution_id}])
        return execution

    def find_task(self, project: str, task_id: str) -> tuple[Execution, TaskExecution] | None:
        """The execution that ran a task, with the task (by its server-generated id)."""
        with self._shared.lock:
            return next(
                ((e, t) for e in self._executions.values() if e.project == project for t in e.tasks if t.id == task_id),
                None,
            )

    def list_executions(
        self, project: str, wanted: ExecutionFilter, limit: int, cursor: str | None
    ) -> tuple[list[Execution], str | None]:
        """Newest first; the cursor remembers the last (createdTime, seq), so new runs do not shift pages."""
        limit = min(limit, self.page_size or MAX_LIST_LIMIT)
        with self._shared.lock:
            items = [
                e
                for e in self._executions.values()
                if e.project == project and wanted.matches(e.workflow_external_id, e.version, e.created_time, e.status)
            ]
        items.sort(key=lambda e: (e.created_time, e.seq), reverse=True)
        return page_after(items, lambda e: [e.created_time, e.seq], limit, cursor)

    def cancel(self, project: str, execution_id: str, reason: str) -> Execution:
        with self._shared.lock, self._shared.instant():
            execution = self.get(project, execution_id)
            if execution.status != "RUNNING":
                raise Conflict(
                    f"Cannot cancel workflow execution {execution_id}: it has already finished "
                    f"with status {execution.status}"
                )
            self._runner.cancel(execution, reason)
            self._settle(execution)
            return execution

    def retry(self, project: str, execution_id: str, nonce: str) -> Execution:
        """Runs a FAILED, TIMED_OUT or TERMINATED execution again: its failed, cancelled or timed-out tasks rerun,
        tasks that never started run for the first time, completed ones are kept."""
        with self._shared.lock, self._shared.instant():
            execution = self.get(project, execution_id)
            if execution.status not in RETRYABLE_EXECUTION:
                raise Conflict(
                    f"Cannot retry workflow execution {execution_id} with status {execution.status}: "
                    "only FAILED, TIMED_OUT or TERMINATED executions can be retried"
                )
            session = self._sessions.claim(project, nonce)
            self._sessions.bind_execution(session, execution.id)
            execution.tasks = [t for t in execution.tasks if t.status not in RETRYABLE_TASK]
            execution.status, execution.end_time, execution.reason = "RUNNING", None, None
            execution.plan, execution.due, execution.awaits_update = None, None, False
            # A retried execution queues again for a slot, behind those already waiting.
            execution.admitted, execution.ticket = False, next(self._tickets)
            self.admit(project, execution.workflow_external_id)
            return execution

    def update_task(self, project: str, task_id: str, status: str, output: dict[str, Any] | None) -> TaskExecution:
        """Ends an in-progress function task that has isAsyncComplete: true; its output goes under `response`."""
        with self._shared.lock, self._shared.instant():
            found = self.find_task(project, task_id)
            if found is None:
                raise NotFound(f"Task execution {task_id} not found", missing=[{"id": task_id}])
            execution, task = found
            if not task.async_complete:
                raise BadRequest(f"Task {task.external_id!r} is not a function task with isAsyncComplete: true")
            if task.status != "IN_PROGRESS":
                raise Conflict(f"Task {task.external_id!r} is not in progress (status {task.status})")
            merged = {**task.output, **({"response": output} if output is not None else {})}
            reason = None if status == "COMPLETED" else "Task failed by an asynchronous task update"
            task.finish(status, self._shared.now_ms(), reason, merged)
            self._runner.task_updated(execution)
            self._settle(execution)
            return task

    def running(self, project: str, xids: list[str]) -> Counter[str]:
        """How many executions of each of these workflows run, queued ones included (they have not finished)."""
        with self._shared.lock:
            return Counter(
                e.workflow_external_id
                for e in self._executions.values()
                if e.project == project and e.status == "RUNNING" and e.workflow_external_id in xids
            )

    def admit(self, project: str, xid: str) -> None:
        """Gives free slots of the workflow's maxConcurrentExecutions to waiting executions, first come first, and
        starts them. Called whenever a slot may have freed or been added: a run, an end, a retry, a workflow upsert.
        """
        with self._shared.lock, self._shared.instant():
            workflow = self._workflows.find(project, xid)
            limit = workflow.max_concurrent_executions if workflow is not None else None
            running = [
                e
                for e in self._executions.values()
                if e.project == project and e.workflow_external_id == xid and e.status == "RUNNING"
            ]
            free = len(running) if limit is None else limit - sum(e.admitted for e in running)
            waiting = sorted((e for e in running if not e.admitted), key=lambda e: e.ticket)
            for execution in waiting[: max(free, 0)]:
                execution.admitted, execution.start_time = True, self._shared.now_ms()
                self._runner.begin(execution)
                self._track(execution)

    # ----- the clock's side (scheduler.py)

    def next_due(self) -> tuple[int, Execution] | None:
        """(end time, execution) of the running task whose time is up first (ties: the older run first)."""
        with self._shared.lock:
            timed = [(e.due, e.seq, e) for e in self._timed.values() if e.due is not None]
        if not timed:
            return None
        due, _, execution = min(timed, key=lambda t: (t[0], t[1]))
        return due, execution

    def step(self, execution: Execution) -> None:
        """Its current task's time is up (the clock stands at `execution.due`)."""
        with self._shared.lock, self._shared.instant():
            self._runner.step(execution)
            self._settle(execution)

    def shift(self, ms: int) -> None:
        """The clock was set `ms` away: every running task keeps the time it had left."""
        with self._shared.lock:
            for execution in self._timed.values():
                execution.due = (execution.due or 0) + ms

    def views(self, project: str | None = None) -> list[dict[str, Any]]:
        """Every execution in detail, with its project, oldest first (for test assertions)."""
        with self._shared.lock:
            ordered = sorted(self._executions.values(), key=lambda e: e.seq)
            return [{**e.to_detailed_json(), "project": e.project} for e in ordered if project in (None, e.project)]

    def _track(self, execution: Execution) -> None:
        if execution.status == "RUNNING" and execution.due is not None:
            self._timed[execution.id] = execution
        else:
            self._timed.pop(execution.id, None)
        self._shared.wake()

    def _settle(self, execution: Execution) -> None:
        """After a change to a running execution: its end time is tracked, and its slot goes on if it ended."""
        self._track(execution)
        if execution.status != "RUNNING":
            self.admit(execution.project, execution.workflow_external_id)
