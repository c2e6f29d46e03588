"""Run Cognite Data Fusion workflows from Pulumi programs.

`WorkflowExecution` runs a workflow version when it is created; `ClientCredentials` and `CdfConnection`
are its typed arguments. The CDF client lives in `pulumi_cdf_workflows.cdf` and a local CDF emulator
for tests in `pulumi_cdf_workflows.emulator`.
"""

from pulumi_cdf_workflows._version import __version__
from pulumi_cdf_workflows.config import CdfConnection, client_from_stack
from pulumi_cdf_workflows.resource import ClientCredentials, WorkflowExecution

__all__ = ["CdfConnection", "ClientCredentials", "WorkflowExecution", "__version__", "client_from_stack"]
