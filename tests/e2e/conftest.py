"""End to end through the real `pulumi` CLI: a private file backend, PULUMI_HOME and virtualenv per session.

The CLI comes from PATH (`scripts/test` puts the one `scripts/install-pulumi` provides there). Where it is
missing the tests skip with the reason, except under CI=true, where a missing CLI fails them: CI must run them.
Nothing here touches the developer's `pulumi login`, ~/.pulumi or stacks. The emulator's request log is the
witness of what reached CDF.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from harness import wait_until

from pulumi_cdf_workflows.emulator import CdfEmulator
from pulumi_cdf_workflows.lifecycle.connection import FIELDS, READ_TIMEOUT_ENV

REPO_ROOT = Path(__file__).resolve().parents[2]
CDF_PROJECT = "e2e"
CLIENT_ID = "e2e-client"
CLIENT_SECRET = "e2e-client-secret-7c1d"
# A second client, for executions that run as another principal (client_credentials).
RUN_CLIENT_ID = "e2e-run-client"
RUN_CLIENT_SECRET = "e2e-run-secret-92fb"
RESOURCE_TYPE_PREFIX = "pulumi-python:dynamic/cdf:"
TERMINAL = ("COMPLETED", "FAILED", "TIMED_OUT", "TERMINATED")
# CDF settings in the developer's shell must not reach the provider: blank values count as unset.
CLEAN_CDF_ENV = {f.env_var: "" for f in FIELDS} | {READ_TIMEOUT_ENV: ""}
# Requests that change something in CDF: every POST under /api/ (sessions, run, cancel, ...) but the lists and
# look-ups CDF serves as POSTs.
CHANGING = re.compile(r"^/api/(?!.*/(list|byids)$)")

PROGRAM = """\
import os

import pulumi

from pulumi_cdf_workflows import ClientCredentials, WorkflowExecution

config = pulumi.Config()
waits = config.get_bool("waitForCompletion")
timeout = config.get_float("timeoutSeconds")
credentials = None
if config.get("runClientId"):
    credentials = ClientCredentials(client_id=config.require("runClientId"),
                                    client_secret=config.require_secret("runClientSecret"))
adopt = config.get("adoptExecutionId")
if adopt:
    found = WorkflowExecution.get("adopted", adopt)
    pulumi.export("adoptedStatus", found.status)
    pulumi.export("adoptedInput", found.input)
    pulumi.export("adoptedWorkflow", found.workflow_external_id)
for i in range(config.get_int("count") or (0 if adopt else 1)):
    run = WorkflowExecution(
        "run" if i == 0 else f"run-{i}",
        workflow_external_id=config.get("workflow") or "e2e-wf",
        version=config.get("version") or "1",
        input={"day": config.get("day") or "mon", "n": 1, "i": i},
        client_credentials=credentials if i == 0 else None,
        wait_for_completion=waits,
        timeout_seconds=timeout,
        cancel_on_delete=config.get_bool("cancelOnDelete"),
        opts=pulumi.ResourceOptions(custom_timeouts=pulumi.CustomTimeouts(create=config.get("createTimeout"))),
    )
    if i == 0:
        pulumi.export("executionId", run.execution_id)
        pulumi.export("status", run.status)
nonce = os.environ.get("E2E_NONCE")
if nonce:
    WorkflowExecution("with-nonce", workflow_external_id="e2e-wf", version="1", nonce=nonce)
