"""The emulated CDF's objects: plain data with their JSON views, no HTTP, no locking, no rules.

The backend (backend/) holds them and applies CDF's rules; the wire layer (responses.py) sends their JSON views.
"""

from __future__ import annotations

import copy
import hashlib
import json
import uuid
from dataclasses import dataclass, field
from typing import Any, Literal

Outcome = Literal["COMPLETED", "FAILED", "TIMED_OUT", "RUN_UNTIL_CANCELLED"]
OUTCOMES: tuple[str, ...] = ("COMPLETED", "FAILED", "TIMED_OUT", "RUN_UNTIL_CANCELLED")

TERMINAL_EXECUTION = frozenset({"COMPLETED", "FAILED", "TIMED_OUT", "TERMINATED"})
RETRYABLE_EXECUTION = frozenset({"FAILED", "TIMED_OUT", "TERMINATED"})
RETRYABLE_TASK = frozenset({"CANCELED", "FAILED", "FAILED_WITH_TERMINAL_ERROR", "TIMED_OUT"})
TASK_UPDATE_STATUSES = frozenset({"COMPLETED", "FAILED", "FAILED_WITH_TERMINAL_ERROR"})
EXECUTION_STATUSES = frozenset({"RUNNING", *TERMINAL_EXECUTION})
SESSION_STATUSES = ("READY", "ACTIVE", "CANCELLED", "EXPIRED", "REVOKED", "ACCESS_LOST")  # [SDK SessionStatus]


@dataclass(frozen=True)
class WorkflowFields:
    """What a workflow upsert writes; fields left out are cleared."""

    external_id: str
    description: str | None = None
    data_set_id: int | None = None
    max_concurrent_executions: int | None = None


@dataclass(frozen=True)
class TriggerFields:
    """What a trigger upsert writes, and the nonce whose session it binds."""

    external_id: str
    workflow_external_id: str
    workflow_version: str
    rule: dict[str, Any]  # validated, as stored (trigger_rules.py)
    nonce: str
    input: dict[str, Any] | None = None
    metadata: dict[str, str] | None = None


@dataclass
class AccessToken:
    token: str
    client_id: str
    expires_at: float  # the backend's monotonic clock
    revoked: bool = False


@dataclass
class Session:
    id: int
    project: str
    type: str
    nonce: str
    nonce_expires_at: float  # the backend's monotonic clock
    creation_time: int
    # guess: what CDF shows as a session's expirationTime ("updated on refreshing a token" [SDK Session]) is not
    # documented; the emulator shows when the nonce stops being bindable (creationTime + the nonce lifetime).
    expiration_time: int = 0
    client_id: str | None = None
    status: str = "READY"
    bound_execution: str | None = None
    bound_trigger: str | None = None  # a trigger's nonce binds it instead of an execution

    @property
    def bound(self) -> bool:
        return self.bound_execution is not None or self.bound_trigger is not None

    def created_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "type": self.type, "status": self.status, "nonce": self.nonce}
        if self.client_id is not None:
            data["clientId"] = self.client_id
        return data

    def to_json(self) -> dict[str, Any]:
        """The API's Session view (list, byids, revoke): never the nonce [SDK Session / RevokedSession]."""
        data: dict[str, Any] = {
            "id": self.id,
            "type": self.type,
            "status": self.status,
            "creationTime": self.creation_time,
            "expirationTime": self.expiration_time,
        }
        if self.client_id is not None:
            data["clientId"] = self.client_id
        return data

    def public_json(self) -> dict[str, Any]:
        # Never the nonce: this view is for test assertions and logs.
        data: dict[str, Any] = {"project": self.project, **self.to_json()}
        if self.bound_execution is not None:
            data["boundExecutionId"] = self.bound_execution
        if self.bound_trigger is not None:
            data["boundTriggerExternalId"] = self.bound_trigger
        return data


@dataclass
class Workflow:
    external_id: str
    created_time: int
    last_updated_time: int
    description: str | None = None
    data_set_id: int | None = None
    max_concurrent_executions: int | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "externalId": self.external_id,
            "createdTime": self.created_time,
            "lastUpdatedTime": self.last_updated_time,
        }
        if self.description is not None:
            data["description"] = self.description
        if self.data_set_id is not None:
            data["dataSetId"] = self.data_set_id
        if self.max_concurrent_executions is not None:
            data["maxConcurrentExecutions"] = self.max_concurrent_executions
        return data


@dataclass
class WorkflowVersion:
    workflow_external_id: str
    version: str
    tasks: list[dict[str, Any]]
    created_time: int
    last_updated_time: int
    description: str | None = None

    @property
    def hash(self) -> str:
        canonical = json.dumps({"description": self.description, "tasks": self.tasks}, sort_keys=True)
        return hashlib.sha256(canonical.encode()).hexdigest().upper()

    def definition_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"hash": self.hash, "tasks": copy.deepcopy(self.tasks)}
        if self.description is not None:
            data["description"] = self.description
        return data

    def to_json(self) -> dict[str, Any]:
        return {
            "workflowExternalId": self.workflow_external_id,
            "version": self.version,
            "workflowDefinition": self.definition_json(),
            "createdTime": self.created_time,
            "lastUpdatedTime": self.last_updated_time,
        }


@dataclass
class OutcomeSpec:
    """How executions of one workflow version end (steered by tests)."""

    outcome: str = "COMPLETED"
    reason: str | None = None
    task_duration: float | None = None
    failed_task: str | None = None


