"""State and rules of the emulated CDF: tokens, sessions, workflows, versions, executions and their runner.

Nothing here knows about HTTP. `CdfBackend` is thread-safe: one lock guards all state and a condition on
that lock wakes execution runner threads (cancel, task update, reset, shutdown) without busy loops.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import re
import secrets
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from pulumi_cdf_workflows.emulator.exceptions import BadRequest, Conflict, NotFound, OAuthError, Unauthorized

Outcome = Literal["COMPLETED", "FAILED", "TIMED_OUT", "RUN_UNTIL_CANCELLED"]
OUTCOMES: tuple[str, ...] = ("COMPLETED", "FAILED", "TIMED_OUT", "RUN_UNTIL_CANCELLED")

TASK_TYPES = ("function", "transformation", "cdf", "dynamic", "subworkflow", "simulation")
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
_UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_REF_RE = re.compile(r"\$\{([^}]+)\}")


def now_ms() -> int:
    return int(time.time() * 1000)


def validate_identifier(value: Any, name: str) -> str:
    """CDF's rule for external ids and versions: a string of 1..255 chars, no edge whitespace, no NUL."""
    if not isinstance(value, str) or not value:
        raise BadRequest(f"{name} must be a non-empty string")
    if len(value) > MAX_ID_LENGTH:
        raise BadRequest(f"{name} must be at most {MAX_ID_LENGTH} characters, got {len(value)}")
    if value != value.strip():
        raise BadRequest(f"{name} must not have leading or trailing whitespace")
    if "\0" in value:
        raise BadRequest(f"{name} must not contain null characters")
    return value


def validate_limit(value: Any) -> int:
    if value is None:
        return DEFAULT_LIST_LIMIT
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_LIST_LIMIT:
        raise BadRequest(f"limit must be an integer between 1 and {MAX_LIST_LIMIT}, got {value!r}")
    return value


def _encode_cursor(payload: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode()


def _decode_cursor(cursor: Any) -> Any:
    if not isinstance(cursor, str):
        raise BadRequest("cursor must be a string")
    try:
        return json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, TypeError) as exc:
        raise BadRequest("Invalid cursor") from exc


def paginate(items: list[Any], limit: int, cursor: Any) -> tuple[list[Any], str | None]:
    """Offset pagination behind an opaque cursor, for lists whose order does not shift (sorted ids)."""
    offset = 0 if cursor is None else _decode_cursor(cursor)
    if not isinstance(offset, int) or offset < 0:
        raise BadRequest("Invalid cursor")
    page = items[offset : offset + limit]
    more = offset + limit < len(items)
    return page, (_encode_cursor(offset + limit) if more else None)


# --------------------------------------------------------------------------------------------- state objects


@dataclass
class AccessToken:
    token: str
    client_id: str
    expires_at: float  # time.monotonic()
    revoked: bool = False


@dataclass
class Session:
    id: int
    project: str
    type: str
    nonce: str
    nonce_expires_at: float  # time.monotonic()
    client_id: str | None = None
    status: str = "READY"
    creation_time: int = field(default_factory=now_ms)
    bound_execution: str | None = None

    def created_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "type": self.type, "status": self.status, "nonce": self.nonce}
        if self.client_id is not None:
            data["clientId"] = self.client_id
        return data

    def public_json(self) -> dict[str, Any]:
        # Never the nonce: this view is for test assertions and logs.
        data: dict[str, Any] = {
            "id": self.id,
            "project": self.project,
            "type": self.type,
            "status": self.status,
            "creationTime": self.creation_time,
        }
        if self.client_id is not None:
            data["clientId"] = self.client_id
        if self.bound_execution is not None:
            data["boundExecutionId"] = self.bound_execution
        return data


