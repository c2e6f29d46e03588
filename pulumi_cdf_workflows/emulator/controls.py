"""Test controls under /_emulator/ (never under /api/): reset, outcomes, faults, logs, tokens, seed, time and
the matches of data-modeling and record-stream triggers (`POST triggers/{externalId}/matches`).

One function per control, found through a route table like the API's own (`urls.py`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from pulumi_cdf_workflows.emulator.exceptions import BadRequest, NotFound
from pulumi_cdf_workflows.emulator.responses import JsonReply

if TYPE_CHECKING:
    from pulumi_cdf_workflows.emulator.server import CdfEmulator

PREFIX = "/_emulator/"
_Control = Callable[["CdfEmulator", dict[str, str], dict[str, Any]], Any]
_PathControl = Callable[["CdfEmulator", dict[str, str], dict[str, Any]], Any]  # URL-decoded path parameters


def _reset(emu: CdfEmulator, _query: dict[str, str], _data: dict[str, Any]) -> Any:
    emu.reset()
    return {"reset": True}


def _outcomes(emu: CdfEmulator, _query: dict[str, str], data: dict[str, Any]) -> Any:
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


def _inject_fault(emu: CdfEmulator, _query: dict[str, str], data: dict[str, Any]) -> Any:
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


def _clear_faults(emu: CdfEmulator, _query: dict[str, str], _data: dict[str, Any]) -> Any:
    emu.clear_faults()
    return {"cleared": True}


def _advance_time(emu: CdfEmulator, _query: dict[str, str], data: dict[str, Any]) -> Any:
    fired = emu.advance_time(data["seconds"])
    return {"now": emu.now(), "fired": fired}


def _seed_trigger(emu: CdfEmulator, _query: dict[str, str], data: dict[str, Any]) -> Any:
    return emu.upsert_trigger(
        data["project"],
        data["externalId"],
        data["workflowExternalId"],
        str(data["workflowVersion"]),
        data["triggerRule"],
        input=data.get("input"),
        metadata=data.get("metadata"),
    )


def _trigger_matches(emu: CdfEmulator, params: dict[str, str], data: dict[str, Any]) -> Any:
    project = data.get("project")
    if project is not None and not isinstance(project, str):
        raise BadRequest("project must be a string")
    fired = emu.add_trigger_matches(params["externalId"], data["items"], project=project)
    return {"now": emu.now(), "fired": fired}


def _seed(emu: CdfEmulator, _query: dict[str, str], data: dict[str, Any]) -> Any:
    return emu.upsert_workflow_version(
        data["project"], data["workflowExternalId"], str(data["version"]), data.get("tasks")
    )


CONTROLS: dict[tuple[str, str], _Control] = {
    ("POST", "reset"): _reset,
    ("POST", "outcomes"): _outcomes,
    ("POST", "faults"): _inject_fault,
    ("GET", "faults"): lambda emu, _q, _d: {"items": [f.to_json() for f in emu.faults()]},
    ("POST", "faults/clear"): _clear_faults,
    ("GET", "requests"): lambda emu, q, _d: {"items": emu.requests(q.get("method"), q.get("path"))},
    ("GET", "executions"): lambda emu, q, _d: {"items": emu.executions(q.get("project"))},
    ("GET", "sessions"): lambda emu, q, _d: {"items": emu.sessions(q.get("project"))},
    ("POST", "tokens/expire"): lambda emu, _q, _d: {"expired": emu.expire_tokens()},
    ("GET", "time"): lambda emu, _q, _d: {"now": emu.now()},
    ("POST", "time/set"): lambda emu, _q, data: {"now": emu.set_time(data["time"])},
    ("POST", "time/advance"): _advance_time,
    ("POST", "seed/trigger"): _seed_trigger,
    ("POST", "seed"): _seed,
}

# Controls with a parameter in the path (matched after the fixed ones).
PATH_CONTROLS: list[tuple[str, re.Pattern[str], _PathControl]] = [
    ("POST", re.compile(r"^triggers/(?P<externalId>[^/]+)/matches$"), _trigger_matches),
]


def _body(body: Any) -> dict[str, Any]:
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise BadRequest("Control bodies are JSON objects")
    return body


def handle_control(emu: CdfEmulator, method: str, path: str, query: dict[str, str], body: Any) -> JsonReply:
    name = path[len(PREFIX) :].strip("/")
    control = CONTROLS.get((method, name))
    if control is None:
        for route_method, pattern, path_control in PATH_CONTROLS:
            match = pattern.match(name)
            if match is not None and route_method == method:
                params = {k: unquote(v) for k, v in match.groupdict().items()}
                control = _bind(path_control, params)
                break
        else:
            raise NotFound(f"No emulator control {method} {path}")
    try:
        return 200, control(emu, query, _body(body)), {}
    except KeyError as exc:
        raise BadRequest(f"Missing field {exc.args[0]!r}") from exc
    except (TypeError, ValueError) as exc:
        raise BadRequest(str(exc)) from exc


def _bind(control: _PathControl, params: dict[str, str]) -> _Control:
    return lambda emu, _query, data: control(emu, params, data)
