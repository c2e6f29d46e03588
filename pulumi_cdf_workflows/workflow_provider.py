"""The lifecycle of a Workflow: upsert on create and update, read on refresh, delete on destroy.

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
from typing import Any

from pulumi_cdf_workflows import _plugin_host
from pulumi_cdf_workflows.cdf import CdfClient
from pulumi_cdf_workflows.cdf.errors import WorkflowBusyError
from pulumi_cdf_workflows.cdf.models import CdfWorkflow
from pulumi_cdf_workflows.config import ConnectionConfigError, delete_wait_seconds
from pulumi_cdf_workflows.definitions import WorkflowArgs, validate_workflow
from pulumi_cdf_workflows.deployed import ADOPT, UpsertProvider
from pulumi_cdf_workflows.lifecycle import ProviderError, report
from pulumi_cdf_workflows.waiting import PollSchedule

WORKFLOW_OUTPUTS = ("created_time", "last_updated_time", "project", "base_url")
FORCE_DESTROY = "force_destroy"


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
    """The dynamic provider behind :class:`pulumi_cdf_workflows.Workflow`."""

    kind = "workflow"
    replace_properties = ("external_id",)
    update_properties = ("description", "data_set_id", "max_concurrent_executions")
    setting_properties = (ADOPT, FORCE_DESTROY)
    identifier_properties = ("external_id",)

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
        if not props.get(FORCE_DESTROY):
            self._refuse_if_others_remain(client, id_)
        try:
            client.delete_workflow(id_)
        except WorkflowBusyError:
            # The executions' own deletes may be what ends them (cancel_on_delete): let them run meanwhile.
            with _plugin_host.slot_lent():
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
        _plugin_host.install()
        schedule, started, reads = PollSchedule(), time.monotonic(), 0
        while True:
            running = client.list_executions([id_], statuses=["RUNNING"], limit=100)
            if not running:
                return
            elapsed = time.monotonic() - started
            ids = ", ".join(e.id for e in running[:3]) + (", ..." if len(running) > 3 else "")
            if (why := _plugin_host.interruption()) is not None:
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
            _plugin_host.pause(min(schedule.delay(reads, elapsed), max(budget - elapsed, 0.0)))
            reads += 1