@dataclass
class Workflow:
    external_id: str
    description: str | None = None
    data_set_id: int | None = None
    max_concurrent_executions: int | None = None
    created_time: int = field(default_factory=now_ms)
    last_updated_time: int = field(default_factory=now_ms)

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
    description: str | None = None
    created_time: int = field(default_factory=now_ms)
    last_updated_time: int = field(default_factory=now_ms)

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
    status: str = "IN_PROGRESS"
    output: dict[str, Any] = field(default_factory=dict)
    start_time: int = field(default_factory=now_ms)
    end_time: int | None = None
    reason: str | None = None
    async_complete: bool = False

    def finish(self, status: str, reason: str | None = None, output: dict[str, Any] | None = None) -> None:
        self.status = status
        self.end_time = now_ms()
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
    engine_execution_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    status: str = "RUNNING"
    created_time: int = field(default_factory=now_ms)
    start_time: int = field(default_factory=now_ms)
    end_time: int | None = None
    reason: str | None = None
    tasks: list[TaskExecution] = field(default_factory=list)
    generation: int = 0  # bumped by retry/reset/shutdown so a stale runner thread stops

    def finish(self, status: str, reason: str | None = None) -> None:
        self.status = status
        self.end_time = now_ms()
        self.reason = reason

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id,
            "workflowExternalId": self.workflow_external_id,
            "version": self.version,
            "status": self.status,
            "engineExecutionId": self.engine_execution_id,
            "createdTime": self.created_time,
            "startTime": self.start_time,
            "metadata": dict(self.metadata),
        }
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


# --------------------------------------------------------------------------------------------- validation


def _normalize_task(raw: Any, index: int) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise BadRequest(f"workflowDefinition.tasks[{index}] must be an object")
    xid = validate_identifier(raw.get("externalId"), f"workflowDefinition.tasks[{index}].externalId")
    task_type = raw.get("type")
    if task_type not in TASK_TYPES:
        raise BadRequest(f"Task {xid!r}: type must be one of {', '.join(TASK_TYPES)}, got {task_type!r}")
    parameters = raw.get("parameters", {})
    if not isinstance(parameters, dict):
        raise BadRequest(f"Task {xid!r}: parameters must be an object")
    retries = raw.get("retries", 3)
    if retries is None:
        retries = 3
    if isinstance(retries, bool) or not isinstance(retries, int) or not 0 <= retries <= 10:
        raise BadRequest(f"Task {xid!r}: retries must be an integer between 0 and 10")
    on_failure = raw.get("onFailure", "abortWorkflow") or "abortWorkflow"
    if on_failure not in ("abortWorkflow", "skipTask"):
        raise BadRequest(f"Task {xid!r}: onFailure must be abortWorkflow or skipTask")
    depends = raw.get("dependsOn") or []
    if not isinstance(depends, list) or not all(isinstance(d, dict) and "externalId" in d for d in depends):
        raise BadRequest(f"Task {xid!r}: dependsOn must be a list of {{externalId}} objects")
    task: dict[str, Any] = {
        "externalId": xid,
        "type": task_type,
        "parameters": copy.deepcopy(parameters),
        "retries": retries,
        "timeout": raw.get("timeout", 3600) if raw.get("timeout") is not None else 3600,
        "onFailure": on_failure,
        "dependsOn": [{"externalId": d["externalId"]} for d in depends],
    }
    if task_type == "function":
        task["parameters"].setdefault("isAsyncComplete", False)
    for optional in ("name", "description"):
        if raw.get(optional) is not None:
            task[optional] = raw[optional]
    return task


