"""Deployed resources through the real CLI, with a production project in mind: an unchanged program plans
nothing (a version written as a number, tasks without CDF's defaults, a schedule without a time zone), a
first preview of an execution of a version the same stack deploys passes, a refresh after a trigger fired
reports nothing, and objects CDF already holds are never silently taken over, lost on rename or deleted with
versions the stack does not manage."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from pulumi_cdf_workflows.emulator import CdfEmulator
from pulumi_cdf_workflows.emulator.exceptions import NotFound

from .conftest import CDF_PROJECT, CLIENT_ID, CLIENT_SECRET, ProjectVenv, Workspace, describe, make_workspace

pytestmark = pytest.mark.e2e

PROGRAM = """\
import pulumi

from pulumi_cdf_workflows import Workflow, WorkflowExecution, WorkflowTrigger, WorkflowVersion

config = pulumi.Config()
workflow = Workflow(
    config.get("workflowName") or "wf",
    external_id="safety",
    description=config.get("description") or "deploy safety",
    adopt=config.get_bool("adopt"),
    force_destroy=config.get_bool("forceDestroy"),
)
version = WorkflowVersion(
    "v1",
    workflow_external_id=workflow.external_id,
    version=1,  # a number: the same as "1"
    workflow_definition={
        "tasks": [  # no retries, timeout, onFailure or parameter defaults: CDF fills them
            {"externalId": "extract", "type": "function", "parameters": {"function": {"externalId": "fn"}}},
            {
                "externalId": "load",
                "type": "transformation",
                "parameters": {"transformation": {"externalId": "tx"}},
                "dependsOn": [{"externalId": config.get("dependsOn") or "extract"}],
            },
        ]
    },
)
# Linked by its outputs, not with workflow_version=: the first preview must still pass.
run = WorkflowExecution(
    "run",
    workflow_external_id=version.workflow_external_id,
    version=version.version,
    input={"days": config.get_int("days") or 7},
    wait_for_completion=True,
)
plain = WorkflowExecution(
    "run-plain", workflow_external_id="seeded", version=1, opts=pulumi.ResourceOptions(depends_on=[version])
)
trigger = WorkflowTrigger(
    "nightly",
    external_id="safety-nightly",
    trigger_rule={"triggerType": "schedule", "cronExpression": "0 2 * * *"},  # no time zone: CDF says UTC
    version=version,
)
pulumi.export("schedule", trigger.schedule)
pulumi.export("nextFireTime", trigger.next_fire_time)
"""


@pytest.fixture
def emu() -> Iterator[CdfEmulator]:
    with CdfEmulator(clients={CLIENT_ID: CLIENT_SECRET}, task_duration=0.05) as emulator:
        emulator.set_time(1_798_761_600_000)  # Fri 1 Jan 2027 00:00 UTC
        emulator.upsert_workflow_version(CDF_PROJECT, "seeded", "1")
        yield emulator


@pytest.fixture
def workspace(emu: CdfEmulator, project_venv: ProjectVenv, tmp_path: Path, pulumi_cli: str) -> Workspace:
    made = make_workspace(emu, tmp_path, project_venv, name="deploy-safety", program=PROGRAM)
    made.init_stack("dev")
    return made


def output_of(result: subprocess.CompletedProcess[str]) -> str:
    return result.stdout + result.stderr


def workflow_exists(emu: CdfEmulator) -> bool:
    try:
        emu.backend.get_workflow(CDF_PROJECT, "safety")
    except NotFound:
        return False
    return True


def test_an_unchanged_program_plans_nothing_and_a_refresh_after_firings_finds_nothing(
    workspace: Workspace, emu: CdfEmulator
) -> None:
    preview = workspace.pulumi("preview", stack="dev")  # the execution's version does not exist yet
    assert re.search(r'schedule\s*: "At 02:00 \(UTC\)"', preview.stdout), describe(preview)  # computed without CDF
    assert [r for r in emu.requests("POST") if r["path"].startswith("/api/")] == []

    workspace.pulumi("up", "--yes", stack="dev")
    assert len(emu.executions(CDF_PROJECT)) == 2
    workspace.pulumi("preview", "--expect-no-changes", stack="dev")
    again = workspace.pulumi("up", "--yes", "--expect-no-changes", stack="dev")
    assert len(emu.executions(CDF_PROJECT)) == 2, describe(again)  # nothing ran again
    assert emu.backend.get_version(CDF_PROJECT, "safety", "1") is not None  # and the version is still there

    assert workspace.stack_output("nextFireTime", "dev") == "Fri 01 Jan 2027 02:00 UTC"
    assert len(emu.advance_time(2 * 24 * 3600)) == 2  # the trigger fired twice
    workspace.pulumi("refresh", "--yes", "--expect-no-changes", stack="dev")
    workspace.pulumi("preview", "--expect-no-changes", stack="dev")


def test_a_differing_workflow_in_cdf_is_not_overwritten_until_adopt_is_set(
    workspace: Workspace, emu: CdfEmulator
) -> None:
    emu.backend.upsert_workflow(CDF_PROJECT, [{"externalId": "safety", "maxConcurrentExecutions": 5}])

    refused = workspace.pulumi("up", "--yes", stack="dev", ok=False)

    assert refused.returncode != 0, describe(refused)
    output = output_of(refused)
    assert "workflow safety already exists in CDF project 'e2e' and differs from this program" in output
    assert "max_concurrent_executions is 5 in CDF and not set in this program" in output
    assert "adopt=True" in output and "aliases" in output and "Traceback" not in output
    assert emu.backend.get_workflow(CDF_PROJECT, "safety").max_concurrent_executions == 5

    workspace.pulumi("config", "set", "adopt", "true", stack="dev")
    workspace.pulumi("up", "--yes", stack="dev")
    assert emu.backend.get_workflow(CDF_PROJECT, "safety").max_concurrent_executions is None


def test_the_up_after_one_that_died_before_recording_its_objects_completes(
    workspace: Workspace, emu: CdfEmulator
) -> None:
    workspace.pulumi("up", "--yes", stack="dev")
    # As if the runner was killed after CDF wrote them and before the stack recorded them.
    (workflow,) = workspace.resources_in_state("dev", "Workflow")
    workspace.pulumi("state", "delete", workflow["urn"], "--yes", "--target-dependents", stack="dev")
    assert workspace.resources_in_state("dev", "WorkflowVersion") == []

    up = workspace.pulumi("up", "--yes", stack="dev")

    assert "took into the stack workflow safety, which already existed" in up.stdout, describe(up)
    assert workflow_exists(emu)
    workspace.pulumi("preview", "--expect-no-changes", stack="dev")


def test_a_renamed_workflow_without_an_alias_is_still_in_cdf_after_the_up(
    workspace: Workspace, emu: CdfEmulator
) -> None:
    workspace.pulumi("up", "--yes", stack="dev")
    workspace.pulumi("config", "set", "workflowName", "wf-renamed", stack="dev")

    up = workspace.pulumi("up", "--yes", stack="dev")

    assert workflow_exists(emu), describe(up)
    assert emu.backend.get_version(CDF_PROJECT, "safety", "1") is not None
    assert "left workflow safety in CDF" in up.stdout, describe(up)
    workspace.pulumi("preview", "--expect-no-changes", stack="dev")


def test_destroy_refuses_to_take_a_version_the_stack_does_not_manage_unless_forced(
    workspace: Workspace, emu: CdfEmulator
) -> None:
    workspace.pulumi("up", "--yes", stack="dev")
    emu.upsert_workflow_version(CDF_PROJECT, "safety", "toolkit-2")

    refused = workspace.pulumi("destroy", "--yes", stack="dev", ok=False)

    assert refused.returncode != 0, describe(refused)
    assert "version 'toolkit-2'" in output_of(refused) and "force_destroy=True" in output_of(refused)
    assert emu.backend.get_version(CDF_PROJECT, "safety", "toolkit-2") is not None
    workspace.pulumi("config", "set", "forceDestroy", "true", stack="dev")
    workspace.pulumi("up", "--yes", stack="dev")
    workspace.pulumi("destroy", "--yes", stack="dev")
    assert not workflow_exists(emu)


def test_what_a_user_reads_a_short_check_failure_and_a_row_that_names_only_what_changed(
    workspace: Workspace, emu: CdfEmulator
) -> None:
    workspace.pulumi("config", "set", "dependsOn", "extrct", stack="dev")
    refused = workspace.pulumi("preview", stack="dev", ok=False)
    output = output_of(refused)
    assert refused.returncode != 0, describe(refused)
    assert (
        "resource 'v1' has a problem: workflow_definition.tasks[1] 'load': depends on 'extrct', which is not a "
        "task of this version; did you mean 'extract'?"
    ) in output, describe(refused)
    assert "map[" not in output, describe(refused)  # not the engine's dump of the whole definition

    workspace.pulumi("config", "rm", "dependsOn", stack="dev")
    workspace.pulumi("up", "--yes", stack="dev")
    workspace.pulumi("refresh", "--yes", stack="dev")
    workspace.pulumi("config", "set", "days", "8", stack="dev")
    preview = workspace.pulumi("preview", stack="dev")
    # Exactly what changed: no settings that look removed, no identifier that looks changed.
    assert re.search(r"\+-\s*\S+cdf:WorkflowExecution run replace \[diff: ~input\]\s*$", preview.stdout, re.M), (
        describe(preview)
    )
    detailed = workspace.pulumi("preview", "--diff", stack="dev")
    assert "pulumi_resource" not in detailed.stdout, describe(detailed)
