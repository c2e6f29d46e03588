"""Validation of WorkflowTrigger inputs, and a schedule in words.

A trigger rule is given as CDF's API writes it: `{"triggerType": "schedule", "cronExpression": "0 2 * * 1",
"timezone": "Europe/Oslo"}`, `{"triggerType": "dataModeling", "dataModelingQuery": {...}, "batchSize": ...,
"batchTimeout": ...}` or `{"triggerType": "recordStream", "streamExternalId": ..., "batchSize": ...,
"batchTimeout": ...}`. Cron expressions are checked with cronsim and described with cron-descriptor, so a
typo fails `pulumi preview` and the outputs say when the trigger fires next without a cron table.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cron_descriptor import Options, get_description
from cronsim import CronSim, CronSimError
from pydantic import BaseModel, ConfigDict, field_validator

from pulumi_cdf_workflows.inputs import (
    ClientCredentialsArgs,
    ConnectionArgs,
    ExecutionInput,
    Identifier,
    Metadata,
    contains_unknown,
    pydantic_failures,
    restore_integers,
)

BATCH_SIZE = (1, 1000)
BATCH_TIMEOUT_SECONDS = (10, 86_400)
QUERY_ENTRIES = (1, 50)


def _in(value: Any, bounds: tuple[int, int]) -> bool:
    value = restore_integers(value)
    return isinstance(value, int) and not isinstance(value, bool) and bounds[0] <= value <= bounds[1]


def _zone(name: Any) -> ZoneInfo | None:
    try:
        return ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError):
        return None


_KINDS = "'schedule', 'dataModeling' or 'recordStream'"


def rule_problems(rule: Any) -> list[str]:
    """What CDF would refuse in a trigger rule, in words that name the field and the limit."""
    if contains_unknown(rule):
        return []
    if not isinstance(rule, Mapping):
        return [f"trigger_rule must be an object with triggerType ({_KINDS})"]
    kind = rule.get("triggerType")
    if kind == "schedule":
        return _schedule_problems(rule)
    if kind == "dataModeling":
        return _data_modeling_problems(rule) + _batch_problems(rule)
    if kind == "recordStream":
        return _record_stream_problems(rule) + _batch_problems(rule)
    return [f"triggerType must be {_KINDS}, got {kind!r}"]


def _schedule_problems(rule: Mapping[str, Any]) -> list[str]:
    problems = []
    unknown = sorted(set(rule) - {"triggerType", "cronExpression", "timezone"})
    if unknown:
        problems.append(f"a schedule rule has unknown keys {unknown}; CDF knows cronExpression and timezone")
    zone = rule.get("timezone", "UTC")
    if not isinstance(zone, str) or not zone.strip() or _zone(zone) is None:
        problems.append(f"timezone {zone!r} is not an IANA time zone (e.g. 'Europe/Oslo')")
    expression = rule.get("cronExpression")
    if not isinstance(expression, str) or not expression.strip():
        problems.append("a schedule rule needs cronExpression, e.g. '0 2 * * 1' (02:00 every Monday)")
    elif len(expression.split()) != 5:
        problems.append(
            f"cronExpression {expression!r} is not a valid cron expression: CDF takes 5 fields "
            "(minute hour day-of-month month day-of-week), no seconds"
        )
    else:
        try:
            CronSim(expression, datetime.now(timezone.utc))
        except CronSimError as exc:
            problems.append(f"cronExpression {expression!r} is not a valid cron expression: {exc}")
    return problems


def _data_modeling_problems(rule: Mapping[str, Any]) -> list[str]:
    problems = []
    query = rule.get("dataModelingQuery")
    if not isinstance(query, Mapping):
        return ["a dataModeling rule needs dataModelingQuery with `with` and `select`"]
    for part in ("with", "select"):
        entries = query.get(part)
        if not isinstance(entries, Mapping) or not QUERY_ENTRIES[0] <= len(entries) <= QUERY_ENTRIES[1]:
            problems.append(f"dataModelingQuery.{part} must hold {QUERY_ENTRIES[0]} to {QUERY_ENTRIES[1]} entries")
    if _in(rule.get("batchSize"), BATCH_SIZE) and isinstance(query.get("with"), Mapping):
        # CDF: every result set that `select` reads must be fetched in batches of batchSize.
        batch = restore_integers(rule["batchSize"])
        for name in query.get("select") or {}:
            entry = query["with"].get(name)
            if not isinstance(entry, Mapping):
                problems.append(f"dataModelingQuery.select.{name} has no dataModelingQuery.with.{name}")
            elif restore_integers(entry.get("limit")) != batch:
                problems.append(f"dataModelingQuery.with.{name}.limit must equal batchSize ({batch})")
    return problems


def _record_stream_problems(rule: Mapping[str, Any]) -> list[str]:
    # Newer than the API spec this package was written against; shapes follow cognite-sdk's
    # WorkflowRecordStreamTriggerRule, and the batch limits are taken to be dataModeling's.
    problems = []
    stream = rule.get("streamExternalId")
    if not isinstance(stream, str) or not stream.strip() or len(stream) > 255:
        problems.append("a recordStream rule needs streamExternalId, the external id of a stream (≤ 255 characters)")
    for name, kind in (("filter", Mapping), ("sources", list), ("initializeCursor", str)):
        if rule.get(name) is not None and not isinstance(rule[name], kind):
            problems.append(f"recordStream {name} must be {'an object' if kind is Mapping else 'a ' + kind.__name__}")
    return problems


def _batch_problems(rule: Mapping[str, Any]) -> list[str]:
    problems = []
    if not _in(rule.get("batchSize"), BATCH_SIZE):
        problems.append(f"batchSize must be a whole number from {BATCH_SIZE[0]} to {BATCH_SIZE[1]}")
    if not _in(rule.get("batchTimeout"), BATCH_TIMEOUT_SECONDS):
        problems.append(
            f"batchTimeout must be a whole number of seconds from {BATCH_TIMEOUT_SECONDS[0]} "
            f"to {BATCH_TIMEOUT_SECONDS[1]}"
        )
    return problems


def describe_schedule(rule: Mapping[str, Any], now: datetime | None = None) -> dict[str, str | None]:
    """When the trigger fires, in words, and for a schedule when it fires next."""
    kind = rule.get("triggerType")
    if kind in ("dataModeling", "recordStream"):
        source = (
            "instances match its data-modeling query"
            if kind == "dataModeling"
            else (f"records arrive in stream {rule.get('streamExternalId')!r}")
        )
        words = (
            f"When {source}: in batches of up to {restore_integers(rule.get('batchSize'))}, or after "
            f"{restore_integers(rule.get('batchTimeout'))} s for a smaller batch"
        )
        return {"schedule": words, "next_fire_time": None}
    if kind != "schedule":
        return {"schedule": None, "next_fire_time": None}
    tz_name = str(rule.get("timezone") or "UTC")
    tz = _zone(tz_name) or ZoneInfo("UTC")
    expression = str(rule["cronExpression"])
    options = Options()
    options.use_24hour_time_format = True
    words = get_description(expression, options)
    upcoming = next(CronSim(expression, (now or datetime.now(timezone.utc)).astimezone(tz)))
    return {
        "schedule": f"{words} ({tz_name})",
        "next_fire_time": upcoming.strftime("%a %d %b %Y %H:%M ") + tz_name,
    }


class TriggerArgs(BaseModel):
    """A workflow trigger: its rule, the version it runs, with what input and as whom."""

    model_config = ConfigDict(extra="ignore", hide_input_in_errors=True)

    external_id: Identifier
    trigger_rule: dict[str, Any]
    workflow_external_id: Identifier
    workflow_version: Identifier
    input: ExecutionInput = None
    metadata: Metadata = None
    client_credentials: ClientCredentialsArgs | None = None
    connection: ConnectionArgs | None = None

    @field_validator("trigger_rule", mode="before")
    @classmethod
    def _rule(cls, value: Any) -> Any:
        problems = rule_problems(value)
        if problems:
            raise ValueError("; ".join(problems))
        return value


_PLACEHOLDERS: dict[str, Any] = {
    "external_id": "placeholder",
    "workflow_external_id": "placeholder",
    "workflow_version": "placeholder",
    "trigger_rule": {"triggerType": "schedule", "cronExpression": "0 0 * * *"},
}


def validate_trigger(props: Mapping[str, Any]) -> tuple[TriggerArgs | None, list[tuple[str, str]]]:
    """Validate WorkflowTrigger inputs: the model (None while anything is unknown) and (property, reason) failures."""
    props = dict(props)
    credentials_unknown = contains_unknown(props.get("client_credentials"))
    if credentials_unknown:
        props["client_credentials"] = None  # checked once known; a preview must not refuse it
    args, failures = pydantic_failures(TriggerArgs, props, _PLACEHOLDERS)
    return (None if credentials_unknown else args), failures
