"""The Pulumi surface for deploying workflows: the Workflow, WorkflowVersion and WorkflowTrigger resources."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi import Input, Output, ResourceOptions

from pulumi_cdf_workflows.base import CdfResource
from pulumi_cdf_workflows.config import CdfConnection, ClientCredentials, connection_props, credentials_props
from pulumi_cdf_workflows.trigger_provider import TRIGGER_OUTPUTS, WorkflowTriggerProvider
from pulumi_cdf_workflows.workflow_provider import WORKFLOW_OUTPUTS, WorkflowProvider
from pulumi_cdf_workflows.workflow_version_provider import VERSION_OUTPUTS, WorkflowVersionProvider, version_id


class Workflow(CdfResource, module="cdf", name="Workflow"):
    """A CDF workflow. Its versions are :class:`WorkflowVersion` resources.

    `pulumi destroy` deletes it after the stack's own versions and triggers; it refuses while versions or
    triggers that this stack does not manage remain, unless `force_destroy=True` (CDF deletes them with it).
    """

    external_id: Output[str]
    description: Output[str | None]
    data_set_id: Output[int | None]
    max_concurrent_executions: Output[int | None]
    created_time: Output[int]
    last_updated_time: Output[int]
    project: Output[str]
    base_url: Output[str]

    def __init__(
        self,
        resource_name: str,
        *,
        external_id: Input[str],
        description: Input[str] | None = None,
        data_set_id: Input[int] | None = None,
        max_concurrent_executions: Input[int] | None = None,
        adopt: Input[bool] | None = None,
        force_destroy: Input[bool] | None = None,
        connection: CdfConnection | Mapping[str, Any] | None = None,
        opts: ResourceOptions | None = None,
    ) -> None:
        """:param external_id: the workflow's external id (at most 255 characters).
        :param description: at most 500 characters.
        :param data_set_id: the data set that governs access to the workflow, its versions and executions.
        :param max_concurrent_executions: 1 to 10000; CDF queues executions beyond it. None: the project's limit.
        :param adopt: take over a workflow that already exists in CDF and differs from this program, overwriting
            it. Without it, create fails and says what differs (an identical one is taken over as it is).
        :param force_destroy: let `destroy` delete the workflow although versions or triggers that this stack
            does not manage remain (CDF deletes them with it). Without it, destroy refuses and names them.
        :param connection: per-resource CDF connection; overrides stack config and environment.
        """
        props: dict[str, Any] = {
            "external_id": external_id,
            "description": description,
            "data_set_id": data_set_id,
            "max_concurrent_executions": max_concurrent_executions,
            "adopt": adopt,
            "force_destroy": force_destroy,
            "connection": connection_props(connection),
        }
        super().__init__(WorkflowProvider, resource_name, props, WORKFLOW_OUTPUTS, opts)

    @staticmethod
    def get(
        resource_name: str,
        external_id: Input[str],
        connection: CdfConnection | Mapping[str, Any] | None = None,
        opts: ResourceOptions | None = None,
    ) -> Workflow:
        """Look up a workflow deployed elsewhere (the Toolkit, another stack). `destroy` never deletes it."""
        return Workflow(
            resource_name,
            external_id=external_id,
            connection=connection,
            opts=ResourceOptions.merge(opts, ResourceOptions(id=external_id)),
        )


class WorkflowVersion(CdfResource, module="cdf", name="WorkflowVersion"):
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
    created_time: Output[int]
    last_updated_time: Output[int]
    project: Output[str]
    base_url: Output[str]

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
        super().__init__(WorkflowVersionProvider, resource_name, props, VERSION_OUTPUTS, opts)

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


class WorkflowTrigger(CdfResource, module="cdf", name="WorkflowTrigger"):
    """A trigger that runs a workflow version on a schedule, on data-modeling changes or on records in a stream.

    `trigger_rule` is CDF's: `{"triggerType": "schedule", "cronExpression": "0 2 * * 1", "timezone": "Europe/Oslo"}`.
    The trigger runs as `client_credentials` (always secret), else as the connection's own client. CDF never
    returns a trigger's credentials, and they are never an output: state keeps a keyed hash of them.
    """

    external_id: Output[str]
    trigger_rule: Output[dict[str, Any]]
    workflow_external_id: Output[str]
    workflow_version: Output[str]
    input: Output[dict[str, Any] | None]
    metadata: Output[dict[str, str] | None]
    is_paused: Output[bool]
    schedule: Output[str | None]
    """The schedule in words, e.g. "At 02:00, only on Monday (Europe/Oslo)"."""
    next_fire_time: Output[str | None]
    """When it fires next, as of the last deploy or refresh, e.g. "Mon 30 Nov 2026 02:00 Europe/Oslo"."""
    created_time: Output[int]
    last_updated_time: Output[int]
    project: Output[str]
    base_url: Output[str]

    def __init__(
        self,
        resource_name: str,
        *,
        external_id: Input[str],
        trigger_rule: Input[Mapping[str, Any]],
        workflow_external_id: Input[str] | None = None,
        workflow_version: Input[str] | None = None,
        version: WorkflowVersion | None = None,
        input: Input[Mapping[str, Any]] | None = None,
        metadata: Input[Mapping[str, Input[str]]] | None = None,
        client_credentials: ClientCredentials | Mapping[str, Any] | None = None,
        adopt: Input[bool] | None = None,
        connection: CdfConnection | Mapping[str, Any] | None = None,
        opts: ResourceOptions | None = None,
    ) -> None:
        """:param external_id: the trigger's external id.
        :param trigger_rule: CDF's rule: schedule (`cronExpression`, `timezone`), dataModeling or recordStream.
        :param version: a WorkflowVersion of this stack, instead of workflow_external_id and workflow_version.
        :param input: input of the executions it starts (CDF adds `{"version": ...}`); at most 100 KB.
        :param metadata: copied onto the executions it starts; at most 10 pairs.
        :param client_credentials: the credentials the trigger runs with.
        :param adopt: take over a trigger that already exists in CDF and differs from this program, overwriting
            it. Without it, create fails and says what differs.
        :param connection: per-resource CDF connection; overrides stack config and environment.
        """
        if version is not None:
            workflow_external_id, workflow_version = version.workflow_external_id, version.version
        if workflow_external_id is None or workflow_version is None:
            raise TypeError("WorkflowTrigger needs version, or workflow_external_id and workflow_version")
        props: dict[str, Any] = {
            "external_id": external_id,
            "trigger_rule": trigger_rule,
            "workflow_external_id": workflow_external_id,
            "workflow_version": workflow_version,
            "input": input,
            "metadata": metadata,
            "client_credentials": credentials_props(client_credentials),
            "adopt": adopt,
            "connection": connection_props(connection),
        }
        super().__init__(WorkflowTriggerProvider, resource_name, props, TRIGGER_OUTPUTS, opts)

    @staticmethod
    def get(
        resource_name: str,
        external_id: str,
        connection: CdfConnection | Mapping[str, Any] | None = None,
        opts: ResourceOptions | None = None,
    ) -> WorkflowTrigger:
        """Look up a trigger deployed elsewhere (the Toolkit, another stack). `destroy` never deletes it."""
        return WorkflowTrigger(
            resource_name,
            external_id=external_id,
            trigger_rule={},
            workflow_external_id="",
            workflow_version="",
            connection=connection,
            opts=ResourceOptions.merge(opts, ResourceOptions(id=external_id)),
        )
