"""Run Cognite Data Fusion workflows from Pulumi programs, and deploy them.

`Workflow`, `WorkflowVersion` and `WorkflowTrigger` deploy a workflow, its definition and its schedule;
`WorkflowExecution` runs a workflow version when it is created; `ClientCredentials` and `CdfConnection` are
their typed arguments. The CDF client lives in `pulumi_cdf_workflows.cdf` and a local CDF emulator for tests
in `pulumi_cdf_workflows.emulator`.
"""

from pulumi_cdf_workflows._version import __version__
from pulumi_cdf_workflows.config import CdfConnection, ClientCredentials, client_from_stack
from pulumi_cdf_workflows.resource import WorkflowExecution
from pulumi_cdf_workflows.workflow import Workflow, WorkflowTrigger, WorkflowVersion

__all__ = [
    "CdfConnection",
    "ClientCredentials",
    "Workflow",
    "WorkflowExecution",
    "WorkflowTrigger",
    "WorkflowVersion",
    "__version__",
    "client_from_stack",
]
