"""A TypeScript program deploys through the real `pulumi` CLI with the generated SDK and the plugin: compiled with
tsc, run by the Node.js language host that scripts/install-sdkgen builds, against the emulator."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from pulumi_cdf_workflows.emulator import CdfEmulator
from pulumi_cdf_workflows.lifecycle.connection import FIELDS, READ_TIMEOUT_ENV

from .conftest import INSTALL_TIMEOUT, PLUGIN, Tools, TypeScriptSdk, run, unavailable

# The first test to run builds the tools (sdk_tools): minutes with cold Go and npm caches.
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(INSTALL_TIMEOUT + 300)]

PROJECT, CLIENT_ID, CLIENT_SECRET = "ts", "ts-client", "ts-client-secret-41d9"
RUN_CLIENT_ID, RUN_CLIENT_SECRET = "ts-run-client", "ts-run-secret-0b7e"
PROGRAM = """\
import * as pulumi from "@pulumi/pulumi";
import * as cdf from "@pulumi/cdf-workflows";

const config = new pulumi.Config();
const run = new cdf.WorkflowExecution("run", {
    workflowExternalId: "wf",
    version: "1",
    input: { day: "mon" },
    waitForCompletion: true,
    clientCredentials: {
        clientId: config.require("runClientId"),
        clientSecret: config.requireSecret("runClientSecret"),
    },
});
export const status = run.status;
export const executionId = run.executionId;
"""
TSCONFIG = {
    "compilerOptions": {"strict": True, "target": "ES2020", "module": "commonjs", "types": ["node"]},
    "files": ["index.ts"],
}


def _link(link: Path, target: Path) -> None:
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(target, target_is_directory=True)


def test_a_typescript_program_runs_an_execution_through_the_plugin(
    typescript_sdk: TypeScriptSdk, sdk_tools: Tools, tmp_path: Path
) -> None:
    pulumi = shutil.which("pulumi")
    if pulumi is None:
        unavailable("the pulumi CLI is not on PATH: put `scripts/install-pulumi | tail -n 1` on PATH")
    program, state, home = tmp_path / "program", tmp_path / "state", tmp_path / "home"
    for directory in (program, state, home):
        directory.mkdir()
    # The program's node_modules: the pinned packages, and the SDK as `npm install <sdk>/bin` would put it.
    for package in ("@pulumi/pulumi", "@types/node"):
        _link(program / "node_modules" / package, sdk_tools.node_modules / package)
    _link(program / "node_modules" / "@pulumi" / "cdf-workflows", typescript_sdk.out)
    (program / "index.ts").write_text(PROGRAM)
    (program / "tsconfig.json").write_text(json.dumps(TSCONFIG))
    (program / "package.json").write_text(json.dumps({"name": "ts-program", "main": "index.js"}))
    (program / "Pulumi.yaml").write_text(
        "name: ts-program\nruntime: nodejs\nplugins:\n  providers:\n"
        f"    - name: cdf-workflows\n      path: {json.dumps(str(PLUGIN.parent))}\n"
    )
    run(sdk_tools.tsc(program), program)

    env = {
        **os.environ,
        **{f.env_var: "" for f in FIELDS},
        READ_TIMEOUT_ENV: "",
        # The CLI's own directory first: its bundled plugins; then the Node.js language host.
        "PATH": os.pathsep.join((str(Path(pulumi).parent), str(sdk_tools.bin), os.environ.get("PATH", ""))),
        "PULUMI_BACKEND_URL": state.as_uri(),
        "PULUMI_HOME": str(home),
        "PULUMI_CONFIG_PASSPHRASE": "ts-passphrase",
        "PULUMI_SKIP_UPDATE_CHECK": "true",
        "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
    }

    def cli(*args: str) -> str:
        return run([pulumi, *args], program, env=env, secrets=(CLIENT_SECRET, RUN_CLIENT_SECRET))

    clients = {CLIENT_ID: CLIENT_SECRET, RUN_CLIENT_ID: RUN_CLIENT_SECRET}
    with CdfEmulator(clients=clients, task_duration=0.05) as emu:
        emu.upsert_workflow_version(PROJECT, "wf", "1")
        cli("stack", "init", "dev", "--secrets-provider", "passphrase")
        for key, value in (
            ("project", PROJECT),
            ("baseUrl", emu.base_url),
            ("tokenUrl", emu.token_url),
            ("clientId", CLIENT_ID),
        ):
            cli("config", "set", "--plaintext", f"cdf-workflows:{key}", value)
        cli("config", "set", "--secret", "cdf-workflows:clientSecret", CLIENT_SECRET)
        cli("config", "set", "runClientId", RUN_CLIENT_ID)
        cli("config", "set", "--secret", "runClientSecret", RUN_CLIENT_SECRET)

        up = cli("up", "--yes", "--non-interactive", "--skip-preview")
        outputs = json.loads(cli("stack", "output", "--json"))
        assert outputs["status"] == "COMPLETED", up
        (execution,) = emu.executions(PROJECT)
        assert execution["id"] == outputs["executionId"]
        assert execution["status"] == "COMPLETED"
        state_text = cli("stack", "export")
        assert RUN_CLIENT_SECRET not in state_text and CLIENT_SECRET not in state_text
        for secret in (CLIENT_SECRET, RUN_CLIENT_SECRET):
            assert secret not in up

        cli("destroy", "--yes", "--non-interactive", "--skip-preview")
        assert json.loads(cli("stack", "export"))["deployment"].get("resources") in (None, [])