"""


def _pulumi_yaml(name: str, virtualenv: Path) -> str:
    # json.dumps gives a double-quoted string, which is valid YAML whatever the path holds.
    return (
        f"name: {name}\n"
        "description: end-to-end test of pulumi-cdf-workflows\n"
        "runtime:\n"
        "  name: python\n"
        "  options:\n"
        "    toolchain: pip\n"
        f"    virtualenv: {json.dumps(str(virtualenv))}\n"
    )


def describe(result: subprocess.CompletedProcess[str]) -> str:
    command = " ".join(str(a) for a in result.args)
    return f"`{command}` exited {result.returncode}\n--- stdout ---\n{result.stdout}\n--- stderr ---\n{result.stderr}"


@pytest.fixture(scope="session")
def pulumi_cli() -> str:
    """The `pulumi` on PATH; a skip where there is none, a failure under CI."""
    found = shutil.which("pulumi")
    if found is None:
        message = (
            "the pulumi CLI is not on PATH: run `scripts/test` (it builds one with Go) or put "
            "`scripts/install-pulumi | tail -n 1` on PATH"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must run the end-to-end tests, but {message}")
        pytest.skip(message)
    return found


class ProjectVenv:
    """The Pulumi project's own virtualenv, as a user has one: this package and its dependencies, plus pip.

    It reuses the test interpreter's packages through a .pth file, so creating it costs seconds, and a
    package installed into it shadows the test interpreter's copy (for the reinstall test).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.python = path / "bin" / "python"

    @classmethod
    def create(cls, path: Path) -> ProjectVenv:
        subprocess.run([sys.executable, "-m", "venv", str(path)], check=True, capture_output=True)
        venv = cls(path)
        site = venv.run("-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])").stdout.strip()
        # `import` lines in a .pth run at start-up; addsitedir also runs that directory's own .pth files
        # (the editable install of this package is one).
        parent = sysconfig.get_paths()["purelib"]
        (Path(site) / "_test_interpreter.pth").write_text(f"import site; site.addsitedir({parent!r})\n")
        return venv

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(self.python), *args], check=True, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="session")
def project_venv(tmp_path_factory: pytest.TempPathFactory) -> ProjectVenv:
    return ProjectVenv.create(tmp_path_factory.mktemp("e2e-venv") / "venv")


