"""Run a workflow as a dedicated service principal, not as the deploying identity.

    pulumi config set runClientId my-workflow-runner
    pulumi config set --secret runClientSecret ...

The execution's CDF session is created with these credentials. The secret stays encrypted in stack
config and state and never appears in outputs.
"""

import pulumi

from pulumi_cdf_workflows import ClientCredentials, Workflow, WorkflowExecution, WorkflowVersion

config = pulumi.Config()

workflow = Workflow("nightly-report", external_id="nightly-report")
version = WorkflowVersion(
    "nightly-report-v1",
    workflow_external_id=workflow.external_id,
    version="1",
    workflow_definition={
        "tasks": [
            {
                "externalId": "report",
                "type": "cdf",
                "parameters": {"cdfRequest": {"resourcePath": "/assets/list", "method": "POST"}},
            }
        ],
    },
)

report = WorkflowExecution(
    "report-as-runner",
    workflow_version=version,
    input={"format": "csv"},
    client_credentials=ClientCredentials(
        client_id=config.require("runClientId"),
        client_secret=config.require_secret("runClientSecret"),
    ),
)

pulumi.export("executionId", report.execution_id)
pulumi.export("status", report.status)
