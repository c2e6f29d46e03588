"""Workflow triggers: upsert validation, the trigger API, and schedule triggers firing on the emulator's clock.

Schedule triggers fire only when a test moves the clock (`advance_time`): no thread watches cron, so nothing
fires behind a test's back. Data-modeling and record-stream triggers are stored and listed but never fire.
"""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cronsim import CronSim, CronSimError

from pulumi_cdf_workflows.emulator.exceptions import BadRequest, NotFound
from pulumi_cdf_workflows.emulator.runner import ExecutionRunner
from pulumi_cdf_workflows.emulator.state import Trigger, TriggerRun, page_after, paginate
from pulumi_cdf_workflows.emulator.validation import (
    validate_identifier,
    validate_input,
    validate_limit,
    validate_metadata,
    validate_nonce,
)

MAX_TRIGGERS_PER_PROJECT = 200  # [DOCS limits]
MAX_FIRINGS_PER_ADVANCE = 1000  # each firing starts a thread; a longer jump is a test bug, not a schedule
MAX_QUERY_ENTRIES = 50
BATCH_SIZE_RANGE = range(1, 1001)  # the spec's ranges; the toolkit's stricter ones are its own
BATCH_TIMEOUT_RANGE = range(10, 86401)
TRIGGER_NOT_FOUND = "Workflow trigger not found."  # history of an unknown trigger [SDK-IT]
PAUSE_NOT_FOUND = "Trigger not found."  # pause/resume of an unknown trigger [SDK-IT]


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


def _record_stream_rule(rule: dict[str, Any]) -> dict[str, Any]:
    # Newer than the spec copy: the limits of dataModeling are assumed [INFERRED].
    stored: dict[str, Any] = {
        "triggerType": "recordStream",
        "streamExternalId": validate_identifier(rule.get("streamExternalId"), "triggerRule.streamExternalId"),
        "batchSize": _batch(rule, "batchSize", BATCH_SIZE_RANGE),
        "batchTimeout": _batch(rule, "batchTimeout", BATCH_TIMEOUT_RANGE),
    }
    for name, kind in (("filter", dict), ("sources", list), ("initializeCursor", str)):
        if rule.get(name) is not None:
            if not isinstance(rule[name], kind):
                raise BadRequest(f"triggerRule.{name} must be a {kind.__name__}")
            stored[name] = copy.deepcopy(rule[name])
    return stored


def validate_trigger_rule(rule: Any) -> dict[str, Any]:
    """The rule as stored and returned (timezone filled, unknown keys dropped)."""
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


