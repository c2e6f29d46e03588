"""The resources the plugin serves: each resource's dynamic provider, under the token its class name gives."""

from __future__ import annotations

import inspect
from dataclasses import dataclass

from pydantic import BaseModel, Field

from pulumi_cdf_workflows.lifecycle.provider import CdfResourceProvider
from pulumi_cdf_workflows.resources.execution.provider import CREATE_FAILED, WorkflowExecutionProvider
from pulumi_cdf_workflows.resources.execution.resource import WorkflowExecution
from pulumi_cdf_workflows.resources.trigger import WorkflowTrigger, WorkflowTriggerProvider
from pulumi_cdf_workflows.resources.workflow import Workflow, WorkflowProvider
from pulumi_cdf_workflows.resources.workflow_version import WorkflowVersion, WorkflowVersionProvider

PACKAGE = "cdf-workflows"


class PluginOutputs(BaseModel):
    """Outputs only the plugin records: the dynamic provider cannot keep a resource whose create failed."""

    create_failed: str | None = Field(
        None,
        description="set when create started the execution but its wait ended badly (why, in a few words): the "
        "stack keeps it, and the next `up` takes it over while it still runs, else runs the workflow again",
    )


if CREATE_FAILED not in PluginOutputs.model_fields:
    raise TypeError(f"PluginOutputs must declare the lifecycle's {CREATE_FAILED!r}")


@dataclass(frozen=True)
class Served:
    """One resource: its token, the dynamic provider whose lifecycle it runs, and what its class says of it."""

    token: str
    provider: type[CdfResourceProvider]
    description: str
    plugin_outputs: type[BaseModel] | None = None


def _served(resource: type, provider: type[CdfResourceProvider], extra: type[BaseModel] | None = None) -> Served:
    if provider.__name__ != f"{resource.__name__}Provider":
        raise TypeError(f"{provider.__name__} does not serve {resource.__name__}")
    doc = inspect.cleandoc(resource.__doc__ or "")
    return Served(f"{PACKAGE}:index:{resource.__name__}", provider, doc, extra)


RESOURCES: dict[str, Served] = {
    served.token: served
    for served in (
        _served(WorkflowExecution, WorkflowExecutionProvider, PluginOutputs),
        _served(Workflow, WorkflowProvider),
        _served(WorkflowVersion, WorkflowVersionProvider),
        _served(WorkflowTrigger, WorkflowTriggerProvider),
    )
}
