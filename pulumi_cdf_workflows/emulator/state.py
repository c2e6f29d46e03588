"""The emulated CDF's state objects (plain data, no HTTP, no locking), its virtual clock and list cursors."""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from pulumi_cdf_workflows.emulator.exceptions import BadRequest

Outcome = Literal["COMPLETED", "FAILED", "TIMED_OUT", "RUN_UNTIL_CANCELLED"]
OUTCOMES: tuple[str, ...] = ("COMPLETED", "FAILED", "TIMED_OUT", "RUN_UNTIL_CANCELLED")

TERMINAL_EXECUTION = frozenset({"COMPLETED", "FAILED", "TIMED_OUT", "TERMINATED"})
RETRYABLE_EXECUTION = frozenset({"FAILED", "TIMED_OUT", "TERMINATED"})
RETRYABLE_TASK = frozenset({"CANCELED", "FAILED", "FAILED_WITH_TERMINAL_ERROR", "TIMED_OUT"})
TASK_UPDATE_STATUSES = frozenset({"COMPLETED", "FAILED", "FAILED_WITH_TERMINAL_ERROR"})
EXECUTION_STATUSES = frozenset({"RUNNING", *TERMINAL_EXECUTION})

MAX_ID_LENGTH = 255
MAX_INPUT_BYTES = 102400
MAX_METADATA_PAIRS = 10
MAX_METADATA_KEY = 32
MAX_METADATA_VALUE = 255
MAX_REASON = 500
MAX_LIST_LIMIT = 1000
DEFAULT_LIST_LIMIT = 100


class Clock:
    """The emulator's wall clock in epoch milliseconds: real time plus an offset that tests move.

    It keeps flowing at real speed, so successive writes still get increasing timestamps; `advance` and
    `set` only shift it. Token and nonce lifetimes do not use it (a jump must not log test clients out).
    """

    def __init__(self, wall: Callable[[], float] = time.time) -> None:
        self._wall = wall
        self._offset_ms = 0

    def _real_ms(self) -> int:
        return int(self._wall() * 1000)

    def now_ms(self) -> int:
        return self._real_ms() + self._offset_ms

    def advance(self, ms: int) -> None:
        if ms < 0:
            raise ValueError("the clock only moves forward")
        self._offset_ms += ms

    def set(self, epoch_ms: int) -> None:
        self._offset_ms = epoch_ms - self._real_ms()

    def reset(self) -> None:
        self._offset_ms = 0


def encode_cursor(payload: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode()


def decode_cursor(cursor: Any) -> Any:
    if not isinstance(cursor, str):
        raise BadRequest("cursor must be a string")
    try:
        return json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, TypeError) as exc:
        raise BadRequest("Invalid cursor") from exc


def paginate(items: list[Any], limit: int, cursor: Any) -> tuple[list[Any], str | None]:
    """Offset pagination behind an opaque cursor, for lists whose order does not shift (sorted ids)."""
    offset = 0 if cursor is None else decode_cursor(cursor)
    if not isinstance(offset, int) or offset < 0:
        raise BadRequest("Invalid cursor")
    page = items[offset : offset + limit]
    more = offset + limit < len(items)
    return page, (encode_cursor(offset + limit) if more else None)


def page_after(
    items: list[Any], key: Callable[[Any], list[int]], limit: int, cursor: Any
) -> tuple[list[Any], str | None]:
    """Keyset pagination over `items` sorted by `key` descending: new items do not shift later pages."""
    if cursor is not None:
        after = decode_cursor(cursor)
        if not (isinstance(after, list) and all(isinstance(x, int) for x in after)):
            raise BadRequest("Invalid cursor")
        items = [i for i in items if key(i) < after]
    page = items[:limit]
    return page, (encode_cursor(key(page[-1])) if len(items) > limit else None)


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
    generation: int = 0  # bumped by retry/reset/shutdown so a stale runner thread stops
    admitted: bool = False  # holds one of the workflow's maxConcurrentExecutions slots
    ticket: int = 0  # queue position for a slot: taken at run and again at retry

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
