"""Test controls under /_emulator/ (never under /api/): reset, outcomes, faults, logs, tokens, seed, time.

One function per control, found through a route table like the API's own (`urls.py`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pulumi_cdf_workflows.emulator.exceptions import BadRequest, NotFound
from pulumi_cdf_workflows.emulator.responses import JsonReply

if TYPE_CHECKING:
    from pulumi_cdf_workflows.emulator.server import CdfEmulator

PREFIX = "/_emulator/"
_Control = Callable[["CdfEmulator", dict[str, str], dict[str, Any]], Any]


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


def _body(body: Any) -> dict[str, Any]:
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise BadRequest("Control bodies are JSON objects")
    return body


def handle_control(emu: CdfEmulator, method: str, path: str, query: dict[str, str], body: Any) -> JsonReply:
    control = CONTROLS.get((method, path[len(PREFIX) :].strip("/")))
    if control is None:
        raise NotFound(f"No emulator control {method} {path}")
    try:
        return 200, control(emu, query, _body(body)), {}
    except KeyError as exc:
        raise BadRequest(f"Missing field {exc.args[0]!r}") from exc
    except (TypeError, ValueError) as exc:
        raise BadRequest(str(exc)) from exc
