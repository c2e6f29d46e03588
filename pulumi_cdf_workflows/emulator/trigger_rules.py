"""Trigger rules: validation of the three rule types, and when a rule is due (cron occurrences, batches).

Pure functions of a rule and times (epoch ms); the trigger API and the firing live in triggers.py.
"""

from __future__ import annotations

import copy
import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cronsim import CronSim, CronSimError

from pulumi_cdf_workflows.emulator.exceptions import BadRequest

MAX_QUERY_ENTRIES = 50
# dataModeling: batchSize 1..1000 and batchTimeout 10..86400 s [OAS]. The toolkit's validator says 100..1000 and
# 60..86400 (yaml_classes/workflow_trigger.py DataModelingTrigger); the spec's wider ranges are taken.
BATCH_SIZE_RANGE = range(1, 1001)
BATCH_TIMEOUT_RANGE = range(10, 86401)
# recordStream is newer than the spec copy; its only public bounds are the toolkit's RecordStreamTriggerRule:
# batchSize 1..100 and batchTimeout 10..86400, streamExternalId 1..100 characters matching the pattern below.
# guess: the toolkit writes the batch bounds as min_length/max_length on integers (which pydantic does not enforce
# on ints), so whether CDF holds exactly these bounds is unconfirmed.
STREAM_BATCH_SIZE_RANGE = range(1, 101)
STREAM_BATCH_TIMEOUT_RANGE = range(10, 86401)
STREAM_EXTERNAL_ID = re.compile(r"^[a-z]([a-z0-9_-]{0,98}[a-z0-9])?$")
MAX_SOURCE_PROPERTIES = 1000  # [TOOLKIT RecordSource.properties: 1..1000]
BATCH_RULES = frozenset({"dataModeling", "recordStream"})


def validate_cron(expression: Any) -> str:
    """A UNIX cron expression (5 fields) that fires at some point; 400 with cronsim's reason otherwise."""
    if not isinstance(expression, str) or not expression.strip():
        raise BadRequest("triggerRule.cronExpression must be a non-empty string")
    # cronsim also takes a 6th (seconds) field; CDF's schedules are UNIX cron, minutes first.
    if len(expression.split()) != 5:
        raise BadRequest(f"Invalid cron expression: the provided schedule [{expression}] must have 5 fields")
    try:
        CronSim(expression, datetime.now(ZoneInfo("UTC")))
    except CronSimError as exc:
        raise BadRequest(f"Invalid cron expression: the provided schedule [{expression}] is invalid: {exc}") from exc
    return expression


def validate_timezone(value: Any) -> str:
    if value is None:
        return "UTC"  # the server fills it [OAS; TOOLKIT]
    if not isinstance(value, str) or not value:
        raise BadRequest("triggerRule.timezone must be an IANA time zone name such as Europe/Oslo")
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise BadRequest(f"Unknown time zone {value!r}: use an IANA name such as Europe/Oslo") from exc
    return value


def _batch(rule: dict[str, Any], name: str, allowed: range) -> int:
    value = rule.get(name)
    if isinstance(value, bool) or not isinstance(value, int) or value not in allowed:
        raise BadRequest(f"triggerRule.{name} must be an integer between {allowed.start} and {allowed.stop - 1}")
    return value


def _query_part(query: dict[str, Any], name: str) -> dict[str, Any]:
    part = query.get(name)
    if not isinstance(part, dict) or not 1 <= len(part) <= MAX_QUERY_ENTRIES:
        raise BadRequest(f"dataModelingQuery.{name} must be an object of 1 to {MAX_QUERY_ENTRIES} entries")
    return part


def _data_modeling_rule(rule: dict[str, Any]) -> dict[str, Any]:
    batch_size = _batch(rule, "batchSize", BATCH_SIZE_RANGE)
    batch_timeout = _batch(rule, "batchTimeout", BATCH_TIMEOUT_RANGE)
    query = rule.get("dataModelingQuery")
    if not isinstance(query, dict):
        raise BadRequest("triggerRule.dataModelingQuery must be an object with `with` and `select`")
    with_, select = _query_part(query, "with"), _query_part(query, "select")
    for key in select:
        expression = with_.get(key)
        if not isinstance(expression, dict):
            raise BadRequest(f"dataModelingQuery.select.{key} has no result set expression in `with`")
        if expression.get("limit") != batch_size:
            raise BadRequest(
                f"dataModelingQuery.with.{key}.limit must equal batchSize ({batch_size}) for a selected result set"
            )
    return {
        "triggerType": "dataModeling",
        "dataModelingQuery": copy.deepcopy(query),
        "batchSize": batch_size,
        "batchTimeout": batch_timeout,
    }