@dataclass
class Workspace:
    """A Pulumi project directory with its own file backend and PULUMI_HOME, deploying to one emulator."""

    emu: CdfEmulator
    project_dir: Path
    state_dir: Path
    env: dict[str, str]
    leftovers: list[int] = field(default_factory=list)  # processes a test must kill when it ends

    def command(self, args: tuple[str, ...], stack: str | None) -> list[str]:
        command = ["pulumi", *args, "--non-interactive", "--color", "never"]
        if stack is not None:
            command += ["--stack", stack]
        return command

    def pulumi(self, *args: str, stack: str | None, ok: bool = True) -> subprocess.CompletedProcess[str]:
        """Runs `pulumi <args>` in the project directory; with `ok`, fails the test unless it exits 0."""
        result = subprocess.run(
            self.command(args, stack),
            cwd=self.project_dir,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        if ok:
            assert result.returncode == 0, describe(result)
        return result

    def stream(self, *args: str, stack: str) -> tuple[int, list[tuple[float, str]]]:
        """Runs `pulumi <args>` and returns its exit code and each output line with the second it arrived."""
        started = time.monotonic()
        process = subprocess.Popen(
            self.command(args, stack),
            cwd=self.project_dir,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
        )
        assert process.stdout is not None
        lines = [(time.monotonic() - started, line.rstrip("\n")) for line in process.stdout]
        return process.wait(timeout=600), lines

    def init_stack(self, stack: str, **config: str) -> None:
        self.pulumi("stack", "init", stack, "--secrets-provider", "passphrase", stack=None)
        self.pulumi("config", "set", "cdf:project", CDF_PROJECT, stack=stack)
        self.pulumi("config", "set", "cdf:baseUrl", self.emu.base_url, stack=stack)
        # The CLI takes a key holding "token" for a secret unless told otherwise.
        self.pulumi("config", "set", "--plaintext", "cdf:tokenUrl", self.emu.token_url, stack=stack)
        self.pulumi("config", "set", "cdf:clientId", CLIENT_ID, stack=stack)
        self.pulumi("config", "set", "--secret", "cdf:clientSecret", CLIENT_SECRET, stack=stack)
        for key, value in config.items():
            self.pulumi("config", "set", key, value, stack=stack)

    def stack_output(self, name: str, stack: str) -> Any:
        return json.loads(self.pulumi("stack", "output", name, "--json", stack=stack).stdout)

    def executions_in_state(self, stack: str, show_secrets: bool = False) -> list[dict[str, Any]]:
        return self.resources_in_state(stack, "WorkflowExecution", show_secrets)

    def resources_in_state(self, stack: str, kind: str, show_secrets: bool = False) -> list[dict[str, Any]]:
        """The stack's resources of this package's type `kind` (WorkflowExecution, Workflow, ...)."""
        args = ("stack", "export", "--show-secrets") if show_secrets else ("stack", "export")
        exported = json.loads(self.pulumi(*args, stack=stack).stdout)
        resources: list[dict[str, Any]] = exported["deployment"].get("resources") or []
        return [r for r in resources if r.get("type") == f"{RESOURCE_TYPE_PREFIX}{kind}"]

    def executions(self, workflow: str | None = None) -> list[dict[str, Any]]:
        found = self.emu.executions(CDF_PROJECT)
        return [e for e in found if workflow is None or e["workflowExternalId"] == workflow]

    def changing_requests(self) -> list[str]:
        """Every request that could change something in CDF: a POST under /api/ (not the IdP's token)."""
        return [f"POST {r['path']}" for r in self.emu.requests("POST") if CHANGING.search(r["path"])]

    def requests_during(self, action: Callable[[], object]) -> list[dict[str, Any]]:
        before = len(self.emu.requests())
        action()
        return self.emu.requests()[before:]


def wait_until_ended(emu: CdfEmulator, execution_id: str, limit: float = 30.0) -> dict[str, Any]:
    """The emulator's record of the execution once it has left RUNNING."""

    def ended() -> dict[str, Any] | None:
        (execution,) = [e for e in emu.executions(CDF_PROJECT) if e["id"] == execution_id]
        return execution if execution["status"] in TERMINAL else None

    return wait_until(ended, f"execution {execution_id} to end", limit)


def make_workspace(
    emu: CdfEmulator, root: Path, venv: ProjectVenv, name: str = "cdf-e2e", program: str = PROGRAM
) -> Workspace:
    project_dir, state_dir, home_dir = root / "project", root / "state", root / "home"
    for directory in (project_dir, state_dir, home_dir):
        directory.mkdir()
    (project_dir / "Pulumi.yaml").write_text(_pulumi_yaml(name, venv.path))
    (project_dir / "__main__.py").write_text(program)
    env = {**os.environ, **CLEAN_CDF_ENV}
    env.pop("PULUMI_CONFIG_PASSPHRASE_FILE", None)  # the passphrase below must be the one used
    # The program must run in the project's virtualenv, found through Pulumi.yaml, not through PATH.
    env["PATH"] = os.pathsep.join(
        p for p in env.get("PATH", "").split(os.pathsep) if p and Path(p).resolve() != Path(sys.prefix, "bin").resolve()
    )
    env.pop("VIRTUAL_ENV", None)
    env.update(
        {
            "PULUMI_BACKEND_URL": state_dir.as_uri(),
            "PULUMI_CONFIG_PASSPHRASE": "e2e-passphrase",
            "PULUMI_SKIP_UPDATE_CHECK": "true",
            "PULUMI_HOME": str(home_dir),
            "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
        }
    )
    return Workspace(emu, project_dir, state_dir, env)


@pytest.fixture(scope="module")
def emu() -> Iterator[CdfEmulator]:
    clients = {CLIENT_ID: CLIENT_SECRET, RUN_CLIENT_ID: RUN_CLIENT_SECRET}
    with CdfEmulator(clients=clients, task_duration=0.05) as emulator:
        emulator.upsert_workflow_version(CDF_PROJECT, "e2e-wf", "1")
        yield emulator


@pytest.fixture(scope="module")
def workspace(
    pulumi_cli: str, emu: CdfEmulator, project_venv: ProjectVenv, tmp_path_factory: pytest.TempPathFactory
) -> Workspace:
    return make_workspace(emu, tmp_path_factory.mktemp("pulumi-e2e"), project_venv)