class TriggerBackend(ExecutionRunner):
    """The workflow triggers API and the clock that fires schedule triggers."""

    def upsert_triggers(self, project: str, items: Any) -> list[Trigger]:
        if not isinstance(items, list) or len(items) != 1:
            raise BadRequest("items must contain exactly 1 trigger (upsert is limited to one per request)")
        item = items[0]
        if not isinstance(item, dict):
            raise BadRequest("items[0] must be an object")
        xid = validate_identifier(item.get("externalId"), "externalId")
        workflow_xid = validate_identifier(item.get("workflowExternalId"), "workflowExternalId")
        version = validate_identifier(item.get("workflowVersion"), "workflowVersion")
        rule = validate_trigger_rule(item.get("triggerRule"))
        trigger_input = validate_input(item.get("input"))
        metadata = validate_metadata(item.get("metadata")) if item.get("metadata") is not None else None
        nonce = validate_nonce(item)
        with self._lock:
            existing = self._triggers.get((project, xid))
            if existing is None and sum(p == project for p, _ in self._triggers) >= MAX_TRIGGERS_PER_PROJECT:
                raise BadRequest(f"A project can have at most {MAX_TRIGGERS_PER_PROJECT} workflow triggers")
            # The target must exist when the trigger is written [INFERRED]; a later delete shows in the history.
            if (project, workflow_xid, version) not in self._versions:
                raise NotFound(
                    f"Workflow version {workflow_xid!r} version {version!r} not found",
                    missing=[{"workflowExternalId": workflow_xid, "version": version}],
                )
            session = self._check_nonce(project, nonce)
            session.bound_trigger, session.status = xid, "ACTIVE"
            now = self.now_ms()
            if existing is None:
                existing = Trigger(project, xid, rule, workflow_xid, version, now, now, session.id)
                self._triggers[(project, xid)] = existing
            else:
                # Updated in place: createdTime and isPaused kept, lastUpdatedTime raised [SDK-IT].
                existing.rule, existing.workflow_external_id, existing.workflow_version = rule, workflow_xid, version
                existing.session_id = session.id
                existing.last_updated_time = max(now, existing.last_updated_time + 1)
            existing.input = copy.deepcopy(trigger_input)
            existing.metadata = dict(metadata) if metadata is not None else None
            existing.checked_until = now  # a new rule fires from now on, never for the past
            return [existing]

    def list_triggers(
        self,
        project: str,
        limit: Any,
        cursor: Any,
        workflow_external_id: str | None = None,
        workflow_version: str | None = None,
    ) -> tuple[list[Trigger], str | None]:
        """Sorted by externalId; the toolkit's undocumented workflowExternalId/workflowVersion filters apply."""
        with self._lock:
            items = sorted(
                (
                    t
                    for (p, _), t in self._triggers.items()
                    if p == project
                    and workflow_external_id in (None, t.workflow_external_id)
                    and workflow_version in (None, t.workflow_version)
                ),
                key=lambda t: t.external_id,
            )
        return paginate(items, validate_limit(limit), cursor)

    def delete_triggers(self, project: str, items: Any) -> None:
        if not isinstance(items, list) or len(items) != 1 or not isinstance(items[0], dict):
            raise BadRequest("items must contain exactly 1 {externalId} object")
        xid = validate_identifier(items[0].get("externalId"), "externalId")
        with self._lock:
            if self._triggers.pop((project, xid), None) is None:
                raise NotFound(TRIGGER_NOT_FOUND, missing=[{"externalId": xid}])

    def trigger_history(self, project: str, xid: str, limit: Any, cursor: Any) -> tuple[list[TriggerRun], str | None]:
        """Newest firing first; the cursor holds the last (fireTime, seq) so new firings do not shift pages."""
        with self._lock:
            trigger = self._triggers.get((project, xid))
            if trigger is None:
                raise NotFound(TRIGGER_NOT_FOUND, missing=[{"externalId": xid}])
            runs = sorted(trigger.runs, key=lambda r: (r.fire_time, r.seq), reverse=True)
        return page_after(runs, lambda r: [r.fire_time, r.seq], validate_limit(limit), cursor)

    def pause_trigger(self, project: str, xid: str, paused: bool) -> Trigger:
        """Pause or resume; idempotent. A resumed trigger does not catch up on what it missed while paused."""
        with self._lock:
            trigger = self._triggers.get((project, xid))
            if trigger is None:
                raise NotFound(PAUSE_NOT_FOUND, missing=[{"externalId": xid}])
            if trigger.is_paused and not paused:
                trigger.checked_until = max(trigger.checked_until, self.now_ms())
            trigger.is_paused = paused
            return trigger

    # ----- the clock

    def set_time(self, epoch_ms: int) -> int:
        """Sets the clock without firing anything: schedules count from the new time on."""
        if isinstance(epoch_ms, bool) or not isinstance(epoch_ms, int) or epoch_ms < 0:
            raise BadRequest("time must be epoch milliseconds (a non-negative integer)")
        with self._lock:
            self.wall.set(epoch_ms)
            for trigger in self._triggers.values():
                trigger.checked_until = epoch_ms
            return epoch_ms

    def advance_time(self, seconds: float) -> list[dict[str, Any]]:
        """Moves the clock forward and fires each unpaused schedule trigger once per occurrence up to the new time.

        Occurrences since each trigger was last checked (its upsert, resume or the previous advance) and up to
        the new time fire in time order; the clock stands at each occurrence while it fires, so executions are
        created at their fire time. Returns the firings, oldest first, as history items with their project.
        """
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds < 0:
            raise BadRequest("seconds must be a non-negative number")
        with self._lock:
            until = self.now_ms() + round(seconds * 1000)
            due: list[tuple[int, str, str, Trigger]] = []
            for trigger in self._triggers.values():
                if trigger.rule["triggerType"] != "schedule" or trigger.is_paused:
                    continue
                for at in occurrences(trigger.rule, trigger.checked_until, until, MAX_FIRINGS_PER_ADVANCE):
                    due.append((at, trigger.project, trigger.external_id, trigger))
                if len(due) > MAX_FIRINGS_PER_ADVANCE:
                    raise BadRequest(
                        f"Advancing {seconds} s would fire more than {MAX_FIRINGS_PER_ADVANCE} times: advance in "
                        "smaller steps"
                    )
            fired: list[dict[str, Any]] = []
            for at, project, _, trigger in sorted(due, key=lambda d: d[:3]):
                if at > self.now_ms():
                    self.wall.set(at)
                fired.append({**self._fire(trigger, at).to_json(), "project": project})
            if until > self.now_ms():
                self.wall.set(until)
            for trigger in self._triggers.values():
                trigger.checked_until = max(trigger.checked_until, until)
            return fired

    def _fire(self, trigger: Trigger, at: int) -> TriggerRun:
        run = TriggerRun(
            fire_time=at,
            external_id=trigger.external_id,
            workflow_external_id=trigger.workflow_external_id,
            workflow_version=trigger.workflow_version,
            seq=len(trigger.runs),
        )
        version = self._versions.get((trigger.project, trigger.workflow_external_id, trigger.workflow_version))
        if version is None:
            run.reason = (
                f"Workflow version {trigger.workflow_external_id!r} version {trigger.workflow_version!r} not found"
            )
        else:
            # A trigger's executions get its input plus the version it targets [SDK-IT; DOCS].
            run_input = {**(trigger.input or {}), "version": trigger.workflow_version}
            run.execution_id = self._launch(trigger.project, version, run_input, trigger.metadata or {}).id
        trigger.runs.append(run)
        return run
