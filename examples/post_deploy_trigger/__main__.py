"""Run a backfill after each release, wait for it, and fail the deploy if it fails.

`triggers` holds the release: change it (`pulumi config set release 2026.11.2`) and the next `pulumi up`
runs the workflow again. Anything else that stays the same runs nothing.
"""

import pulumi

from pulumi_cdf_workflows import WorkflowExecution, client_from_stack

config = pulumi.Config()
release = config.get("release") or "2026.11.1"
WORKFLOW, VERSION = "backfill", "1"

client_from_stack().upsert_workflow_version(
    WORKFLOW,
    VERSION,
    tasks=[
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
)

backfill = WorkflowExecution(
    "backfill-after-release",
    workflow_external_id=WORKFLOW,
    version=VERSION,
    input={"release": release, "days": 7},
    triggers=[release],
    wait_for_completion=True,
    timeout_seconds=600,
    cancel_on_delete=True,
)

pulumi.export("executionId", backfill.execution_id)
pulumi.export("status", backfill.status)
pulumi.export("tasks", backfill.executed_tasks)
