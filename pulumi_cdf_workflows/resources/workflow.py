"""Workflow: a CDF workflow, as a resource. Its arguments and outputs, its lifecycle, and its Pulumi class.

A change of `external_id` (or of the project or URL it lives in) replaces the workflow; description, data
set and max concurrent executions are updated in place, as CDF's upsert allows. Deleting a workflow deletes
its versions and triggers in CDF, so delete refuses while versions or triggers this stack does not manage
remain (the stack's own are deleted before the workflow), unless `force_destroy=True`. CDF refuses to delete a
workflow while executions of it run, so delete waits for them (`cdf:deleteWaitSeconds`, default 10 min),
saying which, before it gives up with what to do.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pulumi import Input, Output, ResourceOptions
from pydantic import field_validator

from pulumi_cdf_workflows.cdf.errors import WorkflowBusyError
from pulumi_cdf_workflows.cdf.models import CdfWorkflow, CdfWorkflowStatus
from pulumi_cdf_workflows.cdf.settings import ConnectionSettings
from pulumi_cdf_workflows.lifecycle import plugin_host
from pulumi_cdf_workflows.lifecycle.connection import (
    CdfConnection,
    ConnectionConfigError,
    connection_props,
    delete_wait_seconds,
)
from pulumi_cdf_workflows.lifecycle.deployed import DeployedArgs, DeployedOutputs, UpsertProvider
from pulumi_cdf_workflows.lifecycle.permissions import DataSet, Principal
from pulumi_cdf_workflows.lifecycle.polling import PollSchedule
from pulumi_cdf_workflows.lifecycle.properties import OnChange, prop
from pulumi_cdf_workflows.lifecycle.provider import ProviderError, report
from pulumi_cdf_workflows.lifecycle.resource import DeployedResource
from pulumi_cdf_workflows.validation.definitions import MAX_DESCRIPTION
from pulumi_cdf_workflows.validation.fields import Identifier, restore_integers

if TYPE_CHECKING:
    from pulumi_cdf_workflows.cdf.client import CdfClient


MAX_CONCURRENT_EXECUTIONS = (1, 10_000)


class WorkflowArgs(DeployedArgs):
    """A workflow's arguments: its external id and the settings CDF keeps on it."""

    external_id: Identifier = prop(on_change=OnChange.REPLACE, description="the workflow's external id (at most 255)")
    description: str | None = prop(
        None, on_change=OnChange.UPDATE, description="at most 500 characters", max_length=MAX_DESCRIPTION
    )
    data_set_id: int | None = prop(
        None, on_change=OnChange.UPDATE, description="the data set that governs access to it, its versions and runs"
    )
    max_concurrent_executions: int | None = prop(
        None,
        on_change=OnChange.UPDATE,
        description="1 to 10000; CDF queues executions beyond it (None: the project's limit)",
        ge=MAX_CONCURRENT_EXECUTIONS[0],
        le=MAX_CONCURRENT_EXECUTIONS[1],
    )
    force_destroy: bool = prop(
        False,
        on_change=OnChange.STORE,
        description="let destroy delete it although versions or triggers this stack does not manage remain",
    )

    @field_validator("data_set_id", "max_concurrent_executions", mode="before")
    @classmethod
    def _whole_number(cls, value: Any) -> Any:
        return restore_integers(value)  # the engine sends every number as a float


class WorkflowOutputs(DeployedOutputs):
    """What a Workflow reports besides its arguments."""


def _outputs(workflow: CdfWorkflow) -> dict[str, Any]:
    return {
        "external_id": workflow.external_id,
        "description": workflow.description,
        "data_set_id": workflow.data_set_id,
        "max_concurrent_executions": workflow.max_concurrent_executions,
        "created_time": workflow.created_time,
        "last_updated_time": workflow.last_updated_time,
    }


def _listed(names: list[str]) -> str:
    return ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")


