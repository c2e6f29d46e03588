"""Workflow triggers: the trigger API, and triggers firing on the emulator's clock or on fed matches.

Nothing fires behind a test's back: schedule triggers fire only when a test moves the clock (`advance_time`),
and data-modeling and record-stream triggers fire on matches a test feeds (`add_trigger_matches`; the emulator
has no data-modeling or records API), full batches at once and partial ones after batchTimeout on the clock.
"""

from __future__ import annotations

import copy
from typing import Any

from pulumi_cdf_workflows.emulator.exceptions import BadRequest, NotFound
from pulumi_cdf_workflows.emulator.runner import ExecutionRunner
from pulumi_cdf_workflows.emulator.state import Trigger, TriggerRun, page_after, paginate
from pulumi_cdf_workflows.emulator.trigger_rules import BATCH_RULES, batches_due, occurrences, validate_trigger_rule
from pulumi_cdf_workflows.emulator.validation import (
    single_item,
    validate_identifier,
    validate_input,
    validate_limit,
    validate_metadata,
    validate_nonce,
)

MAX_TRIGGERS_PER_PROJECT = 200  # [DOCS limits]
MAX_FIRINGS_PER_ADVANCE = 1000  # each firing starts a thread; a longer jump is a test bug, not a schedule
TRIGGER_NOT_FOUND = "Workflow trigger not found."  # history of an unknown trigger [SDK-IT]
PAUSE_NOT_FOUND = "Trigger not found."  # pause/resume of an unknown trigger [SDK-IT]


