"""Workflow triggers: the trigger API, and what is due to fire on the clock or on fed matches.

Nothing fires behind a test's back: schedule triggers fire only when a test moves the clock (scheduler.py,
`advance`), and data-modeling and record-stream triggers fire on matches a test feeds (`add_matches`; the
emulator has no data-modeling or records API), full batches at once and partial ones after batchTimeout.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from pulumi_cdf_workflows.emulator.backend.executions import Executions
from pulumi_cdf_workflows.emulator.backend.sessions import Sessions
from pulumi_cdf_workflows.emulator.backend.shared import Shared
from pulumi_cdf_workflows.emulator.backend.workflows import Workflows
from pulumi_cdf_workflows.emulator.exceptions import BadRequest, NotFound
from pulumi_cdf_workflows.emulator.models import Trigger, TriggerFields, TriggerRun
from pulumi_cdf_workflows.emulator.queries import page_after, paginate
from pulumi_cdf_workflows.emulator.trigger_rules import BATCH_RULES, batches_due, occurrences

MAX_TRIGGERS_PER_PROJECT = 200  # [DOCS limits]
MAX_FIRINGS_PER_ADVANCE = 1000  # a longer jump is a test bug, not a schedule
TRIGGER_NOT_FOUND = "Workflow trigger not found."  # history of an unknown trigger [SDK-IT]
PAUSE_NOT_FOUND = "Trigger not found."  # pause/resume of an unknown trigger [SDK-IT]


@dataclass(frozen=True)
class Firing:
    """A trigger due to fire at `at` (epoch ms): a schedule occurrence (size 0) or a batch of `size` matches."""

    at: int
    trigger: Trigger
    size: int = 0


class Triggers:
    def __init__(self, shared: Shared, workflows: Workflows, sessions: Sessions, executions: Executions) -> None:
        self._shared = shared
        self._workflows = workflows
        self._sessions = sessions
        self._executions = executions
        self.reset()

    def reset(self) -> None:
        self._triggers: dict[tuple[str, str], Trigger] = {}

    def upsert(self, project: str, fields: TriggerFields) -> Trigger:
        """Creates a trigger, or updates it in place (createdTime and isPaused kept); its nonce's session replaces
        the one it held, which is revoked."""
        with self._shared.lock:
            xid = fields.external_id
            existing = self._triggers.get((project, xid))
            if existing is None and sum(p == project for p, _ in self._triggers) >= MAX_TRIGGERS_PER_PROJECT:
                raise BadRequest(f"A project can have at most {MAX_TRIGGERS_PER_PROJECT} workflow triggers")
            # The target must exist when the trigger is written [INFERRED]; a later delete shows in the history.
            self._workflows.get_version(project, fields.workflow_external_id, fields.workflow_version)
            session = self._sessions.claim(project, fields.nonce)
            self._sessions.bind_trigger(session, xid)
            now = self._shared.now_ms()
            rule, workflow_xid, version = fields.rule, fields.workflow_external_id, fields.workflow_version
            if existing is None:
                existing = Trigger(project, xid, rule, workflow_xid, version, now, now, session.id)
                self._triggers[(project, xid)] = existing
            else:
                # Updated in place: createdTime and isPaused kept, lastUpdatedTime raised [SDK-IT].
                if existing.rule["triggerType"] != rule["triggerType"]:
                    existing.queued = []  # matches of another kind of rule
                existing.rule, existing.workflow_external_id, existing.workflow_version = rule, workflow_xid, version
                if existing.session_id != session.id:
                    self._sessions.release(existing.session_id)
                existing.session_id = session.id
                existing.last_updated_time = max(now, existing.last_updated_time + 1)
            existing.input = copy.deepcopy(fields.input)
            existing.metadata = dict(fields.metadata) if fields.metadata is not None else None
            # A new rule fires from its lastUpdatedTime on, never for the past: a client can compute the next firing
            # from the timestamp CDF returns.
            # guess: CDF's exact start point is undocumented ("the API may adjust the exact timing of cron job
            # executions" [TOOLKIT ScheduleTrigger]).
            existing.checked_until = existing.last_updated_time
            return existing

    def list_triggers(
        self,
        project: str,
        limit: int,
        cursor: str | None,
        workflow_external_id: str | None = None,
        workflow_version: str | None = None,
    ) -> tuple[list[Trigger], str | None]:
        """Sorted by externalId; the toolkit's undocumented workflowExternalId/workflowVersion filters apply."""
        with self._shared.lock:
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
        return paginate(items, limit, cursor)

    def delete(self, project: str, xid: str) -> None:
        with self._shared.lock:
            if self._drop(project, xid) is None:
                raise NotFound(TRIGGER_NOT_FOUND, missing=[{"externalId": xid}])

    def delete_for_workflow(self, project: str, workflow_xid: str) -> None:
        """Deleting a workflow deletes its triggers [DOCS], and so lets go of their sessions."""
        with self._shared.lock:
            for trigger in [
                t for (p, _), t in self._triggers.items() if p == project and t.workflow_external_id == workflow_xid
            ]:
                self._drop(project, trigger.external_id)

    def _drop(self, project: str, xid: str) -> Trigger | None:
        """Deletes a trigger and revokes its session: nothing can run on those credentials any more."""
        trigger = self._triggers.pop((project, xid), None)
        if trigger is not None:
            self._sessions.release(trigger.session_id)
        return trigger

    def find(self, project: str, xid: str) -> Trigger | None:
        with self._shared.lock:
            return self._triggers.get((project, xid))

    def history(self, project: str, xid: str, limit: int, cursor: str | None) -> tuple[list[TriggerRun], str | None]:
        """Newest firing first; the cursor holds the last (fireTime, seq) so new firings do not shift pages."""
        with self._shared.lock:
            trigger = self.find(project, xid)
            if trigger is None:
                raise NotFound(TRIGGER_NOT_FOUND, missing=[{"externalId": xid}])
            runs = sorted(trigger.runs, key=lambda r: (r.fire_time, r.seq), reverse=True)
        return page_after(runs, lambda r: [r.fire_time, r.seq], limit, cursor)

    def pause(self, project: str, xid: str, paused: bool) -> Trigger:
        """Pause or resume; idempotent. A resumed trigger does not catch up on what it missed while paused."""
        with self._shared.lock:
            trigger = self.find(project, xid)
            if trigger is None:
                raise NotFound(PAUSE_NOT_FOUND, missing=[{"externalId": xid}])
            if trigger.is_paused and not paused:
                trigger.checked_until = max(trigger.checked_until, self._shared.now_ms())
            trigger.is_paused = paused
            return trigger

    def add_matches(self, project: str | None, xid: str, items: list[dict[str, Any]]) -> list[TriggerRun]:
        """Queues matches (query results, stream records) on a batch trigger and fires the batches now due.

        Every full batch fires at once; a partial one fires when batchTimeout has passed since its first match
        (here or when the clock moves). A paused trigger queues without firing. `project` None finds the trigger
        in whichever project has it.
        """
        with self._shared.lock, self._shared.instant():
            trigger = self._find(project, xid)
            kind = trigger.rule["triggerType"]
            if kind not in BATCH_RULES:
                raise BadRequest(
                    f"Trigger {xid!r} is a {kind} trigger: it takes no matches (only dataModeling and "
                    "recordStream triggers do)"
                )
            now = self._shared.now_ms()
            queued = [*trigger.queued, *((now, copy.deepcopy(i)) for i in items)]
            due = [] if trigger.is_paused else batches_due(trigger.rule, [at for at, _ in queued], now, now)
            if len(due) > MAX_FIRINGS_PER_ADVANCE:
                raise BadRequest(f"These matches would fire more than {MAX_FIRINGS_PER_ADVANCE} times: add fewer")
            trigger.queued = queued
            return [self.fire(Firing(at, trigger, size)) for at, size in due]

    def _find(self, project: str | None, xid: str) -> Trigger:
        found = [t for (p, x), t in self._triggers.items() if x == xid and project in (None, p)]
        if not found:
            raise NotFound(TRIGGER_NOT_FOUND, missing=[{"externalId": xid}])
        if len(found) > 1:
            projects = ", ".join(sorted(t.project for t in found))
            raise BadRequest(f"Trigger {xid!r} exists in several projects ({projects}): name the project")
        return found[0]

    # ----- the clock's side (scheduler.py)

    def due(self, now: int, until: int, seconds: float) -> list[Firing]:
        """What fires in (now, until]: each unpaused schedule's occurrences since it was last checked, and each
        batch trigger's full batches (at once) and partial batch (when its batchTimeout ends), in time order."""
        with self._shared.lock:
            due: list[Firing] = []
            for trigger in self._triggers.values():
                if trigger.is_paused:
                    continue
                if trigger.rule["triggerType"] == "schedule":
                    due += [
                        Firing(at, trigger)
                        for at in occurrences(trigger.rule, trigger.checked_until, until, MAX_FIRINGS_PER_ADVANCE)
                    ]
                elif trigger.queued:
                    due += [
                        Firing(at, trigger, size)
                        for at, size in batches_due(trigger.rule, [at for at, _ in trigger.queued], now, until)
                    ]
                if len(due) > MAX_FIRINGS_PER_ADVANCE:
                    raise BadRequest(
                        f"Advancing {seconds} s would fire more than {MAX_FIRINGS_PER_ADVANCE} times: advance in "
                        "smaller steps"
                    )
            # Stable sort: a trigger's batches due at the same instant keep their queue order.
            return sorted(due, key=lambda f: (f.at, f.trigger.project, f.trigger.external_id))

    def checked(self, until: int) -> None:
        """Every schedule occurrence up to `until` has fired or been skipped."""
        with self._shared.lock:
            for trigger in self._triggers.values():
                trigger.checked_until = max(trigger.checked_until, until)

    def clock_set(self, epoch_ms: int) -> None:
        """The clock was set: schedules and batch timeouts count from the new time on, nothing fires for the gap."""
        with self._shared.lock:
            for trigger in self._triggers.values():
                trigger.checked_until = epoch_ms
                trigger.queued = [(epoch_ms, match) for _, match in trigger.queued]

    def fire(self, firing: Firing) -> TriggerRun:
        """Starts an execution of the trigger's version, or records a failed firing if the version is gone."""
        with self._shared.lock:
            trigger, extra_input = firing.trigger, None
            if firing.size:
                # Batch triggers hand their matches to the workflow as ${workflow.input.items} [DOCS triggers].
                extra_input = {"items": [match for _, match in trigger.queued[: firing.size]]}
                trigger.queued = trigger.queued[firing.size :]
            run = TriggerRun(
                project=trigger.project,
                fire_time=firing.at,
                external_id=trigger.external_id,
                workflow_external_id=trigger.workflow_external_id,
                workflow_version=trigger.workflow_version,
                seq=len(trigger.runs),
            )
            version = self._workflows.find_version(
                trigger.project, trigger.workflow_external_id, trigger.workflow_version
            )
            if version is None:
                run.reason = (
                    f"Workflow version {trigger.workflow_external_id!r} version {trigger.workflow_version!r} not found"
                )
            else:
                # A trigger's executions get its input plus the version it targets, the version winning over an
                # input key of that name. Sources: cognite-sdk-python tests/tests_integration/test_api/
                # test_workflows.py TestWorkflowTriggers.test_trigger_run_history ("version gets appended to input
                # when executed by a trigger": it sets input["version"] and compares with the execution's input;
                # the test is marked skip, as no history came back in time), and
                # docs.cognite.com/cdf/data_workflows/triggers ("System input: Metadata added by the system, for
                # instance ${workflow.input.version}"; "Scheduled triggers pass only the static input data you
                # define when you create a trigger, and system metadata, such as workflow version"). Batch
                # triggers add their matches as `items` [same page: ${workflow.input.items}].
                run_input = {**(trigger.input or {}), "version": trigger.workflow_version, **(extra_input or {})}
                run.execution_id = self._executions.launch(
                    trigger.project, version, run_input, trigger.metadata or {}
                ).id
            trigger.runs.append(run)
            return run
