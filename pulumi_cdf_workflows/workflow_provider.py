"""The lifecycle of a Workflow: upsert on create and update, read on refresh, delete on destroy.

A change of `external_id` (or of the project or URL it lives in) replaces the workflow; description, data
set and max concurrent executions are updated in place, as CDF's upsert allows. CDF refuses to delete a
workflow while executions of it run, so delete waits for them (`cdf:deleteWaitSeconds`, default 10 min),
saying which, before it gives up with what to do.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from typing import Any

from pulumi_cdf_workflows.cdf import CdfClient
from pulumi_cdf_workflows.cdf.errors import WorkflowBusyError
from pulumi_cdf_workflows.cdf.models import CdfWorkflow
from pulumi_cdf_workflows.config import ConnectionConfigError, delete_wait_seconds
from pulumi_cdf_workflows.definitions import WorkflowArgs, validate_workflow
from pulumi_cdf_workflows.lifecycle import ProviderError, UpsertProvider, label, report
from pulumi_cdf_workflows.waiting import PollSchedule

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
        try:
            client.delete_workflow(id_)
        except WorkflowBusyError:
            self._wait_for_running_executions(client, id_, label(props, id_))
            client.delete_workflow(id_)

    def _wait_for_running_executions(self, client: CdfClient, id_: str, name: str) -> None:
        try:
            budget = delete_wait_seconds(self._config(), os.environ)
        except ConnectionConfigError as exc:
            raise ProviderError(str(exc)) from None
        schedule, started, reads = PollSchedule(), time.monotonic(), 0
        while True:
            running = client.list_executions([id_], statuses=["RUNNING"], limit=100)
            if not running:
                return
            elapsed = time.monotonic() - started
            ids = ", ".join(e.id for e in running[:3]) + (", ..." if len(running) > 3 else "")
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
            time.sleep(min(schedule.delay(reads, elapsed), max(budget - elapsed, 0.0)))
            reads += 1
