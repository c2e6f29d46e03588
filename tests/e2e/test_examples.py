"""The examples, through the real CLI against a fresh emulator: a preview writes nothing, `up` deploys the
workflow and its version and runs it once, editing a task runs it again, an unrelated change runs nothing,
`destroy` removes what the stack created, and the official SDK reads back what the resources created."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from pulumi_cdf_workflows.emulator import CdfEmulator

from .conftest import (
    CDF_PROJECT,
    CLIENT_ID,
    CLIENT_SECRET,
    REPO_ROOT,
    RUN_CLIENT_ID,
    RUN_CLIENT_SECRET,
    ProjectVenv,
    Workspace,
    describe,
    make_workspace,
)

pytestmark = pytest.mark.e2e
EXAMPLES = REPO_ROOT / "examples"


@pytest.fixture
def emu() -> Iterator[CdfEmulator]:
    with CdfEmulator(clients={CLIENT_ID: CLIENT_SECRET, RUN_CLIENT_ID: RUN_CLIENT_SECRET}, task_duration=0.05) as e:
        yield e


def readme_deploy_example() -> str:
    """The program of the README's "Deploy the workflow too" section, as a user would copy it."""
    readme = (REPO_ROOT / "README.md").read_text()
    section = readme.split("## Deploy the workflow too", 1)[1]
    return section.split("```python\n", 1)[1].split("```", 1)[0]


def example_workspace(name: str, emu: CdfEmulator, venv: ProjectVenv, root: Path) -> Workspace:
    source = readme_deploy_example() if name == "readme" else (EXAMPLES / name / "__main__.py").read_text()
    workspace = make_workspace(emu, root, venv, name=f"example-{name.replace('_', '-')}", program=source)
    workspace.init_stack("dev")
    if name in ("credentials", "scheduled_trigger"):
        workspace.pulumi("config", "set", "runClientId", RUN_CLIENT_ID, stack="dev")
        workspace.pulumi("config", "set", "--secret", "runClientSecret", RUN_CLIENT_SECRET, stack="dev")
    return workspace


def api_writes(emu: CdfEmulator) -> list[str]:
    return [f"POST {r['path']}" for r in emu.requests("POST") if r["path"].startswith("/api/")]


@pytest.mark.parametrize(
    ("name", "runs"), [("quickstart", 1), ("post_deploy_trigger", 1), ("credentials", 1), ("scheduled_trigger", 0)]
)
def test_an_example_previews_without_writing_deploys_runs_once_and_destroys(
    name: str, runs: int, emu: CdfEmulator, project_venv: ProjectVenv, tmp_path: Path, pulumi_cli: str
) -> None:
    workspace = example_workspace(name, emu, project_venv, tmp_path)

    preview = workspace.pulumi("preview", stack="dev")
    assert api_writes(emu) == [], describe(preview)
    # A first preview reads only who deploys (one token inspect for the stack's connection), and writes nothing.
    assert [r["path"] for r in emu.requests("GET")] == ["/api/v1/token/inspect"], describe(preview)

    workspace.pulumi("up", "--yes", stack="dev")
    executions = emu.executions(CDF_PROJECT)
    assert len(executions) == runs
    if runs:
        assert workspace.stack_output("executionId", "dev") == executions[0]["id"]
    (workflow,) = emu.backend.list_workflows(CDF_PROJECT, None, None)[0]
    assert workspace.pulumi("up", "--yes", "--expect-no-changes", stack="dev").returncode == 0
    assert len(emu.executions(CDF_PROJECT)) == runs

    workspace.pulumi("destroy", "--yes", stack="dev")
    assert [r["status"] for r in emu.requests("POST", r"/workflows/delete$")] == [200]
    assert [r["status"] for r in emu.requests("POST", r"/workflows/versions/delete$")] == [200]
    assert emu.backend.list_workflows(CDF_PROJECT, None, None)[0] == []
    versions = emu.backend.list_versions(CDF_PROJECT, None, None, None)[0]
    assert workflow.external_id not in {v.workflow_external_id for v in versions}


@pytest.mark.parametrize("name", ["quickstart", "post_deploy_trigger", "credentials", "scheduled_trigger", "readme"])
def test_after_up_a_preview_and_a_refresh_find_nothing_to_change(
    name: str, emu: CdfEmulator, project_venv: ProjectVenv, tmp_path: Path, pulumi_cli: str
) -> None:
    workspace = example_workspace(name, emu, project_venv, tmp_path)
    workspace.pulumi("up", "--yes", stack="dev")

    workspace.pulumi("preview", "--expect-no-changes", stack="dev")
    emu.advance_time(24 * 3600)  # a scheduled trigger fires meanwhile
    workspace.pulumi("refresh", "--yes", stack="dev")
    workspace.pulumi("preview", "--expect-no-changes", stack="dev")

    runs = len(emu.executions(CDF_PROJECT))
    up = workspace.pulumi("up", "--yes", "--expect-no-changes", stack="dev")
    assert len(emu.executions(CDF_PROJECT)) == runs, describe(up)