def topological_order(tasks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Tasks in `dependsOn` order (definition order among ready tasks); 400 on unknown ids or cycles."""
    by_id = {t["externalId"]: t for t in tasks}
    for t in tasks:
        for dep in t["dependsOn"]:
            if dep["externalId"] not in by_id:
                raise BadRequest(f"Task {t['externalId']!r} depends on unknown task {dep['externalId']!r}")
    ordered: list[dict[str, Any]] = []
    done: set[str] = set()
    while len(ordered) < len(tasks):
        ready = [
            t for t in tasks if t["externalId"] not in done and all(d["externalId"] in done for d in t["dependsOn"])
        ]
        if not ready:
            raise BadRequest("Task dependencies form a cycle")
        for t in ready:
            ordered.append(t)
            done.add(t["externalId"])
    return ordered


def validate_definition(definition: Any) -> tuple[str | None, list[dict[str, Any]]]:
    if not isinstance(definition, dict):
        raise BadRequest("workflowDefinition must be an object")
    raw_tasks = definition.get("tasks")
    if not isinstance(raw_tasks, list):
        raise BadRequest("workflowDefinition.tasks must be a list")
    tasks = [_normalize_task(t, i) for i, t in enumerate(raw_tasks)]
    seen: set[str] = set()
    for t in tasks:
        if t["externalId"] in seen:
            raise BadRequest(
                f"Duplicate task externalId {t['externalId']!r}", duplicated=[{"externalId": t["externalId"]}]
            )
        seen.add(t["externalId"])
    topological_order(tasks)
    description = definition.get("description")
    if description is not None and not isinstance(description, str):
        raise BadRequest("workflowDefinition.description must be a string")
    return description, tasks


def validate_run_body(body: Any) -> tuple[str, dict[str, Any] | None, dict[str, str]]:
    """Returns (nonce, input, metadata) or raises 400 with the violated limit."""
    if not isinstance(body, dict):
        raise BadRequest("Request body must be a JSON object")
    auth = body.get("authentication")
    nonce = auth.get("nonce") if isinstance(auth, dict) else None
    if not isinstance(nonce, str) or not nonce:
        raise BadRequest("authentication.nonce is required")
    run_input = body.get("input")
    if run_input is not None:
        if not isinstance(run_input, dict):
            raise BadRequest("input must be a JSON object")
        size = len(json.dumps(run_input, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))
        if size > MAX_INPUT_BYTES:
            raise BadRequest(f"input must be at most {MAX_INPUT_BYTES} bytes (100 KB) of JSON, got {size} bytes")
    metadata = body.get("metadata")
    if metadata is None:
        metadata = {}
    if not isinstance(metadata, dict):
        raise BadRequest("metadata must be an object of string values")
    if len(metadata) > MAX_METADATA_PAIRS:
        raise BadRequest(f"metadata must have at most {MAX_METADATA_PAIRS} key-value pairs, got {len(metadata)}")
    for key, value in metadata.items():
        if len(key) > MAX_METADATA_KEY:
            raise BadRequest(f"metadata key {key[:40]!r} is longer than {MAX_METADATA_KEY} characters")
        if not isinstance(value, str):
            raise BadRequest(f"metadata value for {key!r} must be a string")
        if len(value) > MAX_METADATA_VALUE:
            raise BadRequest(f"metadata value for {key!r} is longer than {MAX_METADATA_VALUE} characters")
    return nonce, run_input, metadata


def _lookup(root: Any, path: list[str]) -> tuple[bool, Any]:
    for part in path:
        if isinstance(root, dict) and part in root:
            root = root[part]
        else:
            return False, None
    return True, root


def resolve_references(value: Any, context: dict[str, Any]) -> Any:
    """Resolves `${workflow.input.x}` / `${task.output.y}` references; unknown ones stay as text."""
    if isinstance(value, dict):
        return {k: resolve_references(v, context) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve_references(v, context) for v in value]
    if not isinstance(value, str) or "${" not in value:
        return value
    whole = _REF_RE.fullmatch(value)
    if whole:
        found, resolved = _lookup(context, whole.group(1).split("."))
        return copy.deepcopy(resolved) if found else value

    def substitute(match: re.Match[str]) -> str:
        found, resolved = _lookup(context, match.group(1).split("."))
        if not found:
            return match.group(0)
        return resolved if isinstance(resolved, str) else json.dumps(resolved)

    return _REF_RE.sub(substitute, value)


# --------------------------------------------------------------------------------------------- backend


class CdfBackend:
    """All emulated CDF state for every project, plus the execution runners."""

    def __init__(
        self,
        *,
        clients: dict[str, str] | None = None,
        task_duration: float = 0.05,
        token_ttl: float = 3600,
        nonce_ttl: float = 60,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.clients = dict(clients) if clients is not None else None
        self.task_duration = task_duration
        self.token_ttl = token_ttl
        self.nonce_ttl = nonce_ttl
        self._clock = clock
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._stopped = False
        self._tokens: dict[str, AccessToken] = {}
        self._threads: set[threading.Thread] = set()
        self._init_state()

    def _init_state(self) -> None:
        self._sessions: dict[int, Session] = {}
        self._nonces: dict[str, Session] = {}
        self._workflows: dict[tuple[str, str], Workflow] = {}
        self._versions: dict[tuple[str, str, str], WorkflowVersion] = {}
        self._executions: dict[str, Execution] = {}
        self._outcomes: dict[tuple[str, str], OutcomeSpec] = {}
        self._projects: set[str] = set()
        self._next_session_id = 4_000_000_000_001
        self._seq = 0
        self._counter = 1000

    # ----- lifecycle

    def reset(self) -> None:
        """Forgets projects, sessions, workflows, executions and outcomes. Issued tokens stay valid."""
        with self._lock:
            for execution in self._executions.values():
                execution.generation += 1
            self._init_state()
            self._changed.notify_all()

    @property
    def lock(self) -> threading.RLock:
        """Hold it to read several objects consistently (the wire layer serialises replies under it)."""
        return self._lock

    def resume(self) -> None:
        """Allows runners again after shutdown() (an emulator that is started again)."""
        with self._lock:
            self._stopped = False

    def shutdown(self, timeout: float = 2.0) -> None:
        with self._lock:
            self._stopped = True
            for execution in self._executions.values():
                execution.generation += 1
            self._changed.notify_all()
            threads = list(self._threads)
        deadline = time.monotonic() + timeout
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    # ----- auth

    def _client_ok(self, client_id: Any, client_secret: Any) -> bool:
        if not isinstance(client_id, str) or not isinstance(client_secret, str) or not client_id or not client_secret:
            return False
        if self.clients is None:
            return True
        expected = self.clients.get(client_id)
        return expected is not None and secrets.compare_digest(expected, client_secret)

    def issue_token(self, grant_type: Any, client_id: Any, client_secret: Any) -> dict[str, Any]:
        if grant_type != "client_credentials":
            raise OAuthError("unsupported_grant_type", "Only grant_type=client_credentials is supported")
        if not self._client_ok(client_id, client_secret):
            raise OAuthError("invalid_client", "Client authentication failed: unknown client or wrong secret", 401)
        token = "emu-" + secrets.token_urlsafe(32)
        with self._lock:
            self._tokens[token] = AccessToken(token, str(client_id), self._clock() + self.token_ttl)
        return {"access_token": token, "token_type": "Bearer", "expires_in": int(self.token_ttl)}

    def authenticate(self, authorization: str | None) -> str:
        """Returns the subject of a valid bearer token or raises 401."""
        if not authorization or not authorization.lower().startswith("bearer "):
            raise Unauthorized("Missing bearer token in the Authorization header")
        token = authorization[7:].strip()
        if token.startswith("static-"):
            return "static-token"  # never echo the token itself (token/inspect shows the subject)
        with self._lock:
            issued = self._tokens.get(token)
            if issued is None:
                raise Unauthorized("Invalid access token")
            if issued.revoked or self._clock() >= issued.expires_at:
                raise Unauthorized("The access token has expired")
            return issued.client_id

    def expire_tokens(self) -> int:
        with self._lock:
            for token in self._tokens.values():
                token.revoked = True
            return len(self._tokens)

    def token_inspect(self, subject: str) -> dict[str, Any]:
        with self._lock:
            projects = sorted(self._projects)
        scope: dict[str, Any] = {"all": {}}
        return {
            "subject": subject,
            "projects": [{"projectUrlName": p, "groups": []} for p in projects],
            "capabilities": [
                {
                    "workflowOrchestrationAcl": {"actions": ["READ", "WRITE"], "scope": scope},
                    "projectScope": {"allProjects": {}},
                },
                {
                    "sessionsAcl": {"actions": ["LIST", "CREATE", "DELETE"], "scope": scope},
                    "projectScope": {"allProjects": {}},
                },
            ],
        }

    def touch_project(self, project: str) -> None:
        with self._lock:
            self._projects.add(project)

    # ----- sessions

    def create_session(self, project: str, items: Any) -> Session:
        if not isinstance(items, list) or len(items) != 1:
            raise BadRequest("items must contain exactly 1 element")
        item = items[0]
        if not isinstance(item, dict):
            raise BadRequest("items[0] must be an object")
        client_id: str | None = None
        if "clientId" in item or "clientSecret" in item:
            if not self._client_ok(item.get("clientId"), item.get("clientSecret")):
                raise BadRequest("Could not create a session: invalid client credentials")
            session_type, client_id = "CLIENT_CREDENTIALS", item["clientId"]
        elif item.get("tokenExchange") is True:
            session_type = "TOKEN_EXCHANGE"
        elif item.get("oneshotTokenExchange") is True:
            session_type = "ONESHOT_TOKEN_EXCHANGE"
        else:
            raise BadRequest(
                "A session needs clientId and clientSecret, tokenExchange: true or oneshotTokenExchange: true"
            )
        with self._lock:
            session = Session(
                id=self._next_session_id,
                project=project,
                type=session_type,
                nonce=secrets.token_urlsafe(48),
                nonce_expires_at=self._clock() + self.nonce_ttl,
                client_id=client_id,
            )
            self._next_session_id += 1
            self._sessions[session.id] = session
            self._nonces[session.nonce] = session
            return session

    def _check_nonce(self, project: str, nonce: str) -> Session:
        session = self._nonces.get(nonce)
        if session is None or session.project != project:
            raise BadRequest("Invalid nonce: no session in this project has this nonce")
        if session.bound_execution is not None:
            raise BadRequest("The nonce has already been used: a nonce can be bound only once")
        if self._clock() >= session.nonce_expires_at:
            raise BadRequest("The nonce has expired: create a new session")
        return session

    def sessions(self, project: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return [s.public_json() for s in self._sessions.values() if project is None or s.project == project]

    # ----- workflows and versions

    def upsert_workflow(self, project: str, items: Any) -> list[Workflow]:
        if not isinstance(items, list) or len(items) != 1:
            raise BadRequest("items must contain exactly 1 workflow (upsert is limited to one per request)")
        item = items[0]
        if not isinstance(item, dict):
            raise BadRequest("items[0] must be an object")
        xid = validate_identifier(item.get("externalId"), "externalId")
        with self._lock:
            workflow = self._workflows.get((project, xid))
            if workflow is None:
                workflow = self._workflows[(project, xid)] = Workflow(xid)
            workflow.description = item.get("description")
            workflow.data_set_id = item.get("dataSetId")
            workflow.max_concurrent_executions = item.get("maxConcurrentExecutions")
            workflow.last_updated_time = now_ms()
            return [workflow]

    def get_workflow(self, project: str, xid: str) -> Workflow:
        with self._lock:
            workflow = self._workflows.get((project, xid))
        if workflow is None:
            raise NotFound(f"Workflow {xid!r} not found", missing=[{"externalId": xid}])
        return workflow

    def list_workflows(self, project: str, limit: Any, cursor: Any) -> tuple[list[Workflow], str | None]:
        with self._lock:
            items = sorted((w for (p, _), w in self._workflows.items() if p == project), key=lambda w: w.external_id)
        return paginate(items, validate_limit(limit), cursor)

    def delete_workflows(self, project: str, items: Any, ignore_unknown: bool) -> None:
        xids = [
            validate_identifier(i.get("externalId") if isinstance(i, dict) else None, "externalId")
            for i in (items if isinstance(items, list) else [None])
        ]
        with self._lock:
            missing = [{"externalId": x} for x in xids if (project, x) not in self._workflows]
            if missing and not ignore_unknown:
                raise NotFound("Workflows not found", missing=missing)
            for xid in xids:
                self._workflows.pop((project, xid), None)
                for key in [k for k in self._versions if k[0] == project and k[1] == xid]:
                    del self._versions[key]

    def upsert_versions(self, project: str, items: Any) -> list[WorkflowVersion]:
        if not isinstance(items, list) or not items:
            raise BadRequest("items must be a non-empty list")
        parsed = []
        for i, item in enumerate(items):
            if not isinstance(item, dict):
                raise BadRequest(f"items[{i}] must be an object")
            xid = validate_identifier(item.get("workflowExternalId"), "workflowExternalId")
            version = validate_identifier(item.get("version"), "version")
            description, tasks = validate_definition(item.get("workflowDefinition"))
            parsed.append((xid, version, description, tasks))
        result = []
        with self._lock:
            for xid, version, description, tasks in parsed:
                # Like CDF, upserting a version of an unknown workflow creates the workflow.
                if (project, xid) not in self._workflows:
                    self._workflows[(project, xid)] = Workflow(xid)
                existing = self._versions.get((project, xid, version))
                if existing is None:
                    existing = self._versions[(project, xid, version)] = WorkflowVersion(xid, version, tasks)
                existing.tasks, existing.description = tasks, description
                existing.last_updated_time = now_ms()
                result.append(existing)
        return result

    def get_version(self, project: str, xid: str, version: str) -> WorkflowVersion:
        with self._lock:
            found = self._versions.get((project, xid, version))
        if found is None:
            raise NotFound(
                f"Workflow version {xid!r} version {version!r} not found",
                missing=[{"workflowExternalId": xid, "version": version}],
            )
        return found

    def list_versions(
        self, project: str, filters: Any, limit: Any, cursor: Any
    ) -> tuple[list[WorkflowVersion], str | None]:
        wanted = _parse_workflow_filters(filters)
        with self._lock:
            items = [
                v
                for (p, _, _), v in self._versions.items()
                if p == project and _matches(wanted, v.workflow_external_id, v.version)
            ]
        items.sort(key=lambda v: (v.workflow_external_id, v.version))
        return paginate(items, validate_limit(limit), cursor)

    def delete_versions(self, project: str, items: Any, ignore_unknown: bool) -> None:
        if not isinstance(items, list):
            raise BadRequest("items must be a list")
        keys = []
        for item in items:
            if not isinstance(item, dict):
                raise BadRequest("items must be objects with workflowExternalId and version")
            keys.append(
                (
                    project,
                    validate_identifier(item.get("workflowExternalId"), "workflowExternalId"),
                    validate_identifier(item.get("version"), "version"),
                )
            )
        with self._lock:
            missing = [{"workflowExternalId": k[1], "version": k[2]} for k in keys if k not in self._versions]
            if missing and not ignore_unknown:
                raise NotFound("Workflow versions not found", missing=missing)
            for key in keys:
                self._versions.pop(key, None)

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
            self._seq += 1
            execution = Execution(
                id=str(uuid.uuid4()),
                project=project,
                workflow_external_id=xid,
                version=version,
                definition=found.definition_json(),
                input=copy.deepcopy(run_input),
                metadata=dict(metadata),
                seq=self._seq,
            )
            session.bound_execution = execution.id
            session.status = "ACTIVE"
            self._executions[execution.id] = execution
            self._start_runner(execution)
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
        wanted = _parse_workflow_filters(flt.get("workflowFilters"))
        start, end = flt.get("createdTimeStart"), flt.get("createdTimeEnd")
        for name, value in (("createdTimeStart", start), ("createdTimeEnd", end)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
                raise BadRequest(f"{name} must be epoch milliseconds (integer)")
        statuses = flt.get("status")
        if statuses is not None and (
            not isinstance(statuses, list) or any(s not in EXECUTION_STATUSES for s in statuses)
        ):
            raise BadRequest(f"status must be a list of {', '.join(sorted(EXECUTION_STATUSES))}")
        limit = validate_limit(body.get("limit"))
        cursor = body.get("cursor")
        after: list[int] | None = None
        if cursor is not None:
            decoded = _decode_cursor(cursor)
            if not (isinstance(decoded, list) and len(decoded) == 2 and all(isinstance(x, int) for x in decoded)):
                raise BadRequest("Invalid cursor")
            after = decoded
        with self._lock:
            items = [
                e
                for e in self._executions.values()
                if e.project == project
                and _matches(wanted, e.workflow_external_id, e.version)
                and (start is None or e.created_time >= start)
                and (end is None or e.created_time <= end)
                and (statuses is None or e.status in statuses)
            ]
            # Newest first; the cursor remembers the last (createdTime, seq) so new runs do not shift pages.
            items.sort(key=lambda e: (e.created_time, e.seq), reverse=True)
            if after is not None:
                items = [e for e in items if (e.created_time, e.seq) < (after[0], after[1])]
            page = items[:limit]
            next_cursor = _encode_cursor([page[-1].created_time, page[-1].seq]) if len(items) > limit else None
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
            for task in execution.tasks:
                if task.status == "IN_PROGRESS":
                    task.finish("CANCELED", reason)
            execution.finish("TERMINATED", reason)
            self._changed.notify_all()
            return execution

    def retry(self, project: str, execution_id: str, body: Any) -> Execution:
        if not isinstance(body, dict):
            raise BadRequest("Request body must be a JSON object with authentication.nonce")
        auth = body.get("authentication")
        nonce = auth.get("nonce") if isinstance(auth, dict) else None
        if not isinstance(nonce, str) or not nonce:
            raise BadRequest("authentication.nonce is required")
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
            task.finish(status, reason, merged)
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

    # ----- runner

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

    def _run_tasks(self, execution: Execution, generation: int) -> None:
        spec = self._outcomes.get((execution.workflow_external_id, execution.version), OutcomeSpec())
        duration = self.task_duration if spec.task_duration is None else spec.task_duration
        ordered = topological_order(execution.definition["tasks"])
        if not ordered:
            if self._alive(execution, generation):
                execution.finish("COMPLETED")
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
                task.finish("TIMED_OUT", reason)
                execution.finish("TIMED_OUT", reason)
                return
            if task.async_complete:
                if not self._wait(execution, generation, None, until=_still_in_progress(task)):
                    return
                if task.status != "COMPLETED" and not self._fail_task(
                    execution, task, definition, task.status, task.reason or f"Task {xid} failed"
                ):
                    return
                continue
            task.finish("COMPLETED", output=self._task_output(task))
        execution.finish("COMPLETED")

    def _fail_task(
        self, execution: Execution, task: TaskExecution, definition: dict[str, Any], status: str, reason: str
    ) -> bool:
        """Fails a task; returns True if the workflow goes on (onFailure: skipTask)."""
        if definition.get("onFailure") == "skipTask":
            task.finish("COMPLETED_WITH_ERRORS", reason)
            return True
        task.finish(status, reason)
        execution.finish("FAILED", reason)
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


def _parse_workflow_filters(filters: Any) -> list[tuple[str, str | None]] | None:
    """None means no workflow filter; [] (the SDK's "no ids") also matches everything."""
    if filters is None:
        return None
    if not isinstance(filters, list):
        raise BadRequest("workflowFilters must be a list")
    parsed: list[tuple[str, str | None]] = []
    for f in filters:
        if not isinstance(f, dict) or not isinstance(f.get("externalId"), str):
            raise BadRequest("workflowFilters entries must be objects with externalId and optional version")
        version = f.get("version")
        if version is not None and not isinstance(version, str):
            raise BadRequest("workflowFilters version must be a string")
        parsed.append((f["externalId"], version))
    return parsed or None


def _matches(wanted: list[tuple[str, str | None]] | None, xid: str, version: str) -> bool:
    if wanted is None:
        return True
    return any(xid == w and (v is None or v == version) for w, v in wanted)


def _still_in_progress(task: TaskExecution) -> Callable[[], bool]:
    return lambda: task.status != "IN_PROGRESS"
