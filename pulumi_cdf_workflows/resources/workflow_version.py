"""WorkflowVersion: a version of a CDF workflow and its definition, as a resource. Its arguments and outputs,
its lifecycle, and its Pulumi class.

A change of workflow external id or version (or of the project or URL) replaces it; a changed definition is
upserted in place, and CDF gives it a new `hash`, which WorkflowExecutions can follow. Definitions are
compared as CDF keeps them (defaults filled, tasks and dependencies in any order).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pulumi import Input, Output, ResourceOptions
from pydantic import Field, field_validator

from pulumi_cdf_workflows.cdf.models import CdfWorkflowVersion
from pulumi_cdf_workflows.lifecycle.connection import CdfConnection, connection_props
from pulumi_cdf_workflows.lifecycle.deployed import DeployedArgs, DeployedOutputs, UpsertProvider
from pulumi_cdf_workflows.lifecycle.properties import OnChange, prop
from pulumi_cdf_workflows.lifecycle.resource import DeployedResource
from pulumi_cdf_workflows.validation.definitions import (
    comparable_definition,
    definition_problems,
    normalized_definition,
)
from pulumi_cdf_workflows.validation.fields import Identifier, refuse_problems

if TYPE_CHECKING:
    from pulumi_cdf_workflows.cdf.client import CdfClient


class WorkflowVersionArgs(DeployedArgs):
    """A workflow version's arguments: which version of which workflow, and its definition."""

    workflow_external_id: Identifier = prop(on_change=OnChange.REPLACE, description="the workflow")
    version: Identifier = prop(on_change=OnChange.REPLACE, description='the version, e.g. "1" (1 means "1")')
    workflow_definition: dict[str, Any] = prop(
        on_change=OnChange.UPDATE,
        structured=True,
        description="{description, tasks}: at most 200 tasks, as CDF's API and the Toolkit write them",
    )

    @field_validator("workflow_definition", mode="before")
    @classmethod
    def _definition(cls, value: Any) -> Any:
        refuse_problems(definition_problems(value))
        return value


class WorkflowVersionOutputs(DeployedOutputs):
    """What a WorkflowVersion reports besides its arguments (its `workflow_definition` as CDF keeps it)."""

    definition_hash: str | None = Field(None, description="CDF's hash of the definition: it changes with it")


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
    """The dynamic provider behind :class:`WorkflowVersion`."""

    kind = "workflow version"
    args_model = WorkflowVersionArgs
    outputs_model = WorkflowVersionOutputs
    identifier_properties = ("workflow_external_id", "version")

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


class WorkflowVersion(DeployedResource, module="cdf", name="WorkflowVersion"):
    """A version of a CDF workflow and its definition: a description and tasks, as CDF's API and the Cognite
    Toolkit write them (`{"externalId": "load", "type": "function", "parameters": {...}, "dependsOn": [...]}`).

    A changed definition is updated in place and gets a new `definition_hash`; pass the version to
    `WorkflowExecution(workflow_version=...)` to run the workflow again when that happens.
    """

    workflow_external_id: Output[str]
    version: Output[str]
    workflow_definition: Output[dict[str, Any]]
    """The definition as CDF keeps it, with its defaults (retries, timeout, onFailure, dependsOn) filled in."""
    definition_hash: Output[str]
    """CDF's hash of the description and tasks: it changes exactly when the definition does."""

    def __init__(
        self,
        resource_name: str,
        *,
        workflow_external_id: Input[str],
        version: Input[str],
        workflow_definition: Input[Mapping[str, Any]],
        adopt: Input[bool] | None = None,
        connection: CdfConnection | Mapping[str, Any] | None = None,
        opts: ResourceOptions | None = None,
    ) -> None:
        """:param workflow_external_id: the workflow (pass `workflow.external_id` to deploy it first).
        :param version: the version's name, e.g. "1" (a number is taken as its digits).
        :param workflow_definition: `{"description": ..., "tasks": [...]}`; at most 200 tasks with unique
            external ids whose `dependsOn` name tasks of this version and form no cycle.
        :param adopt: take over a version that already exists in CDF with another definition, overwriting it.
            Without it, create fails and says what differs (an identical one is taken over as it is).
        :param connection: per-resource CDF connection; overrides stack config and environment.
        """
        props: dict[str, Any] = {
            "workflow_external_id": workflow_external_id,
            "version": version,
            "workflow_definition": workflow_definition,
            "adopt": adopt,
            "connection": connection_props(connection),
        }
        super().__init__(WorkflowVersionProvider, resource_name, props, opts)

    @staticmethod
    def get(
        resource_name: str,
        workflow_external_id: str,
        version: str,
        connection: CdfConnection | Mapping[str, Any] | None = None,
        opts: ResourceOptions | None = None,
    ) -> WorkflowVersion:
        """Look up a version deployed elsewhere. `destroy` never deletes it."""
        return WorkflowVersion(
            resource_name,
            workflow_external_id=workflow_external_id,
            version=version,
            workflow_definition={},
            connection=connection,
            opts=ResourceOptions.merge(opts, ResourceOptions(id=version_id(workflow_external_id, version))),
        )
