"""Run a workflow as a dedicated service principal, not as the deploying identity.

    pulumi config set runClientId my-workflow-runner
    pulumi config set --secret runClientSecret ...

The execution's CDF session is created with these credentials. The secret stays encrypted in stack
config and state and never appears in outputs.
"""

import pulumi

from pulumi_cdf_workflows import ClientCredentials, WorkflowExecution, client_from_stack

config = pulumi.Config()
WORKFLOW, VERSION = "nightly-report", "1"

client_from_stack().upsert_workflow_version(
    WORKFLOW,
    VERSION,
    tasks=[
        {
            "externalId": "report",
            "type": "cdf",
            "parameters": {"cdfRequest": {"resourcePath": "/assets/list", "method": "POST"}},
        }
    ],
)

report = WorkflowExecution(
    "report-as-runner",
    workflow_external_id=WORKFLOW,
    version=VERSION,
    input={"format": "csv"},
    client_credentials=ClientCredentials(
        client_id=config.require("runClientId"),
        client_secret=config.require_secret("runClientSecret"),
    ),
)

pulumi.export("executionId", report.execution_id)
pulumi.export("status", report.status)
