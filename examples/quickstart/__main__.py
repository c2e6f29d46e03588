"""Quickstart: run a CDF workflow once, after deploy.

The connection comes from stack config (`cdf:project`, `cdf:baseUrl`, `cdf:tokenUrl`, `cdf:clientId`,
`cdf:clientSecret`) or the environment (`CDF_PROJECT`, `CDF_URL`, `IDP_*`). `scripts/quickstart` sets it
up against the local emulator.
"""

import pulumi

from pulumi_cdf_workflows import WorkflowExecution, client_from_stack

WORKFLOW, VERSION = "quickstart", "1"

# In a real stack the workflow comes from the Cognite Toolkit or another resource. Here the program
# upserts it so the example works against a fresh emulator; an upsert is idempotent, also in a preview.
client_from_stack().upsert_workflow_version(
    WORKFLOW,
    VERSION,
    tasks=[
        {
            "externalId": "greet",
            "type": "cdf",
            "parameters": {"cdfRequest": {"resourcePath": "/timeseries", "method": "GET"}},
        }
    ],
)

run = WorkflowExecution(
    "quickstart-run",
    workflow_external_id=WORKFLOW,
    version=VERSION,
    input={"greeting": "hello from pulumi", "count": 3},
    metadata={"deployedBy": "pulumi"},
    wait_for_completion=True,  # the deploy fails if the workflow fails
)

pulumi.export("executionId", run.execution_id)
pulumi.export("status", run.status)
