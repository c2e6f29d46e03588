"""The lifecycle of a WorkflowVersion: upsert on create and update, read on refresh, delete on destroy.

A change of workflow external id or version (or of the project or URL) replaces it; a changed definition is
upserted in place, and CDF gives it a new `hash`, which WorkflowExecutions can follow.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_cdf_workflows.cdf import CdfClient
from pulumi_cdf_workflows.cdf.models import CdfWorkflowVersion
from pulumi_cdf_workflows.definitions import WorkflowVersionArgs, normalized_definition, validate_version
from pulumi_cdf_workflows.lifecycle import UpsertProvider

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


class WorkflowVersionProvider(UpsertProvider):
    """The dynamic provider behind :class:`pulumi_cdf_workflows.WorkflowVersion`."""

    kind = "workflow version"
    replace_properties = ("workflow_external_id", "version")
    update_properties = ("workflow_definition",)

    def _validate(self, props: Mapping[str, Any]) -> tuple[WorkflowVersionArgs | None, list[tuple[str, str]]]:
        return validate_version(props)

    def _resource_id(self, props: Mapping[str, Any]) -> str:
        version = props["version"]
        if isinstance(version, float) and version.is_integer():
            version = int(version)
        return version_id(str(props["workflow_external_id"]), str(version))

    def _comparable(self, prop: str, value: Any) -> Any:
        if prop == "workflow_definition" and isinstance(value, Mapping):
            return normalized_definition(value)
        return value

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
            return str(props["workflow_external_id"]), str(props["version"])
        workflow_external_id, _, version = id_.rpartition("/")
        return workflow_external_id, version
