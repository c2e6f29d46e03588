"""Quickstart: deploy a CDF workflow and run it once, after deploy.

The connection comes from stack config (`cdf:project`, `cdf:baseUrl`, `cdf:tokenUrl`, `cdf:clientId`,
`cdf:clientSecret`) or the environment (`CDF_PROJECT`, `CDF_URL`, `IDP_*`). `scripts/quickstart` sets it
up against the local emulator.
"""

import pulumi

from pulumi_cdf_workflows import Workflow, WorkflowExecution, WorkflowVersion

workflow = Workflow("quickstart", external_id="quickstart", description="The README's quickstart")
version = WorkflowVersion(
    "quickstart-v1",
    workflow_external_id=workflow.external_id,
    version="1",
    workflow_definition={
        "tasks": [
            {
                "externalId": "greet",
                "type": "cdf",
                "parameters": {"cdfRequest": {"resourcePath": "/timeseries", "method": "GET"}},
            }
        ],
    },
)

run = WorkflowExecution(
    "quickstart-run",
    workflow_version=version,  # runs once deployed, and again when the tasks above change
    input={"greeting": "hello from pulumi", "count": 3},
    metadata={"deployedBy": "pulumi"},
    wait_for_completion=True,  # the deploy fails if the workflow fails
)

pulumi.export("executionId", run.execution_id)
pulumi.export("status", run.status)
