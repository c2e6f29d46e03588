"""What a user sees from the real CLI in the cases that matter: bad configuration, a failing or slow
workflow, secrets, cancel on destroy, looking up an execution, and many waits at once. Each test has a stack
(and a workflow) of its own in one workspace."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from pulumi_cdf_workflows.cdf import CdfClient, ConnectionSettings
from pulumi_cdf_workflows.emulator import CdfEmulator

from .conftest import (
    CDF_PROJECT,
    CLIENT_ID,
    CLIENT_SECRET,
    RUN_CLIENT_ID,
    RUN_CLIENT_SECRET,
    ProjectVenv,
    Workspace,
    describe,
    make_workspace,
    wait_until_ended,
)

pytestmark = pytest.mark.e2e
TWO_TASKS: list[dict[str, Any]] = [
    {"externalId": "extract", "type": "cdf", "parameters": {"cdfRequest": {"resourcePath": "/x", "method": "GET"}}},
    {
        "externalId": "load",
        "type": "cdf",
        "dependsOn": [{"externalId": "extract"}],
        "parameters": {"cdfRequest": {"resourcePath": "/y", "method": "GET"}},
    },
]


@pytest.fixture(scope="module")
def scenarios(
    pulumi_cli: str, emu: CdfEmulator, project_venv: ProjectVenv, tmp_path_factory: pytest.TempPathFactory
) -> Workspace:
    return make_workspace(emu, tmp_path_factory.mktemp("pulumi-scenarios"), project_venv)


def client(emu: CdfEmulator) -> CdfClient:
    return CdfClient(
        ConnectionSettings(
            project=CDF_PROJECT,
            base_url=emu.base_url,
            token_url=emu.token_url,
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
        )
    )


def output_of(result: subprocess.CompletedProcess[str]) -> str:
    return result.stdout + result.stderr


def test_a_missing_project_fails_the_preview_naming_the_config_key_and_variable(scenarios: Workspace) -> None:
    scenarios.init_stack("no-project")
    scenarios.pulumi("config", "rm", "cdf:project", stack="no-project")

    results = []
    requests = scenarios.requests_during(
        lambda: results.append(scenarios.pulumi("preview", stack="no-project", ok=False))
    )
    (result,) = results

    output = output_of(result)
    assert result.returncode != 0, describe(result)
    assert "the CDF project is not set" in output, describe(result)
    assert "`pulumi config set cdf:project <value>`" in output, describe(result)
    assert "the environment variable CDF_PROJECT" in output, describe(result)
    assert "Traceback" not in output, describe(result)
    assert [r for r in requests if r["path"].startswith("/api/")] == []


def test_a_mistyped_version_fails_at_preview_and_runs_nothing(scenarios: Workspace) -> None:
    scenarios.init_stack("typo", version="1x")
    changing_before = scenarios.changing_requests()

    result = scenarios.pulumi("up", "--yes", stack="typo", ok=False)

    output = output_of(result)
    assert result.returncode != 0, describe(result)
    assert "workflow 'e2e-wf' version '1x' in CDF project 'e2e' does not exist" in output, describe(result)
    assert "Traceback" not in output, describe(result)
    assert "Previewing update" in result.stdout, describe(result)
    assert "Updating (" not in result.stdout, describe(result)
    assert scenarios.changing_requests() == changing_before


def test_a_failed_workflow_fails_up_with_its_reason_and_the_next_up_runs_again(scenarios: Workspace) -> None:
    scenarios.emu.upsert_workflow_version(CDF_PROJECT, "e2e-fail", "1", TWO_TASKS)
    scenarios.emu.set_outcome("e2e-fail", "1", "FAILED", reason="the load step found no rows", failed_task="load")
    scenarios.init_stack("fail", workflow="e2e-fail", waitForCompletion="true")

    result = scenarios.pulumi("up", "--yes", stack="fail", ok=False)

    output = output_of(result)
    assert result.returncode != 0, describe(result)
    (execution,) = scenarios.executions("e2e-fail")
    assert (
        f"Execution {execution['id']} of workflow 'e2e-fail' version '1' in CDF project 'e2e' ended FAILED: "
        "the load step found no rows."
    ) in output, describe(result)
    assert re.search(r"Failed tasks: load \(FAILED", output), describe(result)
    assert "Nothing was recorded in the stack, so the next `pulumi up` runs the workflow again" in output
    assert "Traceback" not in output, describe(result)
    assert scenarios.executions_in_state("fail") == []

    again = scenarios.pulumi("up", "--yes", stack="fail", ok=False)
    assert again.returncode != 0, describe(again)
    assert len(scenarios.executions("e2e-fail")) == 2


def test_progress_appears_in_the_output_of_up_while_the_workflow_runs(scenarios: Workspace) -> None:
    scenarios.emu.upsert_workflow_version(CDF_PROJECT, "e2e-slow", "1", TWO_TASKS)
    scenarios.emu.set_outcome("e2e-slow", "1", "COMPLETED", task_duration=2.0)
    scenarios.init_stack("progress", workflow="e2e-slow", waitForCompletion="true")

    code, lines = scenarios.stream("up", "--yes", stack="progress")

    assert code == 0, "\n".join(line for _, line in lines)
    (execution,) = scenarios.executions("e2e-slow")

    def arrival(pattern: str) -> float:
        found = [second for second, line in lines if re.search(pattern, line)]
        assert found, f"no line matches {pattern!r}:\n" + "\n".join(line for _, line in lines)
        return found[0]

    started = arrival(rf"\[progress/run\] started execution {execution['id']} \(RUNNING\)")
    extract_done = arrival(r"\[progress/run\] task extract COMPLETED")
    finished = arrival(rf"\[progress/run\] execution {execution['id']} is COMPLETED after \d+ s")
    created = arrival(r"cdf:WorkflowExecution run created")
    # The tasks take 2 s each: the first lines arrive while the workflow still runs, not all at the end.
    assert started < extract_done - 1.0
    assert started < created - 2.0
    assert finished <= lines[-1][0]


def test_secrets_are_never_in_a_resource_and_never_on_disk_in_plaintext(scenarios: Workspace) -> None:
    nonce = client(scenarios.emu).create_session().nonce.get_secret_value()
    scenarios.init_stack("secrets", runClientId=RUN_CLIENT_ID)
    scenarios.pulumi("config", "set", "--secret", "runClientSecret", RUN_CLIENT_SECRET, stack="secrets")
    # The nonce reaches the program from the environment, so it is in no stack config either.
    scenarios.env["E2E_NONCE"] = nonce
    try:
        scenarios.pulumi("up", "--yes", stack="secrets")
    finally:
        del scenarios.env["E2E_NONCE"]

    executions = scenarios.executions_in_state("secrets", show_secrets=True)
    assert {r["urn"].rsplit("::", 1)[1] for r in executions} == {"run", "with-nonce"}
    exported = scenarios.pulumi("stack", "export", stack="secrets").stdout
    decrypted = json.loads(scenarios.pulumi("stack", "export", "--show-secrets", stack="secrets").stdout)
    on_disk = "\n".join(p.read_text(errors="replace") for p in scenarios.state_dir.rglob("*") if p.is_file())
    stack_config = (scenarios.project_dir / "Pulumi.secrets.yaml").read_text()
    for secret in (CLIENT_SECRET, RUN_CLIENT_SECRET, nonce):
        assert secret not in exported
        assert secret not in on_disk
        assert secret not in stack_config
        for resource in executions:
            assert secret not in json.dumps(resource["outputs"])
        # Decrypted, a secret shows only where the engine keeps it encrypted: the inputs that create needs
        # (client_credentials, nonce), and the copy of the stack config that the engine gives every dynamic
        # provider and keeps as the inputs of the default `pulumi-python` provider.
        holders = set()
        for resource in decrypted["deployment"]["resources"]:
            for part in ("inputs", "outputs"):
                for key, value in (resource.get(part) or {}).items():
                    if secret in json.dumps(value):
                        holders.add((resource["type"].rsplit(":", 1)[1], part, key))
        assert holders <= {
            ("pulumi-python", "inputs", "cdf:clientSecret"),
            ("pulumi-python", "outputs", "cdf:clientSecret"),
            ("pulumi-python", "inputs", "cdf-e2e:runClientSecret"),
            ("pulumi-python", "outputs", "cdf-e2e:runClientSecret"),
            ("WorkflowExecution", "inputs", "client_credentials"),
            ("WorkflowExecution", "inputs", "nonce"),
        }, holders


def test_cancel_on_delete_cancels_before_a_replacement_runs_and_on_destroy(scenarios: Workspace) -> None:
    scenarios.emu.upsert_workflow_version(CDF_PROJECT, "e2e-long", "1")
    scenarios.emu.set_outcome("e2e-long", "1", "RUN_UNTIL_CANCELLED")
    scenarios.init_stack("cancel", workflow="e2e-long", cancelOnDelete="true")
    scenarios.pulumi("up", "--yes", stack="cancel")
    (first,) = scenarios.executions("e2e-long")
    assert first["status"] == "RUNNING"

    scenarios.pulumi("config", "set", "day", "fri", stack="cancel")
    scenarios.pulumi("up", "--yes", stack="cancel")

    log = [f"{r['method']} {r['path']}" for r in scenarios.emu.requests("POST")]
    cancel_first = log.index(f"POST /api/v1/projects/{CDF_PROJECT}/workflows/executions/{first['id']}/cancel")
    runs = [i for i, line in enumerate(log) if line.endswith("/workflows/e2e-long/versions/1/run")]
    assert len(runs) == 2 and runs[0] < cancel_first < runs[1], log  # never two at once
    assert wait_until_ended(scenarios.emu, first["id"])["status"] == "TERMINATED"
    second = scenarios.executions("e2e-long")[-1]
    assert second["status"] == "RUNNING"

    scenarios.pulumi("destroy", "--yes", stack="cancel")

    cancels = scenarios.emu.requests("POST", rf"/workflows/executions/{second['id']}/cancel$")
    assert len(cancels) == 1
    assert "Cancelled by Pulumi: resource cancel/run was deleted or replaced" in str(cancels[0]["body"])
    assert wait_until_ended(scenarios.emu, second["id"])["status"] == "TERMINATED"


def test_get_exports_an_execution_started_elsewhere_and_destroy_leaves_it_alone(scenarios: Workspace) -> None:
    started = client(scenarios.emu).run("e2e-wf", "1", input={"source": "a person"})
    wait_until_ended(scenarios.emu, started.id)
    scenarios.init_stack("adopt", adoptExecutionId=started.id)
    changing_before = scenarios.changing_requests()

    scenarios.pulumi("up", "--yes", stack="adopt")

    assert scenarios.stack_output("adoptedStatus", "adopt") == "COMPLETED"
    assert scenarios.stack_output("adoptedInput", "adopt") == {"source": "a person"}
    assert scenarios.stack_output("adoptedWorkflow", "adopt") == "e2e-wf"
    scenarios.pulumi("destroy", "--yes", stack="adopt")
    assert scenarios.changing_requests() == changing_before
    assert [e["id"] for e in scenarios.executions() if e["id"] == started.id] == [started.id]


def test_eight_waiting_resources_in_one_up_all_complete(scenarios: Workspace) -> None:
    scenarios.emu.upsert_workflow_version(CDF_PROJECT, "e2e-eight", "1")
    scenarios.emu.set_outcome("e2e-eight", "1", "COMPLETED", task_duration=1.0)
    scenarios.init_stack("eight", workflow="e2e-eight", count="8", waitForCompletion="true")

    scenarios.pulumi("up", "--yes", stack="eight")

    executions = scenarios.executions("e2e-eight")
    assert len(executions) == 8
    in_state = scenarios.executions_in_state("eight")
    assert sorted(r["outputs"]["status"] for r in in_state) == ["COMPLETED"] * 8
    assert sorted(r["id"] for r in in_state) == sorted(e["id"] for e in executions)
    # Each create holds one of the plugin's 4 threads until its execution ends: never more than 4 ran at once.
    edges = sorted([(e["startTime"], 1) for e in executions] + [(e["endTime"], -1) for e in executions])
    running, most = 0, 0
    for _, step in edges:
        running += step
        most = max(most, running)
    assert most == 4


def test_custom_timeouts_do_not_shorten_the_wait(scenarios: Workspace) -> None:
    scenarios.emu.upsert_workflow_version(CDF_PROJECT, "e2e-timeouts", "1")
    scenarios.emu.set_outcome("e2e-timeouts", "1", "COMPLETED", task_duration=4.0)
    scenarios.init_stack("timeouts", workflow="e2e-timeouts", waitForCompletion="true", createTimeout="1s")

    result = scenarios.pulumi("up", "--yes", stack="timeouts")

    assert scenarios.stack_output("status", "timeouts") == "COMPLETED", describe(result)


def test_pulumi_import_cannot_adopt_an_execution(scenarios: Workspace) -> None:
    # The README sends users to WorkflowExecution.get: the engine's import step hands the plugin no inputs,
    # so it cannot find the serialized provider (pulumi/pulumi#16175). Should that change, so should the README.
    started = client(scenarios.emu).run("e2e-wf", "1")
    scenarios.init_stack("import", count="0")

    resource_type = "pulumi-python:dynamic/cdf:WorkflowExecution"
    result = scenarios.pulumi("import", resource_type, "imported", started.id, "--yes", stack="import", ok=False)

    assert result.returncode != 0, describe(result)
    assert "KeyError: '__provider'" in output_of(result), describe(result)
    assert scenarios.executions_in_state("import") == []


def test_up_refresh_after_the_environment_points_elsewhere_runs_nothing(scenarios: Workspace) -> None:
    scenarios.emu.upsert_workflow_version("elsewhere", "e2e-wf", "1")
    scenarios.init_stack("env-project")
    scenarios.pulumi("config", "rm", "cdf:project", stack="env-project")
    scenarios.env["CDF_PROJECT"] = CDF_PROJECT
    try:
        scenarios.pulumi("up", "--yes", stack="env-project")
        (before,) = scenarios.executions_in_state("env-project")
        changing_before = scenarios.changing_requests()

        scenarios.env["CDF_PROJECT"] = "elsewhere"
        result = scenarios.pulumi("up", "--refresh", "--yes", "--expect-no-changes", stack="env-project")
    finally:
        scenarios.env["CDF_PROJECT"] = ""

    assert scenarios.changing_requests() == changing_before, describe(result)
    assert "the environment now points at CDF project 'elsewhere'" in result.stdout, describe(result)
    (after,) = scenarios.executions_in_state("env-project")
    assert after["id"] == before["id"]
    assert after["outputs"]["project"] == CDF_PROJECT
    assert after["outputs"]["found_in_cdf"] is True


def test_an_execution_cdf_no_longer_keeps_stays_in_the_stack_and_is_not_run_again(
    project_venv: ProjectVenv, tmp_path: Path, pulumi_cli: str
) -> None:
    with CdfEmulator(clients={CLIENT_ID: CLIENT_SECRET}, task_duration=0.05) as own:
        own.upsert_workflow_version(CDF_PROJECT, "e2e-wf", "1")
        workspace = make_workspace(own, tmp_path, project_venv)
        workspace.init_stack("retention")
        workspace.pulumi("up", "--yes", stack="retention")
        (before,) = workspace.executions_in_state("retention")
        own.reset()  # as after CDF's three months of retention: the execution is gone
        own.upsert_workflow_version(CDF_PROJECT, "e2e-wf", "1")

        refresh = workspace.pulumi("refresh", "--yes", stack="retention")
        up = workspace.pulumi("up", "--yes", "--expect-no-changes", stack="retention")

        assert own.requests("POST", r"/run$") == [], describe(up)
    assert "is no longer in CDF project 'e2e'" in refresh.stdout, describe(refresh)
    (after,) = workspace.executions_in_state("retention")
    assert after["id"] == before["id"]
    assert after["outputs"]["found_in_cdf"] is False
    assert after["outputs"]["status"] == before["outputs"]["status"]
