"""The emulated CDF's backend: executions and test seeding, assembled with auth, workflows, the runner and triggers.

Nothing here knows about HTTP. The parts of `CdfBackend` (auth.py, workflows.py, runner.py, triggers.py) share
the state of store.py under one lock; the plain state objects live in state.py and request validation in
validation.py.
"""

from __future__ import annotations

import re
from typing import Any

from pulumi_cdf_workflows.emulator.auth import AuthBackend
from pulumi_cdf_workflows.emulator.exceptions import BadRequest, Conflict, NotFound
from pulumi_cdf_workflows.emulator.state import (
    EXECUTION_STATUSES,
    MAX_LIST_LIMIT,
    MAX_REASON,
    OUTCOMES,
    RETRYABLE_EXECUTION,
    RETRYABLE_TASK,
    TASK_UPDATE_STATUSES,
    Execution,
    Outcome,
    OutcomeSpec,
    TaskExecution,
    Trigger,
    WorkflowVersion,
    page_after,
)
from pulumi_cdf_workflows.emulator.validation import (
    matches,
    parse_workflow_filters,
    resolve_references,
    validate_identifier,
    validate_limit,
    validate_nonce,
    validate_run_body,
)
from pulumi_cdf_workflows.emulator.workflows import WorkflowBackend

# Re-exported: tests and the server import these from here.
__all__ = ["CdfBackend", "Execution", "Outcome", "OutcomeSpec", "TaskExecution", "resolve_references"]

_UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


