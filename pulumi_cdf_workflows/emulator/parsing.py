"""Request bodies and parameters read into the typed arguments of backend calls; 400 when they break CDF's rules.

The wire layer (responses.py) calls these, so the backend never sees raw JSON. Single-field rules live in
validation.py, a version's definition in definitions.py, a trigger's rule in trigger_rules.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from pulumi_cdf_workflows.emulator.definitions import validate_definition
from pulumi_cdf_workflows.emulator.exceptions import BadRequest
from pulumi_cdf_workflows.emulator.models import (
    EXECUTION_STATUSES,
    SESSION_STATUSES,
    TASK_UPDATE_STATUSES,
    TriggerFields,
    WorkflowFields,
)
from pulumi_cdf_workflows.emulator.queries import ExecutionFilter, WorkflowFilter
from pulumi_cdf_workflows.emulator.trigger_rules import validate_trigger_rule
from pulumi_cdf_workflows.emulator.validation import (
    MAX_REASON,
    validate_cursor,
    validate_identifier,
    validate_input,
    validate_limit,
    validate_metadata,
    validate_nonce,
)

MAX_DESCRIPTION = 500
DEFAULT_SESSION_LIMIT = 25  # [cdf-api.md 2.8; SDK DEFAULT_LIMIT_READ]
MAX_SESSION_IDS = 1000  # byids takes 1..1000 ids [cdf-api.md 2.8]
_UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


@dataclass(frozen=True)
class Page:
    """A list call's limit and cursor."""

    limit: int
    cursor: str | None = None


@dataclass(frozen=True)
class RunRequest:
    nonce: str
    input: dict[str, Any] | None
    metadata: dict[str, str]


def body_object(
    body: Any, message: str = "Request body must be a JSON object", required: bool = False
) -> dict[str, Any]:
    """The request's JSON object; an empty body is {} unless `required`."""
    if body is None and not required:
        return {}
    if not isinstance(body, dict):
        raise BadRequest(message)
    return body


def _filter(body: dict[str, Any]) -> dict[str, Any]:
    flt = body.get("filter") or {}
    if not isinstance(flt, dict):
        raise BadRequest("filter must be an object")
    return flt


def page(limit: Any, cursor: Any, default: int | None = None) -> Page:
    bounds = {} if default is None else {"default": default}
    return Page(validate_limit(limit, **bounds), validate_cursor(cursor))


# ----- workflows and versions


def workflow(item: dict[str, Any]) -> WorkflowFields:
    """externalId, description (<= 500), dataSetId (int64) and maxConcurrentExecutions (1-10000)."""
    xid = validate_identifier(item.get("externalId"), "externalId")
    description, data_set_id = item.get("description"), item.get("dataSetId")
    limit = item.get("maxConcurrentExecutions")
    if description is not None and (not isinstance(description, str) or len(description) > MAX_DESCRIPTION):
        raise BadRequest(f"description must be a string of at most {MAX_DESCRIPTION} characters")
    if data_set_id is not None and (
        isinstance(data_set_id, bool) or not isinstance(data_set_id, int) or not 1 <= data_set_id < 2**63
    ):
        raise BadRequest(f"dataSetId must be a positive 64-bit integer, got {data_set_id!r}")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 10000):
        raise BadRequest(f"maxConcurrentExecutions must be an integer between 1 and 10000, got {limit!r}")
    return WorkflowFields(xid, description, data_set_id, limit)


def workflow_ids(items: Any) -> list[str]:
    return [
        validate_identifier(i.get("externalId") if isinstance(i, dict) else None, "externalId")
        for i in (items if isinstance(items, list) else [None])
    ]


def version(item: dict[str, Any]) -> tuple[str, str, str | None, list[dict[str, Any]]]:
    """(workflowExternalId, version, description, tasks as stored) of a version upsert."""
    xid = validate_identifier(item.get("workflowExternalId"), "workflowExternalId")
    number = validate_identifier(item.get("version"), "version")
    description, tasks = validate_definition(item.get("workflowDefinition"))
    return xid, number, description, tasks


def version_ids(items: Any) -> list[tuple[str, str]]:
    if not isinstance(items, list):
        raise BadRequest("items must be a list")
    ids = []
    for item in items:
        if not isinstance(item, dict):
            raise BadRequest("items must be objects with workflowExternalId and version")
        ids.append(
            (
                validate_identifier(item.get("workflowExternalId"), "workflowExternalId"),
                validate_identifier(item.get("version"), "version"),
            )
        )
    return ids


def workflow_filter(filters: Any) -> WorkflowFilter:
    """`workflowFilters`; left out or [] (the SDK's "no ids") matches everything."""
    if filters is None:
        return WorkflowFilter()
    if not isinstance(filters, list):
        raise BadRequest("workflowFilters must be a list")
    pairs: list[tuple[str, str | None]] = []
    for f in filters:
        if not isinstance(f, dict) or not isinstance(f.get("externalId"), str):
            raise BadRequest("workflowFilters entries must be objects with externalId and optional version")
        number = f.get("version")
        if number is not None and not isinstance(number, str):
            raise BadRequest("workflowFilters version must be a string")
        pairs.append((f["externalId"], number))
    return WorkflowFilter(tuple(pairs))


