"""Validation of trigger rules, and a schedule in words.

A trigger rule is given as CDF's API writes it: `{"triggerType": "schedule", "cronExpression": "0 2 * * 1",
"timezone": "Europe/Oslo"}`, `{"triggerType": "dataModeling", "dataModelingQuery": {...}, "batchSize": ...,
"batchTimeout": ...}` or `{"triggerType": "recordStream", "streamExternalId": ..., "batchSize": ...,
"batchTimeout": ...}`. Cron expressions are checked with cronsim and described with cron-descriptor, so a
typo fails `pulumi preview` and the outputs say when the trigger fires next without a cron table.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cron_descriptor import Options, get_description
from cronsim import CronSim, CronSimError

from pulumi_cdf_workflows.validation.fields import contains_unknown, restore_integers
from pulumi_cdf_workflows.validation.suggestions import describe, did_you_mean, unknown_key

SCHEDULE_KEYS = ("triggerType", "cronExpression", "timezone")
DATA_MODELING_KEYS = ("triggerType", "dataModelingQuery", "batchSize", "batchTimeout")
RECORD_STREAM_KEYS = (
    "triggerType",
    "streamExternalId",
    "filter",
    "sources",
    "initializeCursor",
    "batchSize",
    "batchTimeout",
)
# dataModeling: the API spec's ranges (the Toolkit's 100-1000 and 60-86400 are stricter; the wider is taken).
BATCH_SIZE = (1, 1000)
BATCH_TIMEOUT_SECONDS = (10, 86_400)
QUERY_ENTRIES = (1, 50)
# recordStream: the Toolkit's `RecordStreamTriggerRule` (newer than the spec copy; no other source found).
RECORD_BATCH_SIZE = (1, 100)
RECORD_BATCH_TIMEOUT_SECONDS = (10, 86_400)
STREAM_EXTERNAL_ID = re.compile(r"[a-z]([a-z0-9_-]{0,98}[a-z0-9])?")
SOURCE_PROPERTIES = (1, 1000)
TRIGGER_TYPES = ("schedule", "dataModeling", "recordStream")
_KINDS = "'schedule', 'dataModeling' or 'recordStream'"


def _in(value: Any, bounds: tuple[int, int]) -> bool:
    value = restore_integers(value)
    return isinstance(value, int) and not isinstance(value, bool) and bounds[0] <= value <= bounds[1]


def _zone(name: Any) -> ZoneInfo | None:
    try:
        return ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError):
        return None


def _unknown_keys(rule: Mapping[str, Any], known: tuple[str, ...], kind: str) -> list[str]:
    return [f"trigger_rule: {unknown_key(k, known[1:], f'a {kind} rule')}" for k in rule if k not in known]


def rule_problems(rule: Any) -> list[str]:
    """What CDF would refuse in a trigger rule, each starting with its path (`trigger_rule.batchSize ...`) and
    naming the limit and the value."""
    if contains_unknown(rule):
        return []
    if not isinstance(rule, Mapping):
        return [f"trigger_rule must be an object with triggerType ({_KINDS}), got {describe(rule)}"]
    kind = rule.get("triggerType")
    if kind == "schedule":
        return _unknown_keys(rule, SCHEDULE_KEYS, kind) + _schedule_problems(rule)
    if kind == "dataModeling":
        batch = _batch_problems(rule, BATCH_SIZE, BATCH_TIMEOUT_SECONDS)
        return _unknown_keys(rule, DATA_MODELING_KEYS, kind) + _data_modeling_problems(rule) + batch
    if kind == "recordStream":
        batch = _batch_problems(rule, RECORD_BATCH_SIZE, RECORD_BATCH_TIMEOUT_SECONDS)
        return _unknown_keys(rule, RECORD_STREAM_KEYS, kind) + _record_stream_problems(rule) + batch
    return [f"trigger_rule.triggerType must be {_KINDS}, got {describe(kind)}{did_you_mean(kind, TRIGGER_TYPES)}"]


def _schedule_problems(rule: Mapping[str, Any]) -> list[str]:
    problems = []
    zone = rule.get("timezone")
    zone = "UTC" if zone is None else zone  # null or absent: CDF's default
    if not isinstance(zone, str) or not zone.strip() or _zone(zone) is None:
        problems.append(f"trigger_rule.timezone {zone!r} is not an IANA time zone (e.g. 'Europe/Oslo')")
    expression = rule.get("cronExpression")
    if not isinstance(expression, str) or not expression.strip():
        problems.append("trigger_rule: a schedule rule needs cronExpression, e.g. '0 2 * * 1' (02:00 every Monday)")
    elif len(expression.split()) != 5:
        problems.append(
            f"trigger_rule.cronExpression {expression!r} is not a valid cron expression: CDF takes 5 fields "
            "(minute hour day-of-month month day-of-week), no seconds"
        )
    else:
        try:
            CronSim(expression, datetime.now(timezone.utc))
        except CronSimError as exc:
            problems.append(f"trigger_rule.cronExpression {expression!r} is not a valid cron expression: {exc}")
    return problems


def _data_modeling_problems(rule: Mapping[str, Any]) -> list[str]:
    problems = []
    query = rule.get("dataModelingQuery")
    if not isinstance(query, Mapping):
        return [
            f"trigger_rule: a dataModeling rule needs dataModelingQuery with `with` and `select`, got {describe(query)}"
        ]
    for part in ("with", "select"):
        entries = query.get(part)
        if not isinstance(entries, Mapping) or not QUERY_ENTRIES[0] <= len(entries) <= QUERY_ENTRIES[1]:
            got = f"{len(entries)} entries" if isinstance(entries, Mapping) else describe(entries)
            problems.append(
                f"trigger_rule.dataModelingQuery.{part} must hold {QUERY_ENTRIES[0]} to {QUERY_ENTRIES[1]} entries, "
                f"got {got}"
            )
    if _in(rule.get("batchSize"), BATCH_SIZE) and isinstance(query.get("with"), Mapping):
        # Every result set that `select` reads must be fetched in batches of batchSize.
        batch = restore_integers(rule["batchSize"])
        for name in query.get("select") or {}:
            entry = query["with"].get(name)
            if not isinstance(entry, Mapping):
                problems.append(f"trigger_rule.dataModelingQuery.select.{name} has no dataModelingQuery.with.{name}")
            elif restore_integers(entry.get("limit")) != batch:
                problems.append(
                    f"trigger_rule.dataModelingQuery.with.{name}.limit must equal batchSize ({batch}), "
                    f"got {describe(restore_integers(entry.get('limit')))}"
                )
    return problems


def _source_problems(sources: Any) -> list[str]:
    if not isinstance(sources, list):
        return [f"trigger_rule.sources must be a list of {{source, properties}} objects, got {describe(sources)}"]
    problems = []
    low, high = SOURCE_PROPERTIES
    for index, entry in enumerate(sources):
        at = f"trigger_rule.sources[{index}]"
        if not isinstance(entry, Mapping):
            problems.append(f"{at} must be an object {{source, properties}}, got {describe(entry)}")
            continue
        problems += [
            f"{at}: {unknown_key(k, ('source', 'properties'), 'a source')}"
            for k in entry
            if k not in ("source", "properties")
        ]
        if not isinstance(entry.get("source"), Mapping):
            problems.append(
                f"{at}.source must be a container reference {{space, externalId}}, got {describe(entry.get('source'))}"
            )
        properties = entry.get("properties")
        if (
            not isinstance(properties, list)
            or not low <= len(properties) <= high
            or not all(isinstance(p, str) for p in properties)
        ):
            got = f"{len(properties)} entries" if isinstance(properties, list) else describe(properties)
            problems.append(f'{at}.properties must list {low} to {high} property names ("*" for all), got {got}')
    return problems


def _record_stream_problems(rule: Mapping[str, Any]) -> list[str]:
    problems = []
    stream = rule.get("streamExternalId")
    if not isinstance(stream, str) or STREAM_EXTERNAL_ID.fullmatch(stream) is None:
        shown = "" if stream is None else f", got {describe(stream)}"
        problems.append(
            "trigger_rule: a recordStream rule needs streamExternalId, the external id of a stream: 1 to 100 "
            "characters, lower-case letters, digits, '_' and '-', starting with a letter and not ending with "
            f"'_' or '-'{shown}"
        )
    if rule.get("filter") is not None and not isinstance(rule["filter"], Mapping):
        problems.append(f"trigger_rule.filter must be an object, got {describe(rule['filter'])}")
    if rule.get("sources") is not None:
        problems += _source_problems(rule["sources"])
    if rule.get("initializeCursor") is not None and not isinstance(rule["initializeCursor"], str):
        problems.append(
            f"trigger_rule.initializeCursor must be a string such as '6h-ago', got {describe(rule['initializeCursor'])}"
        )
    return problems


def _batch_problems(rule: Mapping[str, Any], size: tuple[int, int], seconds: tuple[int, int]) -> list[str]:
    problems = []
    if not _in(rule.get("batchSize"), size):
        problems.append(
            f"trigger_rule.batchSize must be a whole number from {size[0]} to {size[1]}, "
            f"got {describe(restore_integers(rule.get('batchSize')))}"
        )
    if not _in(rule.get("batchTimeout"), seconds):
        problems.append(
            f"trigger_rule.batchTimeout must be a whole number of seconds from {seconds[0]} to {seconds[1]}, "
            f"got {describe(restore_integers(rule.get('batchTimeout')))}"
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
