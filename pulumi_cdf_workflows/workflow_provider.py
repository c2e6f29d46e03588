"""The lifecycle of a Workflow: upsert on create and update, read on refresh, delete on destroy.

A change of `external_id` (or of the project or URL it lives in) replaces the workflow; description, data
set and max concurrent executions are updated in place, as CDF's upsert allows.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_cdf_workflows.cdf import CdfClient
from pulumi_cdf_workflows.cdf.models import CdfWorkflow
from pulumi_cdf_workflows.definitions import WorkflowArgs, validate_workflow
from pulumi_cdf_workflows.lifecycle import UpsertProvider

WORKFLOW_OUTPUTS = ("created_time", "last_updated_time", "project", "base_url")


def _outputs(workflow: CdfWorkflow) -> dict[str, Any]:
    return {
        "external_id": workflow.external_id,
        "description": workflow.description,
        "data_set_id": workflow.data_set_id,
        "max_concurrent_executions": workflow.max_concurrent_executions,
        "created_time": workflow.created_time,
        "last_updated_time": workflow.last_updated_time,
    }


class WorkflowProvider(UpsertProvider):
    """The dynamic provider behind :class:`pulumi_cdf_workflows.Workflow`."""

    kind = "workflow"
    replace_properties = ("external_id",)
    update_properties = ("description", "data_set_id", "max_concurrent_executions")

    def _validate(self, props: Mapping[str, Any]) -> tuple[WorkflowArgs | None, list[tuple[str, str]]]:
        return validate_workflow(props)

    def _resource_id(self, props: Mapping[str, Any]) -> str:
        return str(props["external_id"])

    def _upsert(self, client: CdfClient, args: WorkflowArgs) -> dict[str, Any]:
        return _outputs(
            client.upsert_workflow(
                args.external_id,
                args.description,
                data_set_id=args.data_set_id,
                max_concurrent_executions=args.max_concurrent_executions,
            )
        )

    def _retrieve(self, client: CdfClient, id_: str, props: Mapping[str, Any]) -> dict[str, Any] | None:
        found = client.retrieve_workflow(id_)
        return None if found is None else _outputs(found)

    def _delete(self, client: CdfClient, id_: str, props: Mapping[str, Any]) -> None:
        client.delete_workflow(id_)