def versions_list(body: dict[str, Any]) -> tuple[WorkflowFilter, Page]:
    return workflow_filter(_filter(body).get("workflowFilters")), page(body.get("limit"), body.get("cursor"))


# ----- executions


def run(body: Any) -> RunRequest:
    body = body_object(body, required=True)
    return RunRequest(validate_nonce(body), validate_input(body.get("input")), validate_metadata(body.get("metadata")))


def execution_id(value: str) -> str:
    if not _UUID_RE.match(value):
        raise BadRequest(f"Invalid execution id {value[:80]!r}: must be a UUID")
    return value


def executions_list(body: dict[str, Any]) -> tuple[ExecutionFilter, Page]:
    flt = _filter(body)
    wanted = workflow_filter(flt.get("workflowFilters"))
    start, end = flt.get("createdTimeStart"), flt.get("createdTimeEnd")
    for name, value in (("createdTimeStart", start), ("createdTimeEnd", end)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise BadRequest(f"{name} must be epoch milliseconds (integer)")
    statuses = flt.get("status")
    if statuses is not None and (not isinstance(statuses, list) or any(s not in EXECUTION_STATUSES for s in statuses)):
        raise BadRequest(f"status must be a list of {', '.join(sorted(EXECUTION_STATUSES))}")
    query = ExecutionFilter(wanted, start, end, None if statuses is None else frozenset(statuses))
    return query, page(body.get("limit"), body.get("cursor"))


def cancel_reason(body: Any) -> str:
    reason = body_object(body).get("reason")
    if reason is not None and (not isinstance(reason, str) or len(reason) > MAX_REASON):
        raise BadRequest(f"reason must be a string of at most {MAX_REASON} characters")
    return reason or "cancelled"


def retry_nonce(body: Any) -> str:
    message = "Request body must be a JSON object with authentication.nonce"
    return validate_nonce(body_object(body, message, required=True))


def task_update(body: Any) -> tuple[str, dict[str, Any] | None]:
    """(status, output) of an async task's update."""
    body = body_object(body, required=True)
    status, output = body.get("status"), body.get("output")
    if status not in TASK_UPDATE_STATUSES:
        raise BadRequest(f"status must be one of {', '.join(sorted(TASK_UPDATE_STATUSES))}, got {status!r}")
    if output is not None and not isinstance(output, dict):
        raise BadRequest("output must be an object")
    return status, output


# ----- triggers


def trigger(item: dict[str, Any]) -> TriggerFields:
    metadata = item.get("metadata")
    return TriggerFields(
        external_id=validate_identifier(item.get("externalId"), "externalId"),
        workflow_external_id=validate_identifier(item.get("workflowExternalId"), "workflowExternalId"),
        workflow_version=validate_identifier(item.get("workflowVersion"), "workflowVersion"),
        rule=validate_trigger_rule(item.get("triggerRule")),
        input=validate_input(item.get("input")),
        metadata=validate_metadata(metadata) if metadata is not None else None,
        nonce=validate_nonce(item),
    )


def matches(items: Any) -> list[dict[str, Any]]:
    """The matches fed to a batch trigger: query results or stream records."""
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise BadRequest("items must be a list of JSON objects (the matches)")
    return items


# ----- sessions


def session(item: dict[str, Any]) -> tuple[str, str | None, str | None]:
    """(type, clientId, clientSecret) of a session to create."""
    if "clientId" in item or "clientSecret" in item:
        return "CLIENT_CREDENTIALS", item.get("clientId"), item.get("clientSecret")
    if item.get("tokenExchange") is True:
        return "TOKEN_EXCHANGE", None, None
    if item.get("oneshotTokenExchange") is True:
        return "ONESHOT_TOKEN_EXCHANGE", None, None
    raise BadRequest("A session needs clientId and clientSecret, tokenExchange: true or oneshotTokenExchange: true")


def session_status(status: str | None) -> str | None:
    if status is not None and status not in SESSION_STATUSES:
        raise BadRequest(f"status must be one of {', '.join(SESSION_STATUSES)}, got {status!r}")
    return status


def session_ids(items: Any, most: int | None = MAX_SESSION_IDS) -> list[int]:
    """The ids of `{"items": [{"id": ...}]}`, each once, in order; 400 unless 1..`most` integer ids."""
    if not isinstance(items, list) or not items or (most is not None and len(items) > most):
        upper = f"1 to {most}" if most is not None else "at least 1"
        raise BadRequest(f"items must hold {upper} {{id}} objects")
    ids: list[int] = []
    for item in items:
        session_id = item.get("id") if isinstance(item, dict) else None
        if isinstance(session_id, bool) or not isinstance(session_id, int) or set(item) != {"id"}:
            raise BadRequest("items must be objects with an integer id and nothing else")
        if session_id not in ids:  # guess: a repeated id is answered once, not refused as duplicated
            ids.append(session_id)
    return ids