@dataclass
class Plan:
    """How one attempt of an execution runs, fixed when it gets its slot (from the outcome a test set then)."""

    tasks: list[dict[str, Any]]  # the definition's tasks in dependsOn order
    outcome: str
    reason: str | None
    duration_ms: int  # each task's time
    target: str | None  # the task the outcome hits (None: no tasks)


@dataclass
class TaskExecution:
    id: str
    external_id: str
    task_type: str
    input: dict[str, Any]
    start_time: int
    status: str = "IN_PROGRESS"
    output: dict[str, Any] = field(default_factory=dict)
    end_time: int | None = None
    reason: str | None = None
    async_complete: bool = False

    def finish(self, status: str, at: int, reason: str | None = None, output: dict[str, Any] | None = None) -> None:
        self.status = status
        self.end_time = at
        if reason is not None:
            self.reason = reason
        if output is not None:
            self.output = output

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id,
            "externalId": self.external_id,
            "status": self.status,
            "taskType": self.task_type,
            "input": copy.deepcopy(self.input),
            "output": copy.deepcopy(self.output),
            "startTime": self.start_time,
        }
        if self.end_time is not None:
            data["endTime"] = self.end_time
        if self.reason is not None:
            data["reasonForIncompletion"] = self.reason
        return data


@dataclass
class Execution:
    id: str
    project: str
    workflow_external_id: str
    version: str
    definition: dict[str, Any]  # snapshot {hash, description?, tasks} taken at run time
    input: dict[str, Any] | None
    metadata: dict[str, str]
    seq: int
    created_time: int
    engine_execution_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    status: str = "RUNNING"
    start_time: int | None = None  # set when it gets a slot under maxConcurrentExecutions
    end_time: int | None = None
    reason: str | None = None
    tasks: list[TaskExecution] = field(default_factory=list)
    admitted: bool = False  # holds one of the workflow's maxConcurrentExecutions slots
    ticket: int = 0  # queue position for a slot: taken at run and again at retry
    plan: Plan | None = None  # how this attempt runs; set when it gets its slot
    due: int | None = None  # clock time (epoch ms) its current task's time is up; None: waits for something else
    awaits_update: bool = False  # its async task has had its time and waits for a task update

    def finish(self, status: str, at: int, reason: str | None = None) -> None:
        self.status = status
        self.end_time = at
        self.reason = reason

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id,
            "workflowExternalId": self.workflow_external_id,
            "version": self.version,
            "status": self.status,
            "engineExecutionId": self.engine_execution_id,
            "createdTime": self.created_time,
            "metadata": dict(self.metadata),
        }
        if self.start_time is not None:
            data["startTime"] = self.start_time
        if self.end_time is not None:
            data["endTime"] = self.end_time
        if self.reason is not None:
            data["reasonForIncompletion"] = self.reason
        return data

    def to_detailed_json(self) -> dict[str, Any]:
        data = self.to_json()
        data["workflowDefinition"] = copy.deepcopy(self.definition)
        data["executedTasks"] = [t.to_json() for t in self.tasks]
        data["input"] = copy.deepcopy(self.input) if self.input is not None else {}
        return data

    def task(self, external_id: str) -> TaskExecution | None:
        return next((t for t in self.tasks if t.external_id == external_id), None)


@dataclass
class TriggerRun:
    """One firing of a trigger, as its history lists it."""

    project: str  # not in the API's view: the test controls add it
    fire_time: int
    external_id: str
    workflow_external_id: str
    workflow_version: str
    seq: int
    execution_id: str | None = None
    reason: str | None = None  # set when the firing could not start an execution

    def to_json(self) -> dict[str, Any]:
        return {
            "fireTime": self.fire_time,
            "externalId": self.external_id,
            "workflowExternalId": self.workflow_external_id,
            "workflowVersion": self.workflow_version,
            "workflowExecutionId": self.execution_id,
            "status": "failed" if self.reason is not None else "success",
            "reasonForFailure": self.reason,
        }

    def fired_json(self) -> dict[str, Any]:
        """What `advance_time` and `add_trigger_matches` return for a firing: its history item and its project."""
        return {**self.to_json(), "project": self.project}


@dataclass
class Trigger:
    project: str
    external_id: str
    rule: dict[str, Any]  # as stored and returned: a schedule rule has its timezone filled
    workflow_external_id: str
    workflow_version: str
    created_time: int
    last_updated_time: int
    session_id: int  # the session its nonce bound; never shown
    input: dict[str, Any] | None = None
    metadata: dict[str, str] | None = None
    is_paused: bool = False
    checked_until: int = 0  # schedule occurrences up to this time (epoch ms) are fired or skipped
    queued: list[tuple[int, dict[str, Any]]] = field(default_factory=list)  # batch rules: (queued at, match)
    runs: list[TriggerRun] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        # Never the authentication: the API does not return it.
        data: dict[str, Any] = {
            "externalId": self.external_id,
            "triggerRule": copy.deepcopy(self.rule),
            "workflowExternalId": self.workflow_external_id,
            "workflowVersion": self.workflow_version,
            "createdTime": self.created_time,
            "lastUpdatedTime": self.last_updated_time,
            "isPaused": self.is_paused,
        }
        if self.input is not None:
            data["input"] = copy.deepcopy(self.input)
        if self.metadata is not None:
            data["metadata"] = dict(self.metadata)
        return data
