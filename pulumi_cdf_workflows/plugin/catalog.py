"""The resources the plugin serves: each resource's dynamic provider, under the token its class name gives."""

from __future__ import annotations

import inspect
from dataclasses import dataclass

from pulumi_cdf_workflows.lifecycle.provider import CdfResourceProvider
from pulumi_cdf_workflows.resources.execution.provider import WorkflowExecutionProvider
from pulumi_cdf_workflows.resources.execution.resource import WorkflowExecution
from pulumi_cdf_workflows.resources.trigger import WorkflowTrigger, WorkflowTriggerProvider
from pulumi_cdf_workflows.resources.workflow import Workflow, WorkflowProvider
from pulumi_cdf_workflows.resources.workflow_version import WorkflowVersion, WorkflowVersionProvider

PACKAGE = "cdf-workflows"


@dataclass(frozen=True)
class Served:
    """One resource: its token, the dynamic provider whose lifecycle it runs, and what its class says of it."""

    token: str
    provider: type[CdfResourceProvider]
    description: str


def _served(resource: type, provider: type[CdfResourceProvider]) -> Served:
    if provider.__name__ != f"{resource.__name__}Provider":
        raise TypeError(f"{provider.__name__} does not serve {resource.__name__}")
    return Served(f"{PACKAGE}:index:{resource.__name__}", provider, inspect.cleandoc(resource.__doc__ or ""))


RESOURCES: dict[str, Served] = {
    served.token: served
    for served in (
        _served(WorkflowExecution, WorkflowExecutionProvider),
        _served(Workflow, WorkflowProvider),
        _served(WorkflowVersion, WorkflowVersionProvider),
        _served(WorkflowTrigger, WorkflowTriggerProvider),
    )
}
