"""The examples run as programs (under set_mocks) and their resources run through the real plugin."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest
from harness import capture_registrations

from pulumi_cdf_workflows.emulator import CdfEmulator

from .conftest import CLIENT_ID, CLIENT_SECRET, start_stack

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.mark.parametrize(
    ("example", "workflow", "expected_status"),
    [
        ("quickstart", "quickstart", "COMPLETED"),
        ("post_deploy_trigger", "backfill", "COMPLETED"),
        ("credentials", "nightly-report", "RUNNING"),
    ],
)
def test_example_creates_its_workflow_and_runs_it_once(example: str, workflow: str, expected_status: str) -> None:
    with CdfEmulator(clients={CLIENT_ID: CLIENT_SECRET, "runner": "runner-secret"}, task_duration=0.05) as emu:
        config = {
            "cdf:project": "examples",
            "cdf:baseUrl": emu.base_url,
            "cdf:tokenUrl": emu.token_url,
            "cdf:clientId": CLIENT_ID,
            "cdf:clientSecret": CLIENT_SECRET,
            "proj:runClientId": "runner",
            "proj:runClientSecret": "runner-secret",
        }
        path = EXAMPLES / example / "__main__.py"

        def program() -> None:
            runpy.run_path(str(path))

        registrations = capture_registrations(
            program,
            config=config,
            secret_config_keys=["cdf:clientSecret", "proj:runClientSecret"],
        )
        (registration,) = [r for r in registrations if r.type.endswith(":WorkflowExecution")]
        assert registration.engine_inputs["workflow_external_id"] == workflow
        plugin_config = {k: v for k, v in config.items() if k.startswith("cdf:")}
        for stack in start_stack(emu, plugin_config):
            inputs = stack.check(registration)
            id_, outs = stack.plugin.create(registration.urn, inputs)
            assert [e["id"] for e in emu.executions("examples")] == [id_]
            assert outs["status"] == expected_status
            if example == "credentials":
                (session,) = emu.sessions("examples")
                assert session["clientId"] == "runner"