class WorkflowProvider(UpsertProvider):
    """The dynamic provider behind :class:`Workflow`."""

    kind = "workflow"
    args_model = WorkflowArgs
    outputs_model = WorkflowOutputs
    identifier_properties = ("external_id",)

    def _resource_id(self, props: Mapping[str, Any]) -> str:
        return str(props["external_id"])

    def _data_set(self, settings: ConnectionSettings, args: WorkflowArgs, principal: Principal) -> DataSet:
        return args.data_set_id  # the data set it is written to

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
        if not props.get("force_destroy"):
            self._refuse_if_others_remain(client, id_)
        try:
            client.delete_workflow(id_)
        except WorkflowBusyError:
            # The executions' own deletes may be what ends them (cancel_on_delete): let them run meanwhile.
            with plugin_host.slot_lent():
                self._wait_for_running_executions(client, id_, self._label(props))
            client.delete_workflow(id_)

    def _refuse_if_others_remain(self, client: CdfClient, id_: str) -> None:
        """CDF deletes a workflow's versions and triggers with it; the stack deletes its own first, so what
        remains belongs to someone else."""
        versions = [f"version {v.version!r}" for v in client.list_workflow_versions(id_)]
        triggers = [f"trigger {t.external_id!r}" for t in client.list_triggers() if t.workflow_external_id == id_]
        if not versions and not triggers:
            return
        raise ProviderError(
            f"Did not delete workflow {id_}: deleting it would also delete {_listed(versions + triggers)}, which "
            "this stack does not manage (the stack's own versions and triggers are deleted before their workflow). "
            "Nothing was deleted. Delete those in CDF first; or, if they belong to this stack, pass "
            "workflow.external_id to them so they are deleted first; or set `force_destroy=True` on the Workflow "
            "to delete them with it. Then run `pulumi destroy` again."
        )

    def _wait_for_running_executions(self, client: CdfClient, id_: str, name: str) -> None:
        try:
            budget = delete_wait_seconds(self._config(), os.environ)
        except ConnectionConfigError as exc:
            raise ProviderError(str(exc)) from None
        plugin_host.install()
        schedule, started, reads = PollSchedule(), time.monotonic(), 0
        while True:
            running = client.list_executions([id_], statuses=[CdfWorkflowStatus.RUNNING], limit=100)
            if not running:
                return
            elapsed = time.monotonic() - started
            ids = ", ".join(e.id for e in running[:3]) + (", ..." if len(running) > 3 else "")
            if (why := plugin_host.interruption()) is not None:
                raise ProviderError(
                    f"Stopped waiting to delete workflow {id_} because {why.value}: {len(running)} of its executions "
                    f"still run ({ids}). The workflow was not deleted and stays in the stack."
                )
            if elapsed >= budget:
                raise ProviderError(
                    f"Could not delete workflow {id_}: CDF refuses while its executions run, and {len(running)} "
                    f"still ran after {elapsed:.0f} s ({ids}). Cancel them in CDF (or give their WorkflowExecution "
                    "cancel_on_delete=True, so that destroy cancels it first), or raise cdf:deleteWaitSeconds; "
                    "then run `pulumi destroy` again."
                )
            if reads % 5 == 0:
                report(
                    name,
                    f"waiting for {len(running)} running execution(s) of workflow '{id_}' to end before deleting "
                    f"it ({ids}); {elapsed:.0f} s of at most {budget:.0f} s",
                )
            plugin_host.pause(min(schedule.delay(reads, elapsed), max(budget - elapsed, 0.0)))
            reads += 1


class Workflow(DeployedResource, module="cdf", name="Workflow"):
    """A CDF workflow. Its versions are :class:`WorkflowVersion` resources.

    `pulumi destroy` deletes it after the stack's own versions and triggers; it refuses while versions or
    triggers that this stack does not manage remain, unless `force_destroy=True` (CDF deletes them with it).
    """

    external_id: Output[str]
    description: Output[str | None]
    data_set_id: Output[int | None]
    max_concurrent_executions: Output[int | None]
    force_destroy: Output[bool]

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
        super().__init__(WorkflowProvider, resource_name, props, opts)

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
