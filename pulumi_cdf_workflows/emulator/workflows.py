"""Workflows and workflow versions: upsert, retrieve, list and delete, over the state that runs and triggers share."""

from __future__ import annotations

from collections import Counter
from typing import Any

from pulumi_cdf_workflows.emulator.definitions import validate_definition
from pulumi_cdf_workflows.emulator.exceptions import BadRequest, NotFound
from pulumi_cdf_workflows.emulator.state import Workflow, WorkflowVersion, paginate
from pulumi_cdf_workflows.emulator.triggers import TriggerBackend
from pulumi_cdf_workflows.emulator.validation import (
    matches,
    parse_workflow_filters,
    single_item,
    validate_identifier,
    validate_limit,
)

MAX_DESCRIPTION = 500


class WorkflowBackend(TriggerBackend):
    """The workflows and workflow versions APIs."""

    def upsert_workflow(self, project: str, items: Any) -> list[Workflow]:
        item = single_item(items, "workflow")
        xid = validate_identifier(item.get("externalId"), "externalId")
        description, data_set_id, max_concurrent = _workflow_fields(item)
        with self._lock:
            now = self.now_ms()
            workflow = self._workflows.get((project, xid))
            if workflow is None:
                workflow = self._workflows[(project, xid)] = Workflow(xid, now, now)
            else:
                # guess: lastUpdatedTime rises on every upsert, also one that changes nothing.
                workflow.last_updated_time = _later(now, workflow)
            workflow.description = description
            workflow.data_set_id = data_set_id
            workflow.max_concurrent_executions = max_concurrent
            self._admit(project, xid)  # a raised limit frees slots for waiting executions
            return [workflow]

    def get_workflow(self, project: str, xid: str) -> Workflow:
        with self._lock:
            workflow = self._workflows.get((project, xid))
        if workflow is None:
            raise NotFound(f"Workflow {xid!r} not found", missing=[{"externalId": xid}])
        return workflow

    def list_workflows(self, project: str, limit: Any, cursor: Any) -> tuple[list[Workflow], str | None]:
        with self._lock:
            items = sorted((w for (p, _), w in self._workflows.items() if p == project), key=lambda w: w.external_id)
        return paginate(items, validate_limit(limit), cursor)

    def delete_workflows(self, project: str, items: Any, ignore_unknown: bool) -> None:
        xids = [
            validate_identifier(i.get("externalId") if isinstance(i, dict) else None, "externalId")
            for i in (items if isinstance(items, list) else [None])
        ]
        with self._lock:
            missing = [{"externalId": x} for x in xids if (project, x) not in self._workflows]
            if missing and not ignore_unknown:
                raise NotFound("Workflows not found", missing=missing)
            self._refuse_while_running(project, xids)
            for xid in xids:
                self._workflows.pop((project, xid), None)
                for key in [k for k in self._versions if k[0] == project and k[1] == xid]:
                    del self._versions[key]
                # Deleting a workflow deletes its triggers [DOCS], and so lets go of their sessions.
                for trigger in [
                    t for (p, _), t in self._triggers.items() if p == project and t.workflow_external_id == xid
                ]:
                    self._drop_trigger(project, trigger.external_id)

    def _refuse_while_running(self, project: str, xids: list[str]) -> None:
        """CDF refuses to delete a workflow while its executions run [SDK-IT]; nothing is deleted then.

        Executions queued under maxConcurrentExecutions are RUNNING too: they have not finished.
        """
        running = Counter(
            e.workflow_external_id
            for e in self._executions.values()
            if e.project == project and e.status == "RUNNING" and e.workflow_external_id in xids
        )
        if running:
            busy = "; workflow ".join(f"{xid!r} while it has running executions ({n})" for xid, n in running.items())
            raise BadRequest(f"Cannot delete workflow {busy}: cancel them or wait for them to finish")

    def upsert_versions(self, project: str, items: Any) -> list[WorkflowVersion]:
        # "Limited to a single workflow version per request" [DOCS create-or-update-a-workflow-version].
        item = single_item(items, "workflow version")
        xid = validate_identifier(item.get("workflowExternalId"), "workflowExternalId")
        version = validate_identifier(item.get("version"), "version")
        description, tasks = validate_definition(item.get("workflowDefinition"))
        with self._lock:
            now = self.now_ms()
            # Like CDF, upserting a version of an unknown workflow creates the workflow [SDK-IT].
            if (project, xid) not in self._workflows:
                self._workflows[(project, xid)] = Workflow(xid, now, now)
            existing = self._versions.get((project, xid, version))
            if existing is None:
                existing = self._versions[(project, xid, version)] = WorkflowVersion(xid, version, tasks, now, now)
            else:
                # Updated in place, createdTime kept [SDK-IT test_upsert_preexisting]; lastUpdatedTime raised.
                # guess: raised on every upsert, also one that changes nothing (no source says either way).
                existing.last_updated_time = _later(now, existing)
            existing.tasks, existing.description = tasks, description
            return [existing]

    def get_version(self, project: str, xid: str, version: str) -> WorkflowVersion:
        with self._lock:
            found = self._versions.get((project, xid, version))
        if found is None:
            raise NotFound(
                f"Workflow version {xid!r} version {version!r} not found",
                missing=[{"workflowExternalId": xid, "version": version}],
            )
        return found

    def list_versions(
        self, project: str, filters: Any, limit: Any, cursor: Any
    ) -> tuple[list[WorkflowVersion], str | None]:
        wanted = parse_workflow_filters(filters)
        with self._lock:
            items = [
                v
                for (p, _, _), v in self._versions.items()
                if p == project and matches(wanted, v.workflow_external_id, v.version)
            ]
        items.sort(key=lambda v: (v.workflow_external_id, v.version))
        return paginate(items, validate_limit(limit), cursor)

    def delete_versions(self, project: str, items: Any, ignore_unknown: bool) -> None:
        if not isinstance(items, list):
            raise BadRequest("items must be a list")
        keys = []
        for item in items:
            if not isinstance(item, dict):
                raise BadRequest("items must be objects with workflowExternalId and version")
            keys.append(
                (
                    project,
                    validate_identifier(item.get("workflowExternalId"), "workflowExternalId"),
                    validate_identifier(item.get("version"), "version"),
                )
            )
        with self._lock:
            missing = [{"workflowExternalId": k[1], "version": k[2]} for k in keys if k not in self._versions]
            if missing and not ignore_unknown:
                raise NotFound("Workflow versions not found", missing=missing)
            for key in keys:
                self._versions.pop(key, None)


def _later(now: int, current: Workflow | WorkflowVersion) -> int:
    """`now`, or 1 ms past the current lastUpdatedTime when an update comes within the same millisecond."""
    return max(now, current.last_updated_time + 1)


def _workflow_fields(item: dict[str, Any]) -> tuple[str | None, int | None, int | None]:
    """description (<= 500), dataSetId (int64) and maxConcurrentExecutions (1-10000); omitted ones are cleared."""
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
    return description, data_set_id, limit
