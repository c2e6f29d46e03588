"""Deploy a backfill workflow, run it after each release, wait for it, and fail the deploy if it fails.

The stack deploys what it runs: the workflow, its version (the tasks below) and one execution. The execution
runs again when the release changes (`pulumi config set release 2026.11.2`, through `triggers`) or when a
task below changes (through `workflow_version`, which follows the definition's hash). Anything else runs
nothing, and `pulumi preview` writes nothing to CDF.
"""

import pulumi

from pulumi_cdf_workflows import Workflow, WorkflowExecution, WorkflowVersion

config = pulumi.Config()
release = config.get("release") or "2026.11.1"

workflow = Workflow("backfill", external_id="backfill", description="Backfill after each release")
version = WorkflowVersion(
    "backfill-v1",
    workflow_external_id=workflow.external_id,
    version="1",
    workflow_definition={
        "description": "extract from RAW, then load datapoints",
        "tasks": [
            {
                "externalId": "extract",
                "type": "cdf",
                "parameters": {"cdfRequest": {"resourcePath": "/raw/dbs", "method": "GET"}},
            },
            {
                "externalId": "load",
                "type": "cdf",
                "parameters": {"cdfRequest": {"resourcePath": "/timeseries/data", "method": "POST"}},
                "dependsOn": [{"externalId": "extract"}],
            },
        ],
    },
)

backfill = WorkflowExecution(
    "backfill-after-release",
    workflow_version=version,
    input={"release": release, "days": 7},
    triggers=[release],
    wait_for_completion=True,
    timeout_seconds=600,
    cancel_on_delete=True,
)

pulumi.export("executionId", backfill.execution_id)
pulumi.export("status", backfill.status)
pulumi.export("tasks", backfill.executed_tasks)
pulumi.export("definitionHash", version.definition_hash)
