"""The lifecycle of a WorkflowVersion: upsert on create and update, read on refresh, delete on destroy.

A change of workflow external id or version (or of the project or URL) replaces it; a changed definition is
upserted in place, and CDF gives it a new `hash`, which WorkflowExecutions can follow. Definitions are
compared as CDF keeps them (defaults filled, tasks and dependencies in any order).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_cdf_workflows.cdf import CdfClient
from pulumi_cdf_workflows.cdf.models import CdfWorkflowVersion
from pulumi_cdf_workflows.definitions import (
    WorkflowVersionArgs,
    comparable_definition,
    normalized_definition,
    validate_version,
)
from pulumi_cdf_workflows.deployed import UpsertProvider

VERSION_OUTPUTS = ("definition_hash", "created_time", "last_updated_time", "project", "base_url")


def version_id(workflow_external_id: str, version: str) -> str:
    return f"{workflow_external_id}/{version}"


def _outputs(found: CdfWorkflowVersion) -> dict[str, Any]:
    definition = found.workflow_definition
    return {
        "workflow_external_id": found.workflow_external_id,
        "version": found.version,
        "workflow_definition": normalized_definition(
            {"description": definition.description, "tasks": definition.tasks}
        ),
        "definition_hash": definition.hash,
        "created_time": found.created_time,
        "last_updated_time": found.last_updated_time,
    }


def _task_ids(definition: Any) -> dict[str, Any]:
    tasks = definition.get("tasks") if isinstance(definition, Mapping) else None
    return {str(t.get("externalId")): t for t in tasks or [] if isinstance(t, Mapping)}


class WorkflowVersionProvider(UpsertProvider):
    """The dynamic provider behind :class:`pulumi_cdf_workflows.WorkflowVersion`."""

    kind = "workflow version"
    replace_properties = ("workflow_external_id", "version")
    update_properties = ("workflow_definition",)
    identifier_properties = ("workflow_external_id", "version")

    def _validate(self, props: Mapping[str, Any]) -> tuple[WorkflowVersionArgs | None, list[tuple[str, str]]]:
        return validate_version(props)

    def _resource_id(self, props: Mapping[str, Any]) -> str:
        return version_id(str(props["workflow_external_id"]), str(props["version"]))

    def _comparable(self, prop: str, value: Any) -> Any:
        if prop == "workflow_definition" and isinstance(value, Mapping):
            return comparable_definition(value)
        return value

    def _describe_difference(self, prop: str, in_cdf: Any, in_program: Any) -> str:
        if prop != "workflow_definition":
            return super()._describe_difference(prop, in_cdf, in_program)
        cdf_tasks, our_tasks = _task_ids(in_cdf), _task_ids(in_program)
        parts = []
        if cdf_tasks.keys() - our_tasks.keys():
            parts.append(f"only in CDF: {sorted(cdf_tasks.keys() - our_tasks.keys())}")
        if our_tasks.keys() - cdf_tasks.keys():
            parts.append(f"only in this program: {sorted(our_tasks.keys() - cdf_tasks.keys())}")
        changed = sorted(
            xid
            for xid in cdf_tasks.keys() & our_tasks.keys()
            if comparable_definition({"tasks": [cdf_tasks[xid]]}) != comparable_definition({"tasks": [our_tasks[xid]]})
        )
        if changed:
            parts.append(f"defined differently: {changed}")
        if not parts:
            parts.append("the description differs")
        return f"the definition's tasks differ ({'; '.join(parts)})"

    def _upsert(self, client: CdfClient, args: WorkflowVersionArgs) -> dict[str, Any]:
        definition = normalized_definition(args.workflow_definition)
        return _outputs(
            client.upsert_workflow_version(
                args.workflow_external_id, args.version, definition["tasks"], definition.get("description")
            )
        )

    def _retrieve(self, client: CdfClient, id_: str, props: Mapping[str, Any]) -> dict[str, Any] | None:
        workflow_external_id, version = self._identity(id_, props)
        found = client.retrieve_workflow_version(workflow_external_id, version)
        return None if found is None else _outputs(found)

    def _delete(self, client: CdfClient, id_: str, props: Mapping[str, Any]) -> None:
        client.delete_workflow_version(*self._identity(id_, props))

    @staticmethod
    def _identity(id_: str, props: Mapping[str, Any]) -> tuple[str, str]:
        if props.get("workflow_external_id") and props.get("version"):
            version = props["version"]
            if isinstance(version, float) and version.is_integer():
                version = int(version)  # state written before check made versions strings
            return str(props["workflow_external_id"]), str(version)
        workflow_external_id, _, version = id_.rpartition("/")
        return workflow_external_id, version