class TriggerBackend(ExecutionRunner):
    """The workflow triggers API, the clock that fires them and the matches fed to batch triggers."""

    def upsert_triggers(self, project: str, items: Any) -> list[Trigger]:
        item = single_item(items, "trigger")
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
                if existing.rule["triggerType"] != rule["triggerType"]:
                    existing.queued = []  # matches of another kind of rule
                existing.rule, existing.workflow_external_id, existing.workflow_version = rule, workflow_xid, version
                if existing.session_id != session.id:
                    self._revoke_session(existing.session_id)  # the new nonce's session replaces it
                existing.session_id = session.id
                existing.last_updated_time = max(now, existing.last_updated_time + 1)
            existing.input = copy.deepcopy(trigger_input)
            existing.metadata = dict(metadata) if metadata is not None else None
            # A new rule fires from its lastUpdatedTime on, never for the past: a client can compute the next firing
            # from the timestamp CDF returns.
            # guess: CDF's exact start point is undocumented ("the API may adjust the exact timing of cron job
            # executions" [TOOLKIT ScheduleTrigger]).
            existing.checked_until = existing.last_updated_time
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
        xid = validate_identifier(single_item(items, "{externalId} object").get("externalId"), "externalId")
        with self._lock:
            if self._drop_trigger(project, xid) is None:
                raise NotFound(TRIGGER_NOT_FOUND, missing=[{"externalId": xid}])

    def _drop_trigger(self, project: str, xid: str) -> Trigger | None:
        """Deletes a trigger and revokes its session: nothing can run on those credentials any more."""
        trigger = self._triggers.pop((project, xid), None)
        if trigger is not None:
            self._revoke_session(trigger.session_id)
        return trigger

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

    # ----- matches of data-modeling and record-stream triggers

    def add_trigger_matches(self, project: str | None, xid: str, items: Any) -> list[dict[str, Any]]:
        """Queues matches (query results, stream records) on a batch trigger and fires the batches now due.

        Every full batch fires at once; a partial one fires when batchTimeout has passed since its first match
        (here or in `advance_time`). A paused trigger queues without firing. `project` None finds the trigger
        in whichever project has it. Returns the firings as `advance_time` does.
        """
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            raise BadRequest("items must be a list of JSON objects (the matches)")
        with self._lock:
            trigger = self._find_trigger(project, xid)
            kind = trigger.rule["triggerType"]
            if kind not in BATCH_RULES:
                raise BadRequest(
                    f"Trigger {xid!r} is a {kind} trigger: it takes no matches (only dataModeling and "
                    "recordStream triggers do)"
                )
            now = self.now_ms()
            queued = [*trigger.queued, *((now, copy.deepcopy(i)) for i in items)]
            due = [] if trigger.is_paused else batches_due(trigger.rule, [at for at, _ in queued], now, now)
            if len(due) > MAX_FIRINGS_PER_ADVANCE:
                raise BadRequest(f"These matches would fire more than {MAX_FIRINGS_PER_ADVANCE} times: add fewer")
            trigger.queued = queued
            return [self._fire_batch(trigger, at, size) for at, size in due]

    def _find_trigger(self, project: str | None, xid: str) -> Trigger:
        found = [t for (p, x), t in self._triggers.items() if x == xid and project in (None, p)]
        if not found:
            raise NotFound(TRIGGER_NOT_FOUND, missing=[{"externalId": xid}])
        if len(found) > 1:
            projects = ", ".join(sorted(t.project for t in found))
            raise BadRequest(f"Trigger {xid!r} exists in several projects ({projects}): name the project")
        return found[0]

    def _fire_batch(self, trigger: Trigger, at: int, size: int) -> dict[str, Any]:
        batch = [match for _, match in trigger.queued[:size]]
        trigger.queued = trigger.queued[size:]
        # Batch triggers hand their matches to the workflow as ${workflow.input.items} [DOCS triggers].
        return {**self._fire(trigger, at, {"items": batch}).to_json(), "project": trigger.project}

    # ----- the clock

    def set_time(self, epoch_ms: int) -> int:
        """Sets the clock without firing anything: schedules and batch timeouts count from the new time on."""
        if isinstance(epoch_ms, bool) or not isinstance(epoch_ms, int) or epoch_ms < 0:
            raise BadRequest("time must be epoch milliseconds (a non-negative integer)")
        with self._lock:
            self.wall.set(epoch_ms)
            for trigger in self._triggers.values():
                trigger.checked_until = epoch_ms
                trigger.queued = [(epoch_ms, match) for _, match in trigger.queued]
            return epoch_ms

    def advance_time(self, seconds: float) -> list[dict[str, Any]]:
        """Moves the clock forward and fires each unpaused trigger that falls due up to the new time.

        Schedule triggers fire once per occurrence since they were last checked (upsert, resume or the previous
        advance); batch triggers fire their full batches at once (queued while paused) and a partial batch when
        its batchTimeout ends. All fire in time order; the clock stands at each firing, so executions are
        created at their fire time. Returns the firings, oldest first, as history items with their project.
        """
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds < 0:
            raise BadRequest("seconds must be a non-negative number")
        with self._lock:
            now = self.now_ms()
            until = now + round(seconds * 1000)
            due: list[tuple[int, str, str, Trigger, int]] = []  # ..., batch size (0: a schedule occurrence)
            for trigger in self._triggers.values():
                key = (trigger.project, trigger.external_id, trigger)
                if trigger.is_paused:
                    continue
                if trigger.rule["triggerType"] == "schedule":
                    for at in occurrences(trigger.rule, trigger.checked_until, until, MAX_FIRINGS_PER_ADVANCE):
                        due.append((at, *key, 0))
                elif trigger.queued:
                    for at, size in batches_due(trigger.rule, [at for at, _ in trigger.queued], now, until):
                        due.append((at, *key, size))
                if len(due) > MAX_FIRINGS_PER_ADVANCE:
                    raise BadRequest(
                        f"Advancing {seconds} s would fire more than {MAX_FIRINGS_PER_ADVANCE} times: advance in "
                        "smaller steps"
                    )
            fired: list[dict[str, Any]] = []
            # Stable sort: a trigger's batches due at the same instant keep their queue order.
            for at, project, _, trigger, size in sorted(due, key=lambda d: d[:3]):
                if at > self.now_ms():
                    self.wall.set(at)
                if size:
                    fired.append(self._fire_batch(trigger, at, size))
                else:
                    fired.append({**self._fire(trigger, at).to_json(), "project": project})
            if until > self.now_ms():
                self.wall.set(until)
            for trigger in self._triggers.values():
                trigger.checked_until = max(trigger.checked_until, until)
            return fired

    def _fire(self, trigger: Trigger, at: int, extra_input: dict[str, Any] | None = None) -> TriggerRun:
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
            # A trigger's executions get its input plus the version it targets, the version winning over an input key
            # of that name. Sources: cognite-sdk-python tests/tests_integration/test_api/test_workflows.py
            # TestWorkflowTriggers.test_trigger_run_history ("version gets appended to input when executed by a
            # trigger": it sets input["version"] and compares with the execution's input; the test is marked skip,
            # as no history came back in time), and docs.cognite.com/cdf/data_workflows/triggers ("System input:
            # Metadata added by the system, for instance ${workflow.input.version}"; "Scheduled triggers pass only the
            # static input data you define when you create a trigger, and system metadata, such as workflow
            # version"). Batch triggers add their matches as `items` [same page: ${workflow.input.items}].
            run_input = {**(trigger.input or {}), "version": trigger.workflow_version, **(extra_input or {})}
            run.execution_id = self._launch(trigger.project, version, run_input, trigger.metadata or {}).id
        trigger.runs.append(run)
        return run
