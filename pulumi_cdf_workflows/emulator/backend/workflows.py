"""Workflows and their versions: upsert, retrieve, list and delete; what executions run and triggers target."""

from __future__ import annotations

from typing import Any

from pulumi_cdf_workflows.emulator.backend.shared import Shared
from pulumi_cdf_workflows.emulator.exceptions import NotFound
from pulumi_cdf_workflows.emulator.models import Workflow, WorkflowFields, WorkflowVersion
from pulumi_cdf_workflows.emulator.queries import WorkflowFilter, paginate


class Workflows:
    def __init__(self, shared: Shared) -> None:
        self._shared = shared
        self.reset()

    def reset(self) -> None:
        self._workflows: dict[tuple[str, str], Workflow] = {}
        self._versions: dict[tuple[str, str, str], WorkflowVersion] = {}

    # ----- workflows

    def upsert(self, project: str, fields: WorkflowFields) -> Workflow:
        """Creates or replaces a workflow's fields (those left out are cleared)."""
        with self._shared.lock:
            now = self._shared.now_ms()
            workflow = self._workflows.get((project, fields.external_id))
            if workflow is None:
                workflow = self._workflows[(project, fields.external_id)] = Workflow(fields.external_id, now, now)
            else:
                # guess: lastUpdatedTime rises on every upsert, also one that changes nothing.
                workflow.last_updated_time = _later(now, workflow)
            workflow.description = fields.description
            workflow.data_set_id = fields.data_set_id
            workflow.max_concurrent_executions = fields.max_concurrent_executions
            return workflow

    def find(self, project: str, xid: str) -> Workflow | None:
        with self._shared.lock:
            return self._workflows.get((project, xid))

    def get(self, project: str, xid: str) -> Workflow:
        workflow = self.find(project, xid)
        if workflow is None:
            raise NotFound(f"Workflow {xid!r} not found", missing=[{"externalId": xid}])
        return workflow

    def list_workflows(self, project: str, limit: int, cursor: str | None) -> tuple[list[Workflow], str | None]:
        with self._shared.lock:
            items = sorted((w for (p, _), w in self._workflows.items() if p == project), key=lambda w: w.external_id)
        return paginate(items, limit, cursor)

    def missing(self, project: str, xids: list[str]) -> list[str]:
        with self._shared.lock:
            return [x for x in xids if (project, x) not in self._workflows]

    def delete(self, project: str, xids: list[str]) -> None:
        """Deletes the workflows and all their versions (what else goes with them: `CdfBackend.delete_workflows`)."""
        with self._shared.lock:
            for xid in xids:
                self._workflows.pop((project, xid), None)
                for key in [k for k in self._versions if k[0] == project and k[1] == xid]:
                    del self._versions[key]

    # ----- versions

    def upsert_version(
        self, project: str, xid: str, version: str, description: str | None, tasks: list[dict[str, Any]]
    ) -> WorkflowVersion:
        """`tasks` as validated and stored (definitions.py); an unknown workflow is created, like CDF does [SDK-IT]."""
        with self._shared.lock:
            now = self._shared.now_ms()
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
            return existing

    def find_version(self, project: str, xid: str, version: str) -> WorkflowVersion | None:
        with self._shared.lock:
            return self._versions.get((project, xid, version))

    def get_version(self, project: str, xid: str, version: str) -> WorkflowVersion:
        found = self.find_version(project, xid, version)
        if found is None:
            raise NotFound(
                f"Workflow version {xid!r} version {version!r} not found",
                missing=[{"workflowExternalId": xid, "version": version}],
            )
        return found

    def list_versions(
        self, project: str, wanted: WorkflowFilter, limit: int, cursor: str | None
    ) -> tuple[list[WorkflowVersion], str | None]:
        with self._shared.lock:
            items = [
                v
                for (p, _, _), v in self._versions.items()
                if p == project and wanted.matches(v.workflow_external_id, v.version)
            ]
        items.sort(key=lambda v: (v.workflow_external_id, v.version))
        return paginate(items, limit, cursor)

    def delete_versions(self, project: str, ids: list[tuple[str, str]], ignore_unknown: bool) -> None:
        """Deletes (workflowExternalId, version) pairs; 404 naming the unknown ones unless `ignore_unknown`."""
        with self._shared.lock:
            missing = [{"workflowExternalId": x, "version": v} for x, v in ids if (project, x, v) not in self._versions]
            if missing and not ignore_unknown:
                raise NotFound("Workflow versions not found", missing=missing)
            for xid, version in ids:
                self._versions.pop((project, xid, version), None)


def _later(now: int, current: Workflow | WorkflowVersion) -> int:
    """`now`, or 1 ms past the current lastUpdatedTime when an update comes within the same millisecond."""
    return max(now, current.last_updated_time + 1)