def _stream_sources(value: Any) -> list[dict[str, Any]]:
    """`[{source: {container id}, properties: [1..1000 names]}]` [SDK WorkflowRecordStreamSourceSelector; TOOLKIT]."""
    if not isinstance(value, list):
        raise BadRequest("triggerRule.sources must be a list of {source, properties} objects")
    for i, entry in enumerate(value):
        properties = entry.get("properties") if isinstance(entry, dict) else None
        if not isinstance(entry, dict) or not isinstance(entry.get("source"), dict):
            raise BadRequest(f"triggerRule.sources[{i}] must be an object with a source (a container reference)")
        if (
            not isinstance(properties, list)
            or not 1 <= len(properties) <= MAX_SOURCE_PROPERTIES
            or not all(isinstance(p, str) for p in properties)
        ):
            raise BadRequest(
                f"triggerRule.sources[{i}].properties must list 1 to {MAX_SOURCE_PROPERTIES} property names"
            )
    return copy.deepcopy(value)


def _record_stream_rule(rule: dict[str, Any]) -> dict[str, Any]:
    stream = rule.get("streamExternalId")
    if not isinstance(stream, str) or not STREAM_EXTERNAL_ID.match(stream):
        raise BadRequest(
            "triggerRule.streamExternalId must be 1 to 100 characters of lower-case letters, digits, _ and -, "
            f"starting with a letter and not ending with _ or - (pattern {STREAM_EXTERNAL_ID.pattern}), got {stream!r}"
        )
    stored: dict[str, Any] = {
        "triggerType": "recordStream",
        "streamExternalId": stream,
        "batchSize": _batch(rule, "batchSize", STREAM_BATCH_SIZE_RANGE),
        "batchTimeout": _batch(rule, "batchTimeout", STREAM_BATCH_TIMEOUT_RANGE),
    }
    # guess: the toolkit requires filter and sources, the SDK makes both optional; optional (the wider) is taken.
    if rule.get("filter") is not None:
        if not isinstance(rule["filter"], dict):
            raise BadRequest("triggerRule.filter must be an object (a records filter)")
        stored["filter"] = copy.deepcopy(rule["filter"])
    if rule.get("sources") is not None:
        stored["sources"] = _stream_sources(rule["sources"])
    if rule.get("initializeCursor") is not None:
        if not isinstance(rule["initializeCursor"], str):
            raise BadRequest("triggerRule.initializeCursor must be a string such as 6h-ago")
        stored["initializeCursor"] = rule["initializeCursor"]
    # guess: when initializeCursor is omitted, syncing starts now ("0d-ago") [SDK docstring]; whether CDF writes
    # that default back is unknown, so it is not filled.
    return stored


def validate_trigger_rule(rule: Any) -> dict[str, Any]:
    """The rule as stored and returned (timezone filled, unknown keys dropped)."""
    # guess: unknown keys in a rule are dropped, not refused (no source says which).
    if not isinstance(rule, dict):
        raise BadRequest("triggerRule must be an object with a triggerType")
    trigger_type = rule.get("triggerType")
    if trigger_type == "schedule":
        return {
            "triggerType": "schedule",
            "cronExpression": validate_cron(rule.get("cronExpression")),
            "timezone": validate_timezone(rule.get("timezone")),
        }
    if trigger_type == "dataModeling":
        return _data_modeling_rule(rule)
    if trigger_type == "recordStream":
        return _record_stream_rule(rule)
    raise BadRequest(f"triggerRule.triggerType must be schedule, dataModeling or recordStream, got {trigger_type!r}")


def occurrences(rule: dict[str, Any], after_ms: int, until_ms: int, cap: int) -> list[int]:
    """Epoch ms of a schedule rule's occurrences in (after_ms, until_ms], in its time zone; at most cap + 1."""
    start = datetime.fromtimestamp(after_ms / 1000, ZoneInfo(rule["timezone"]))
    found: list[int] = []
    for occurrence in CronSim(rule["cronExpression"], start):
        at = int(occurrence.timestamp() * 1000)
        if at > until_ms or len(found) > cap:
            break
        found.append(at)
    return found


def batches_due(rule: dict[str, Any], queued_at: list[int], now_ms: int, until_ms: int) -> list[tuple[int, int]]:
    """(fire time, batch length) of the batches a batch rule fires in [now_ms, until_ms], oldest first.

    `queued_at` holds the queue times of the waiting matches, in order. Every full batch is due at once
    (now_ms); what is left fires as one partial batch once batchTimeout has passed since its first match.
    """
    size, timeout_ms = rule["batchSize"], rule["batchTimeout"] * 1000
    due = [(now_ms, size)] * (len(queued_at) // size)
    rest = queued_at[len(due) * size :]
    if rest:
        deadline = max(now_ms, rest[0] + timeout_ms)
        if deadline <= until_ms:
            due.append((deadline, len(rest)))
    return due