def test_editing_a_task_runs_the_workflow_again_and_an_unrelated_change_does_not(
    emu: CdfEmulator, project_venv: ProjectVenv, tmp_path: Path, pulumi_cli: str
) -> None:
    workspace = example_workspace("post_deploy_trigger", emu, project_venv, tmp_path)
    program = workspace.project_dir / "__main__.py"
    workspace.pulumi("up", "--yes", stack="dev")
    hash_before = workspace.stack_output("definitionHash", "dev")

    program.write_text(program.read_text().replace('"/timeseries/data"', '"/timeseries/data/latest"'))
    preview = workspace.pulumi("preview", stack="dev")
    assert re.search(r"~\s+\S+cdf:WorkflowVersion backfill-v1 update \[diff: ~workflow_definition\]", preview.stdout), (
        describe(preview)
    )
    # The preview already says that the execution will run again, and why.
    assert re.search(
        r"\+- \S+cdf:WorkflowExecution backfill-after-release replace \[diff: ~definition_hash\]", preview.stdout
    ), describe(preview)
    assert len(emu.executions(CDF_PROJECT)) == 1  # the preview ran nothing
    workspace.pulumi("up", "--yes", stack="dev")

    executions = emu.executions(CDF_PROJECT)
    assert len(executions) == 2, executions
    load = [t for t in executions[-1]["workflowDefinition"]["tasks"] if t["externalId"] == "load"]
    assert load[0]["parameters"]["cdfRequest"]["resourcePath"] == "/timeseries/data/latest"
    assert workspace.stack_output("definitionHash", "dev") != hash_before

    program.write_text(program.read_text().replace("Backfill after each release", "Backfill after every release"))
    up = workspace.pulumi("up", "--yes", stack="dev")
    assert len(emu.executions(CDF_PROJECT)) == 2, describe(up)
    assert "1 updated" in up.stdout, describe(up)


def test_the_official_sdk_reads_back_what_the_resources_created(
    emu: CdfEmulator, project_venv: ProjectVenv, tmp_path: Path, pulumi_cli: str
) -> None:
    from cognite.client import ClientConfig, CogniteClient
    from cognite.client.credentials import Token
    from cognite.client.data_classes.workflows import CDFTaskParameters

    workspace = example_workspace("post_deploy_trigger", emu, project_venv, tmp_path)
    workspace.pulumi("up", "--yes", stack="dev")
    (workflow,) = workspace.resources_in_state("dev", "Workflow")
    (version,) = workspace.resources_in_state("dev", "WorkflowVersion")
    sdk = CogniteClient(
        ClientConfig(client_name="e2e", project=CDF_PROJECT, base_url=emu.base_url, credentials=Token("static-sdk"))
    )

    found = sdk.workflows.retrieve("backfill")
    assert found is not None
    assert (found.external_id, found.description) == ("backfill", workflow["outputs"]["description"])
    assert found.created_time == workflow["outputs"]["created_time"]
    found_version = sdk.workflows.versions.retrieve(("backfill", "1"))
    assert found_version is not None
    definition = version["outputs"]["workflow_definition"]
    assert found_version.workflow_definition.hash_ == version["outputs"]["definition_hash"]
    assert found_version.workflow_definition.description == definition["description"]
    sdk_tasks = []
    for t in found_version.workflow_definition.tasks:
        assert isinstance(t.parameters, CDFTaskParameters)
        request = (t.parameters.resource_path, t.parameters.method)
        depends_on = list(t.depends_on or [])
        sdk_tasks.append((t.external_id, t.type, t.retries, t.timeout, t.on_failure, depends_on, *request))
    ours = [
        (
            t["externalId"],
            t["type"],
            t["retries"],
            t["timeout"],
            t["onFailure"],
            [d["externalId"] for d in t["dependsOn"]],
            t["parameters"]["cdfRequest"]["resourcePath"],
            t["parameters"]["cdfRequest"]["method"],
        )
        for t in definition["tasks"]
    ]
    assert sdk_tasks == ours


def test_a_version_deleted_in_cdf_is_recreated_by_up_without_running_again(
    emu: CdfEmulator, project_venv: ProjectVenv, tmp_path: Path, pulumi_cli: str
) -> None:
    workspace = example_workspace("post_deploy_trigger", emu, project_venv, tmp_path)
    workspace.pulumi("up", "--yes", stack="dev")
    hash_before = workspace.stack_output("definitionHash", "dev")
    emu.backend.delete_versions(CDF_PROJECT, [{"workflowExternalId": "backfill", "version": "1"}], False)

    workspace.pulumi("refresh", "--yes", stack="dev")
    assert workspace.resources_in_state("dev", "WorkflowVersion") == []
    up = workspace.pulumi("up", "--yes", stack="dev")

    assert emu.backend.get_version(CDF_PROJECT, "backfill", "1").hash == hash_before
    assert len(emu.executions(CDF_PROJECT)) == 1, describe(up)
    assert "1 created" in up.stdout, describe(up)