class CdfBackend(AuthBackend, WorkflowBackend):
    """All emulated CDF state for every project, plus the execution runners and the trigger scheduler."""

    # ----- seeding and steering (test controls)

    def seed(self, project: str, xid: str, version: str, tasks: list[dict[str, Any]] | None = None) -> WorkflowVersion:
        if tasks is None:
            tasks = [
                {
                    "externalId": "task-1",
                    "type": "cdf",
                    "parameters": {"cdfRequest": {"resourcePath": "/timeseries", "method": "GET"}},
                }
            ]
        self.touch_project(project)
        return self.upsert_versions(
            project, [{"workflowExternalId": xid, "version": version, "workflowDefinition": {"tasks": tasks}}]
        )[0]

    def seed_trigger(
        self,
        project: str,
        xid: str,
        workflow_external_id: str,
        version: str,
        rule: dict[str, Any],
        trigger_input: dict[str, Any] | None = None,
        metadata: dict[str, str] | None = None,
    ) -> Trigger:
        """Upserts a trigger as the API would, with a session made for it (tests skip the nonce dance)."""
        self.touch_project(project)
        with self._lock:
            session = self.create_session(project, [{"tokenExchange": True}])
            item: dict[str, Any] = {
                "externalId": xid,
                "triggerRule": rule,
                "workflowExternalId": workflow_external_id,
                "workflowVersion": version,
                "authentication": {"nonce": session.nonce},
            }
            if trigger_input is not None:
                item["input"] = trigger_input
            if metadata is not None:
                item["metadata"] = metadata
            return self.upsert_triggers(project, [item])[0]

    def set_outcome(
        self,
        xid: str,
        version: str,
        outcome: str = "COMPLETED",
        reason: str | None = None,
        task_duration: float | None = None,
        failed_task: str | None = None,
    ) -> OutcomeSpec:
        if outcome not in OUTCOMES:
            raise BadRequest(f"outcome must be one of {', '.join(OUTCOMES)}, got {outcome!r}")
        if task_duration is not None and task_duration < 0:
            raise BadRequest("taskDuration must be >= 0")
        spec = OutcomeSpec(outcome, reason, task_duration, failed_task)
        with self._lock:
            self._outcomes[(xid, version)] = spec
        return spec

    # ----- executions

    def run(self, project: str, xid: str, version: str, body: Any) -> Execution:
        validate_identifier(xid, "workflowExternalId")
        validate_identifier(version, "version")
        nonce, run_input, metadata = validate_run_body(body)
        with self._lock:
            found = self.get_version(project, xid, version)
            session = self._check_nonce(project, nonce)
            execution = self._launch(project, found, run_input, metadata)
            session.bound_execution = execution.id
            session.status = "ACTIVE"
            return execution

    def get_execution(self, project: str | None, execution_id: str) -> Execution:
        if not _UUID_RE.match(execution_id):
            raise BadRequest(f"Invalid execution id {execution_id[:80]!r}: must be a UUID")
        with self._lock:
            execution = self._executions.get(execution_id)
        if execution is None or (project is not None and execution.project != project):
            raise NotFound(f"Workflow execution {execution_id} not found", missing=[{"id": execution_id}])
        return execution

    def list_executions(self, project: str, body: Any) -> tuple[list[dict[str, Any]], str | None]:
        if body is None:
            body = {}
        if not isinstance(body, dict):
            raise BadRequest("Request body must be a JSON object")
        flt = body.get("filter") or {}
        if not isinstance(flt, dict):
            raise BadRequest("filter must be an object")
        wanted = parse_workflow_filters(flt.get("workflowFilters"))
        start, end = flt.get("createdTimeStart"), flt.get("createdTimeEnd")
        for name, value in (("createdTimeStart", start), ("createdTimeEnd", end)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
                raise BadRequest(f"{name} must be epoch milliseconds (integer)")
        statuses = flt.get("status")
        if statuses is not None and (
            not isinstance(statuses, list) or any(s not in EXECUTION_STATUSES for s in statuses)
        ):
            raise BadRequest(f"status must be a list of {', '.join(sorted(EXECUTION_STATUSES))}")
        limit = min(validate_limit(body.get("limit")), self.page_size or MAX_LIST_LIMIT)
        with self._lock:
            items = [
                e
                for e in self._executions.values()
                if e.project == project
                and matches(wanted, e.workflow_external_id, e.version)
                and (start is None or e.created_time >= start)
                and (end is None or e.created_time <= end)
                and (statuses is None or e.status in statuses)
            ]
            # Newest first; the cursor remembers the last (createdTime, seq) so new runs do not shift pages.
            items.sort(key=lambda e: (e.created_time, e.seq), reverse=True)
            page, next_cursor = page_after(items, lambda e: [e.created_time, e.seq], limit, body.get("cursor"))
            return [e.to_json() for e in page], next_cursor

    def cancel(self, project: str, execution_id: str, body: Any) -> Execution:
        reason = "cancelled"
        if body is not None:
            if not isinstance(body, dict):
                raise BadRequest("Request body must be a JSON object")
            given = body.get("reason")
            if given is not None:
                if not isinstance(given, str) or len(given) > MAX_REASON:
                    raise BadRequest(f"reason must be a string of at most {MAX_REASON} characters")
                reason = given or reason
        with self._lock:
            execution = self.get_execution(project, execution_id)
            if execution.status != "RUNNING":
                raise Conflict(
                    f"Cannot cancel workflow execution {execution_id}: it has already finished "
                    f"with status {execution.status}"
                )
            now = self.now_ms()
            for task in execution.tasks:
                if task.status == "IN_PROGRESS":
                    task.finish("CANCELED", now, reason)
            execution.finish("TERMINATED", now, reason)
            self._changed.notify_all()
            self._admit(project, execution.workflow_external_id)
            return execution

    def retry(self, project: str, execution_id: str, body: Any) -> Execution:
        if not isinstance(body, dict):
            raise BadRequest("Request body must be a JSON object with authentication.nonce")
        nonce = validate_nonce(body)
        with self._lock:
            execution = self.get_execution(project, execution_id)
            if execution.status not in RETRYABLE_EXECUTION:
                raise Conflict(
                    f"Cannot retry workflow execution {execution_id} with status {execution.status}: "
                    "only FAILED, TIMED_OUT or TERMINATED executions can be retried"
                )
            session = self._check_nonce(project, nonce)
            session.bound_execution = execution.id
            session.status = "ACTIVE"
            # Failed/cancelled/timed-out tasks run again; tasks that never started run for the first time.
            execution.tasks = [t for t in execution.tasks if t.status not in RETRYABLE_TASK]
            execution.status, execution.end_time, execution.reason = "RUNNING", None, None
            execution.generation += 1
            # A retried execution queues again for a slot, behind those already waiting.
            execution.admitted, execution.ticket = False, next(self._tickets)
            self._admit(project, execution.workflow_external_id)
            self._start_runner(execution)
            self._changed.notify_all()
            return execution

    def update_task(self, project: str, task_id: str, body: Any) -> TaskExecution:
        if not isinstance(body, dict):
            raise BadRequest("Request body must be a JSON object")
        status = body.get("status")
        if status not in TASK_UPDATE_STATUSES:
            raise BadRequest(f"status must be one of {', '.join(sorted(TASK_UPDATE_STATUSES))}, got {status!r}")
        output = body.get("output")
        if output is not None and not isinstance(output, dict):
            raise BadRequest("output must be an object")
        with self._lock:
            task = next(
                (t for e in self._executions.values() if e.project == project for t in e.tasks if t.id == task_id),
                None,
            )
            if task is None:
                raise NotFound(f"Task execution {task_id} not found", missing=[{"id": task_id}])
            if not task.async_complete:
                raise BadRequest(f"Task {task.external_id!r} is not a function task with isAsyncComplete: true")
            if task.status != "IN_PROGRESS":
                raise Conflict(f"Task {task.external_id!r} is not in progress (status {task.status})")
            merged = {**task.output, **({"response": output} if output is not None else {})}
            reason = None if status == "COMPLETED" else "Task failed by an asynchronous task update"
            task.finish(status, self.now_ms(), reason, merged)
            self._changed.notify_all()
            return task

    def executions(self, project: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            ordered = sorted(self._executions.values(), key=lambda e: e.seq)
            return [
                {**e.to_detailed_json(), "project": e.project}
                for e in ordered
                if project is None or e.project == project
            ]
