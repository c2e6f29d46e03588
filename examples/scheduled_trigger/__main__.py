"""Deploy a workflow and run it every night at 02:00 Oslo time, as a dedicated service principal.

    pulumi config set runClientId my-workflow-runner
    pulumi config set --secret runClientSecret ...

The trigger's schedule is checked at `pulumi preview` (a typo in the cron expression fails there), and its
outputs say when it fires next. Change the schedule or the input and `pulumi up` updates the trigger in place;
rotate the secret and the trigger is bound to the new one. `pulumi destroy` deletes trigger, version and workflow.
"""

import pulumi

from pulumi_cdf_workflows import ClientCredentials, Workflow, WorkflowTrigger, WorkflowVersion

config = pulumi.Config()

workflow = Workflow("nightly-sync", external_id="nightly-sync", description="Sync assets every night")
version = WorkflowVersion(
    "nightly-sync-v1",
    workflow_external_id=workflow.external_id,
    version="1",
    workflow_definition={
        "tasks": [
            {
                "externalId": "sync",
                "type": "cdf",
                "parameters": {"cdfRequest": {"resourcePath": "/assets/list", "method": "POST"}},
            }
        ],
    },
)
nightly = WorkflowTrigger(
    "nightly",
    external_id="nightly-sync-0200",
    trigger_rule={
        "triggerType": "schedule",
        "cronExpression": config.get("cron") or "0 2 * * *",
        "timezone": "Europe/Oslo",
    },
    version=version,
    input={"full": False},
    client_credentials=ClientCredentials(
        client_id=config.require("runClientId"),
        client_secret=config.require_secret("runClientSecret"),
    ),
)

pulumi.export("schedule", nightly.schedule)
pulumi.export("nextFireTime", nightly.next_fire_time)