def test_destroy_right_after_up_waits_for_the_running_execution_before_deleting_the_workflow(
    emu: CdfEmulator, project_venv: ProjectVenv, tmp_path: Path, pulumi_cli: str
) -> None:
    # The credentials example does not wait for its run, so destroy finds it still running: CDF refuses to
    # delete a workflow meanwhile, and destroy must wait rather than fail.
    workspace = example_workspace("credentials", emu, project_venv, tmp_path)
    emu.set_outcome("nightly-report", "1", "COMPLETED", task_duration=8.0)
    workspace.pulumi("up", "--yes", stack="dev")
    assert [e["status"] for e in emu.executions(CDF_PROJECT)] == ["RUNNING"]

    destroy = workspace.pulumi("destroy", "--yes", stack="dev")

    assert [r["status"] for r in emu.requests("POST", r"/workflows/delete$")] == [400, 200], describe(destroy)
    assert "waiting for 1 running execution(s) of workflow 'nightly-report' to end" in destroy.stdout, describe(destroy)
    assert [e["status"] for e in emu.executions(CDF_PROJECT)] == ["COMPLETED"]
    assert emu.backend.list_workflows(CDF_PROJECT, None, None)[0] == []


def test_triggers_with_the_definition_hash_runs_again_when_a_task_changes(
    emu: CdfEmulator, project_venv: ProjectVenv, tmp_path: Path, pulumi_cli: str
) -> None:
    workspace = example_workspace("post_deploy_trigger", emu, project_venv, tmp_path)
    program = workspace.project_dir / "__main__.py"
    source = program.read_text().replace(
        "    workflow_version=version,\n",
        "    workflow_external_id=version.workflow_external_id,\n    version=version.version,\n",
    )
    program.write_text(source.replace("triggers=[release],", "triggers=[release, version.definition_hash],"))
    workspace.pulumi("up", "--yes", stack="dev")

    program.write_text(program.read_text().replace('"/raw/dbs"', '"/raw/dbs/list"'))
    workspace.pulumi("up", "--yes", stack="dev")

    assert len(emu.executions(CDF_PROJECT)) == 2


def test_the_scheduled_trigger_example_fires_on_its_schedule_and_refuses_a_bad_cron(
    emu: CdfEmulator, project_venv: ProjectVenv, tmp_path: Path, pulumi_cli: str
) -> None:
    workspace = example_workspace("scheduled_trigger", emu, project_venv, tmp_path)
    workspace.pulumi("config", "set", "cron", "0 25 * * *", stack="dev")
    refused = workspace.pulumi("preview", stack="dev", ok=False)
    assert refused.returncode != 0, describe(refused)
    assert "cronExpression '0 25 * * *' is not a valid cron expression" in refused.stdout, describe(refused)
    assert [r["path"] for r in emu.requests() if r["path"].startswith("/api/")] == ["/api/v1/token/inspect"]

    workspace.pulumi("config", "rm", "cron", stack="dev")
    workspace.pulumi("up", "--yes", stack="dev")
    assert workspace.stack_output("schedule", "dev") == "At 02:00 (Europe/Oslo)"
    assert [s["clientId"] for s in emu.sessions(CDF_PROJECT)] == [RUN_CLIENT_ID]
    emu.advance_time(2 * 24 * 3600)  # two nights
    executions = emu.executions(CDF_PROJECT)
    assert len(executions) == 2
    assert all(e["input"] == {"full": False, "version": "1"} for e in executions)

    workspace.pulumi("destroy", "--yes", stack="dev")
    assert [r["status"] for r in emu.requests("POST", r"/workflows/triggers/delete$")] == [200]
    emu.advance_time(2 * 24 * 3600)
    assert len(emu.executions(CDF_PROJECT)) == 2  # nothing fires any more


def test_the_official_sdk_reads_back_the_trigger(
    emu: CdfEmulator, project_venv: ProjectVenv, tmp_path: Path, pulumi_cli: str
) -> None:
    from cognite.client import ClientConfig, CogniteClient
    from cognite.client.credentials import Token
    from cognite.client.data_classes.workflows import WorkflowScheduledTriggerRule

    workspace = example_workspace("scheduled_trigger", emu, project_venv, tmp_path)
    workspace.pulumi("up", "--yes", stack="dev")
    (trigger,) = workspace.resources_in_state("dev", "WorkflowTrigger")
    outputs = trigger["outputs"]
    sdk = CogniteClient(
        ClientConfig(client_name="e2e", project=CDF_PROJECT, base_url=emu.base_url, credentials=Token("static-sdk"))
    )

    (found,) = sdk.workflows.triggers.list()

    assert (found.external_id, found.workflow_external_id, found.workflow_version) == (
        outputs["external_id"],
        outputs["workflow_external_id"],
        outputs["workflow_version"],
    )
    assert isinstance(found.trigger_rule, WorkflowScheduledTriggerRule)
    rule = outputs["trigger_rule"]
    assert found.trigger_rule.cron_expression == rule["cronExpression"]
    assert str(found.trigger_rule.timezone) == rule["timezone"]  # the SDK makes it a ZoneInfo
    assert found.input == outputs["input"] == {"full": False}
    assert found.created_time == outputs["created_time"]
    assert "client_credentials" not in outputs and RUN_CLIENT_SECRET not in json.dumps(outputs)
