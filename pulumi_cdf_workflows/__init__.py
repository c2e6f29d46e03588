"""Run Cognite Data Fusion workflows from Pulumi programs, and deploy them.

`Workflow`, `WorkflowVersion` and `WorkflowTrigger` deploy a workflow, its definition and its schedule;
`WorkflowExecution` runs a workflow version when it is created; `ClientCredentials` and `CdfConnection` are
their typed arguments. The CDF client lives in `pulumi_cdf_workflows.cdf` and a local CDF emulator for tests
in `pulumi_cdf_workflows.emulator`.

The resources are imported on first use, so that importing the client or the emulator does not load Pulumi.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pulumi_cdf_workflows._lazy import lazy_names
from pulumi_cdf_workflows._version import __version__

if TYPE_CHECKING:
    from pulumi_cdf_workflows.lifecycle.connection import CdfConnection, ClientCredentials
    from pulumi_cdf_workflows.resources.execution.resource import WorkflowExecution
    from pulumi_cdf_workflows.resources.trigger import WorkflowTrigger
    from pulumi_cdf_workflows.resources.workflow import Workflow
    from pulumi_cdf_workflows.resources.workflow_version import WorkflowVersion

_HOMES = {
    "CdfConnection": "pulumi_cdf_workflows.lifecycle.connection",
    "ClientCredentials": "pulumi_cdf_workflows.lifecycle.connection",
    "Workflow": "pulumi_cdf_workflows.resources.workflow",
    "WorkflowExecution": "pulumi_cdf_workflows.resources.execution.resource",
    "WorkflowTrigger": "pulumi_cdf_workflows.resources.trigger",
    "WorkflowVersion": "pulumi_cdf_workflows.resources.workflow_version",
}


__getattr__, __dir__ = lazy_names(__name__, _HOMES)

__all__ = [
    "CdfConnection",
    "ClientCredentials",
    "Workflow",
    "WorkflowExecution",
    "WorkflowTrigger",
    "WorkflowVersion",
    "__version__",
]
