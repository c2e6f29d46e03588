"""The test controls of `CdfEmulator`, each in one place: its Python method and its HTTP route under
/_emulator/ (never under /api/): reset, outcomes, faults, logs, tokens, capabilities, seed, time and the matches of
data-modeling and record-stream triggers (`POST triggers/{externalId}/matches`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Literal
from urllib.parse import unquote

from pulumi_cdf_workflows.emulator import parsing
from pulumi_cdf_workflows.emulator.backend import CdfBackend
from pulumi_cdf_workflows.emulator.exceptions import BadRequest, NotFound
from pulumi_cdf_workflows.emulator.faults import Fault, FaultTable, RequestLog
from pulumi_cdf_workflows.emulator.models import Outcome, OutcomeSpec
from pulumi_cdf_workflows.emulator.responses import JsonReply
from pulumi_cdf_workflows.emulator.urls import CONTROL_PREFIX

DEFAULT_TASKS: list[dict[str, Any]] = [
    {
        "externalId": "task-1",
        "type": "cdf",
        "parameters": {"cdfRequest": {"resourcePath": "/timeseries", "method": "GET"}},
    }
]


class EmulatorControls:
    """What tests steer and inspect; `CdfEmulator` adds the server around it."""

    def __init__(self, backend: CdfBackend, faults: FaultTable, log: RequestLog) -> None:
        self.backend = backend
        self._faults = faults
        self._log = log

    def reset(self) -> None:
        """Forgets all CDF state (triggers too), outcomes, faults, the request log and clock moves (tokens stay)."""
        self.backend.reset()
        self._faults.clear()
        self._log.clear()

    def set_outcome(
        self,
        workflow_external_id: str,
        version: str,
        outcome: Outcome = "COMPLETED",
        reason: str | None = None,
        task_duration: float | None = None,
        failed_task: str | None = None,
    ) -> OutcomeSpec:
        """How the next executions of this workflow version end (in every project)."""
        return self.backend.runner.set_outcome(
            workflow_external_id, version, outcome, reason, task_duration, failed_task
        )

    def inject_fault(
        self,
        method: str | None = "POST",
        path: str = r"/workflows/.*/run$",
        times: int = 1,
        when: Literal["before", "after"] = "before",
        status: int | None = 503,
        retry_after: float | None = None,
        drop: bool = False,
        delay: float = 0.0,
        body: Any = None,
        content_type: str | None = None,
    ) -> Fault:
        """Disturbs the next `times` requests matching method and path (regex searched in the URL path).

        `body` (a str sent as-is with `content_type`, default HTML; anything else as JSON) replaces the
        error envelope; with when="after" and status=None the real status is kept. See `Fault`.
        """
        return self._faults.add(Fault(method, path, times, when, status, retry_after, drop, delay, body, content_type))

    def faults(self) -> list[Fault]:
        return self._faults.all()

    def clear_faults(self) -> None:
        self._faults.clear()

    def requests(self, method: str | None = None, path: str | None = None) -> list[dict[str, Any]]:
        """Logged API requests, oldest first: method, path, query, headers, body, status, requestId, fault."""
        return self._log.entries(method, path)

    def executions(self, project: str | None = None) -> list[dict[str, Any]]:
        return self.backend.executions.views(project)

    def sessions(self, project: str | None = None) -> list[dict[str, Any]]:
        return self.backend.sessions.views(project)

    def expire_tokens(self) -> int:
        """Every issued access token becomes invalid; static-* tokens keep working."""
        return self.backend.auth.expire_tokens()

    def set_capabilities(self, client: str, capabilities: list[dict[str, Any]] | None) -> None:
        """What `client` (an OAuth client id, or "static-token" for static tokens) may do from now on, in CDF's
        capability shape (capabilities.py); None: everything again. Every endpoint then answers 403 to a call
        its table (permissions.py) says the client may not make. `reset()` goes back to the constructor's."""
        self.backend.auth.set_capabilities(client, capabilities)

    def capabilities(self) -> dict[str, list[dict[str, Any]]]:
        """The clients given capabilities, with them (project scopes filled in); the others may do everything."""
        return self.backend.auth.capabilities()

    # ----- the clock and triggers
    def now(self) -> int:
        """The emulator's time in epoch milliseconds: real time, plus however far tests moved it."""
        return self.backend.now_ms()

    def set_time(self, epoch_ms: int) -> int:
        """Sets the clock (it keeps running from there) without firing triggers; e.g. to start on a known minute.
        Running tasks keep the time they had left."""
        return self.backend.scheduler.set_time(epoch_ms)

    def advance_time(self, seconds: float) -> list[dict[str, Any]]:
        """Moves the clock forward, and with it everything that would have happened meanwhile, in time order:
        running tasks whose time is up end (and the next ones start), every due, unpaused schedule trigger fires
        once per cron occurrence, and a batch trigger's partial batch fires when its batchTimeout ends (see
        `add_trigger_matches`).

        Each firing starts a real execution of the trigger's workflow version (input: the trigger's input plus
        `{"version": ...}`, metadata: the trigger's) or, if that version is gone, records a failed firing.
        Returns the firings, oldest first: history items (fireTime, externalId, status, ...) plus "project".
        Triggers fire only here and in `add_trigger_matches`: between calls, nothing fires on its own.
        """
        return [run.fired_json() for run in self.backend.scheduler.advance(seconds)]

    def add_trigger_matches(
        self, external_id: str, items: list[dict[str, Any]], project: str | None = None
    ) -> list[dict[str, Any]]:
        """Feeds matches to a dataModeling or recordStream trigger (the emulator has no such APIs to watch).

        Matches queue on the trigger; each full `batchSize` fires at once, a partial batch when `batchTimeout`
        seconds have passed since its first match (during `advance_time`). The execution's input is the
        trigger's input plus `{"version": ..., "items": [the batch]}`. A paused trigger only queues; after a
        resume, the next advance or add fires what is due. `project` may be left out when only one project has
        a trigger of that id. Returns the firings, as `advance_time` does.
        """
        fired = self.backend.triggers.add_matches(project, external_id, parsing.matches(items))
        return [run.fired_json() for run in fired]

    def upsert_trigger(
        self,
        project: str,
        external_id: str,
        workflow_external_id: str,
        version: str,
        rule: dict[str, Any] | str,
        input: dict[str, Any] | None = None,
        metadata: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """Seeds a trigger (validated as by the API, with a session made for it). A str rule is a UTC cron."""
        if isinstance(rule, str):
            rule = {"triggerType": "schedule", "cronExpression": rule}
        self.backend.auth.touch_project(project)
        with self.backend.lock:
            nonce = self.backend.sessions.create(project, "TOKEN_EXCHANGE").nonce
            item: dict[str, Any] = {"externalId": external_id, "workflowExternalId": workflow_external_id,
                                    "workflowVersion": version, "triggerRule": rule, "input": input,
                                    "metadata": metadata, "authentication": {"nonce": nonce}}  # fmt: skip
            return self.backend.triggers.upsert(project, parsing.trigger(item)).to_json()

    def upsert_workflow_version(
        self, project: str, workflow_external_id: str, version: str, tasks: list[dict[str, Any]] | None = None
    ) -> dict[str, Any]:
        """Seeds a workflow and version, validated as by the API; default tasks: one cdf task "task-1"."""
        self.backend.auth.touch_project(project)
        definition = {"tasks": DEFAULT_TASKS if tasks is None else tasks}
        item = {"workflowExternalId": workflow_external_id, "version": version, "workflowDefinition": definition}
        return self.backend.workflows.upsert_version(project, *parsing.version(item)).to_json()

    # ----- the same over HTTP
    def handle_control(self, method: str, path: str, query: dict[str, str], body: Any) -> JsonReply:
        """Answers `method path` under /_emulator/; 404 for an unknown control, 400 for a bad body."""
        name = path[len(CONTROL_PREFIX) :].strip("/")
        control, params = CONTROLS.get((method, name)), {}
        if control is None:
            for route_method, pattern, path_control in PATH_CONTROLS:
                match = pattern.match(name)
                if match is not None and route_method == method:
                    control, params = path_control, {k: unquote(v) for k, v in match.groupdict().items()}
                    break
            else:
                raise NotFound(f"No emulator control {method} {path}")
        data = parsing.body_object(body, "Control bodies are JSON objects")
        try:
            return 200, control(self, {**query, **params}, data), {}
        except KeyError as exc:
            raise BadRequest(f"Missing field {exc.args[0]!r}") from exc
        except (TypeError, ValueError) as exc:
            raise BadRequest(str(exc)) from exc


_Control = Callable[[EmulatorControls, dict[str, str], dict[str, Any]], Any]  # (emulator, query + path, body)


def _reset(emu: EmulatorControls, _params: dict[str, str], _data: dict[str, Any]) -> Any:
    emu.reset()
    return {"reset": True}


def _clear_faults(emu: EmulatorControls, _params: dict[str, str], _data: dict[str, Any]) -> Any:
    emu.clear_faults()
    return {"cleared": True}


def _advance_time(emu: EmulatorControls, _params: dict[str, str], data: dict[str, Any]) -> Any:
    fired = emu.advance_time(data["seconds"])
    return {"now": emu.now(), "fired": fired}


def _seed(emu: EmulatorControls, _params: dict[str, str], data: dict[str, Any]) -> Any:
    return emu.upsert_workflow_version(
        data["project"], data["workflowExternalId"], str(data["version"]), data.get("tasks")
    )


def _outcomes(emu: EmulatorControls, _params: dict[str, str], data: dict[str, Any]) -> Any:
    spec = emu.set_outcome(
        data["workflowExternalId"],
        str(data["version"]),
        data.get("outcome", "COMPLETED"),
        reason=data.get("reason"),
        task_duration=data.get("taskDuration"),
        failed_task=data.get("failedTask"),
    )
    return {
        "workflowExternalId": data["workflowExternalId"],
        "version": str(data["version"]),
        "outcome": spec.outcome,
        "reason": spec.reason,
        "taskDuration": spec.task_duration,
        "failedTask": spec.failed_task,
    }


def _inject_fault(emu: EmulatorControls, _params: dict[str, str], data: dict[str, Any]) -> Any:
    fault = emu.inject_fault(
        method=data.get("method"),
        path=data.get("path", ""),
        times=data.get("times", 1),
        when=data.get("when", "before"),
        status=data.get("status", 503),
        retry_after=data.get("retryAfter"),
        drop=bool(data.get("drop", False)),
        delay=float(data.get("delay", 0.0)),
        body=data.get("body"),
        content_type=data.get("contentType"),
    )
    return fault.to_json()


def _set_capabilities(emu: EmulatorControls, _params: dict[str, str], data: dict[str, Any]) -> Any:
    emu.set_capabilities(data["client"], data["capabilities"])
    return {"client": data["client"], "capabilities": emu.capabilities().get(data["client"])}


def _seed_trigger(emu: EmulatorControls, _params: dict[str, str], data: dict[str, Any]) -> Any:
    return emu.upsert_trigger(
        data["project"],
        data["externalId"],
        data["workflowExternalId"],
        str(data["workflowVersion"]),
        data["triggerRule"],
        input=data.get("input"),
        metadata=data.get("metadata"),
    )


def _trigger_matches(emu: EmulatorControls, params: dict[str, str], data: dict[str, Any]) -> Any:
    project = data.get("project")
    if project is not None and not isinstance(project, str):
        raise BadRequest("project must be a string")
    fired = emu.add_trigger_matches(params["externalId"], data["items"], project=project)
    return {"now": emu.now(), "fired": fired}


CONTROLS: dict[tuple[str, str], _Control] = {
    ("POST", "reset"): _reset,
    ("POST", "outcomes"): _outcomes,
    ("POST", "faults"): _inject_fault,
    ("GET", "faults"): lambda emu, _p, _d: {"items": [f.to_json() for f in emu.faults()]},
    ("POST", "faults/clear"): _clear_faults,
    ("GET", "requests"): lambda emu, q, _d: {"items": emu.requests(q.get("method"), q.get("path"))},
    ("GET", "executions"): lambda emu, q, _d: {"items": emu.executions(q.get("project"))},
    ("GET", "sessions"): lambda emu, q, _d: {"items": emu.sessions(q.get("project"))},
    ("POST", "tokens/expire"): lambda emu, _p, _d: {"expired": emu.expire_tokens()},
    ("POST", "capabilities"): _set_capabilities,
    ("GET", "capabilities"): lambda emu, _p, _d: {
        "items": [{"client": c, "capabilities": caps} for c, caps in emu.capabilities().items()]
    },
    ("GET", "time"): lambda emu, _p, _d: {"now": emu.now()},
    ("POST", "time/set"): lambda emu, _p, data: {"now": emu.set_time(data["time"])},
    ("POST", "time/advance"): _advance_time,
    ("POST", "seed/trigger"): _seed_trigger,
    ("POST", "seed"): _seed,
}

# Controls with a parameter in the path (matched after the fixed ones).
PATH_CONTROLS: list[tuple[str, re.Pattern[str], _Control]] = [
    ("POST", re.compile(r"^triggers/(?P<externalId>[^/]+)/matches$"), _trigger_matches),
]
