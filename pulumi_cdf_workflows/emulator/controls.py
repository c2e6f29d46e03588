"""Test controls under /_emulator/ (never under /api/): reset, outcomes, faults, logs, tokens, seed, time."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pulumi_cdf_workflows.emulator.exceptions import BadRequest, NotFound
from pulumi_cdf_workflows.emulator.responses import JsonReply

if TYPE_CHECKING:
    from pulumi_cdf_workflows.emulator.server import CdfEmulator

PREFIX = "/_emulator/"


def _body(body: Any) -> dict[str, Any]:
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise BadRequest("Control bodies are JSON objects")
    return body


def handle_control(emu: CdfEmulator, method: str, path: str, query: dict[str, str], body: Any) -> JsonReply:
    name = path[len(PREFIX) :].strip("/")
    data = _body(body)
    try:
        if (method, name) == ("POST", "reset"):
            emu.reset()
            return 200, {"reset": True}, {}
        if (method, name) == ("POST", "outcomes"):
            spec = emu.set_outcome(
                data["workflowExternalId"],
                str(data["version"]),
                data.get("outcome", "COMPLETED"),
                reason=data.get("reason"),
                task_duration=data.get("taskDuration"),
                failed_task=data.get("failedTask"),
            )
            return (
                200,
                {
                    "workflowExternalId": data["workflowExternalId"],
                    "version": str(data["version"]),
                    "outcome": spec.outcome,
                    "reason": spec.reason,
                    "taskDuration": spec.task_duration,
                    "failedTask": spec.failed_task,
                },
                {},
            )
        if (method, name) == ("POST", "faults"):
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
            return 200, fault.to_json(), {}
        if (method, name) == ("GET", "faults"):
            return 200, {"items": [f.to_json() for f in emu.faults()]}, {}
        if (method, name) == ("POST", "faults/clear"):
            emu.clear_faults()
            return 200, {"cleared": True}, {}
        if (method, name) == ("GET", "requests"):
            return 200, {"items": emu.requests(query.get("method"), query.get("path"))}, {}
        if (method, name) == ("GET", "executions"):
            return 200, {"items": emu.executions(query.get("project"))}, {}
        if (method, name) == ("GET", "sessions"):
            return 200, {"items": emu.sessions(query.get("project"))}, {}
        if (method, name) == ("POST", "tokens/expire"):
            return 200, {"expired": emu.expire_tokens()}, {}
        if (method, name) == ("GET", "time"):
            return 200, {"now": emu.now()}, {}
        if (method, name) == ("POST", "time/set"):
            return 200, {"now": emu.set_time(data["time"])}, {}
        if (method, name) == ("POST", "time/advance"):
            fired = emu.advance_time(data["seconds"])
            return 200, {"now": emu.now(), "fired": fired}, {}
        if (method, name) == ("POST", "seed/trigger"):
            trigger = emu.upsert_trigger(
                data["project"],
                data["externalId"],
                data["workflowExternalId"],
                str(data["workflowVersion"]),
                data["triggerRule"],
                input=data.get("input"),
                metadata=data.get("metadata"),
            )
            return 200, trigger, {}
        if (method, name) == ("POST", "seed"):
            version = emu.upsert_workflow_version(
                data["project"], data["workflowExternalId"], str(data["version"]), data.get("tasks")
            )
            return 200, version, {}
    except KeyError as exc:
        raise BadRequest(f"Missing field {exc.args[0]!r}") from exc
    except (TypeError, ValueError) as exc:
        raise BadRequest(str(exc)) from exc
    raise NotFound(f"No emulator control {method} {path}")
