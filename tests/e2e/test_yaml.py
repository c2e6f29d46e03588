"""A Pulumi YAML program through the real CLI, with the package's native provider plugin
(`pulumi-resource-cdf-workflows`) and the YAML language host that `scripts/install-pulumi` builds next to the CLI.

The program deploys a workflow, a version and a scheduled trigger, and runs the workflow once. The plugin is
installed as a user installs it, with pip into a virtualenv of its own, and found through Pulumi.yaml's
`plugins:`; the host is found next to `pulumi`. Where either is missing the tests skip with the reason, except
under CI=true, where they fail: CI must run them.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, NoReturn

import pytest

from pulumi_cdf_workflows.emulator import CdfEmulator

from .conftest import (
    CDF_PROJECT,
    CHANGING,
    CLIENT_ID,
    CLIENT_SECRET,
    REPO_ROOT,
    ProjectVenv,
    Workspace,
    describe,
    make_workspace,
)

pytestmark = pytest.mark.e2e

PLUGIN = "pulumi-resource-cdf-workflows"
HOST = "pulumi-language-yaml"
STACK = "dev"
WORKFLOW = "yaml-wf"
TRIGGER = "yaml-nightly"


def readme_program() -> str:
    """The README's YAML program from `resources:` on: the test runs what the README shows."""
    text = (REPO_ROOT / "README.md").read_text()
    block = text[text.index("```yaml\nname: cdf-yaml\n") :]
    block = block[: block.index("```\n", 8)]
    return block[block.index("resources:\n") :]


PROGRAM = readme_program()


def missing(message: str) -> NoReturn:
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI must run the Pulumi YAML tests, but {message}")
    pytest.skip(message)


@pytest.fixture(scope="module")
def yaml_host(pulumi_cli: str) -> str:
    """The YAML language host, where the CLI looks for it: next to `pulumi`, then on PATH."""
    beside = Path(pulumi_cli).resolve().parent / HOST
    found = str(beside) if os.access(beside, os.X_OK) else shutil.which(HOST)
    if found is None:
        missing(f"there is no {HOST} next to {pulumi_cli} or on PATH: run scripts/install-pulumi (it builds one)")
    return found


@pytest.fixture(scope="module")
def plugin_venv(tmp_path_factory: pytest.TempPathFactory) -> ProjectVenv:
    """A virtualenv with this package installed from a wheel, as a user has it: pip makes the plugin executable."""
    if PLUGIN not in (REPO_ROOT / "pyproject.toml").read_text():
        missing(f"pyproject.toml declares no {PLUGIN} console script (the native provider plugin)")
    root = tmp_path_factory.mktemp("yaml-plugin")
    # Built from a copy: an in-tree build would leave build/ and *.egg-info in the checkout.
    copy = root / "src"
    shutil.copytree(
        REPO_ROOT / "pulumi_cdf_workflows",
        copy / "pulumi_cdf_workflows",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    for name in ("README.md", "pyproject.toml"):
        shutil.copy(REPO_ROOT / name, copy / name)
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(root / "dist"), str(copy)],
        check=True,
        capture_output=True,
    )
    (wheel,) = (root / "dist").glob("*.whl")
    venv = ProjectVenv.create(root / "venv")
    # Its dependencies come from the test interpreter, through the venv's .pth file.
    venv.run("-m", "pip", "install", "--quiet", "--no-deps", str(wheel))
    # Declared but not installed is the package's bug, not a missing tool: it fails everywhere.
    assert os.access(venv.path / "bin" / PLUGIN, os.X_OK), f"installing the package made no bin/{PLUGIN}"
    return venv


def pulumi_yaml(plugin_dir: Path) -> str:
    # json.dumps gives a double-quoted string, which is valid YAML whatever the path holds.
    return (
        "name: cdf-yaml-e2e\n"
        "description: a Pulumi YAML program with the cdf-workflows provider plugin\n"
        "runtime: yaml\n"
        "plugins:\n"
        "  providers:\n"
        "    - name: cdf-workflows\n"
        f"      path: {json.dumps(str(plugin_dir))}\n" + PROGRAM
    )


@pytest.fixture(scope="module")
def yaml_workspace(
    yaml_host: str,
    plugin_venv: ProjectVenv,
    emu: CdfEmulator,
    project_venv: ProjectVenv,
    tmp_path_factory: pytest.TempPathFactory,
) -> Workspace:
    made = make_workspace(emu, tmp_path_factory.mktemp("pulumi-yaml"), project_venv, name="cdf-yaml-e2e")
    (made.project_dir / "__main__.py").unlink()
    (made.project_dir / "Pulumi.yaml").write_text(pulumi_yaml(plugin_venv.path / "bin"))
    made.pulumi("stack", "init", STACK, "--secrets-provider", "passphrase", stack=None)
    # A provider plugin's settings live under its package's name; no `cdf:*` keys, so these alone must work.
    settings = {"project": CDF_PROJECT, "baseUrl": emu.base_url, "tokenUrl": emu.token_url, "clientId": CLIENT_ID}
    for key, value in settings.items():
        made.pulumi("config", "set", "--plaintext", f"cdf-workflows:{key}", value, stack=STACK)
    made.pulumi("config", "set", "--secret", "cdf-workflows:clientSecret", CLIENT_SECRET, stack=STACK)
    return made


def in_cdf(emu: CdfEmulator) -> dict[str, list[Any]]:
    """What the emulator holds in the test's project: workflows, versions and triggers."""
    backend = emu.backend
    workflows, _ = backend.list_workflows(CDF_PROJECT, 1000, None)
    versions, _ = backend.list_versions(CDF_PROJECT, None, 1000, None)
    triggers, _ = backend.list_triggers(CDF_PROJECT, 1000, None)
    return {
        "workflows": sorted(w.external_id for w in workflows),
        "versions": sorted((v.workflow_external_id, v.version) for v in versions),
        "triggers": sorted(t.external_id for t in triggers),
    }


def writes(requests: list[dict[str, Any]]) -> list[str]:
    """The requests that could change something in CDF: all but GETs and the look-ups CDF serves as POSTs."""
    return [
        f"{r['method']} {r['path']}"
        for r in requests
        if r["method"] != "GET" and not (r["method"] == "POST" and not CHANGING.search(r["path"]))
    ]


def test_a_yaml_program_deploys_runs_once_and_destroys(yaml_workspace: Workspace, emu: CdfEmulator) -> None:
    ws = yaml_workspace
    before = in_cdf(emu)
    runs_before = len(ws.executions(WORKFLOW))

    previewed: list[subprocess.CompletedProcess[str]] = []
    during = ws.requests_during(lambda: previewed.append(ws.pulumi("preview", stack=STACK)))
    (preview,) = previewed
    assert writes(during) == [], describe(preview)
    for kind in ("Workflow", "WorkflowVersion", "WorkflowTrigger", "WorkflowExecution"):
        assert f"cdf-workflows:index:{kind}" in preview.stdout, describe(preview)
    assert in_cdf(emu) == before
    # No warning either, such as the CLI's "using ... from $PATH" for a plugin or host it finds only there.
    assert "warning" not in (preview.stdout + preview.stderr).lower(), describe(preview)

    up = ws.pulumi("up", "--yes", stack=STACK)
    (run,) = ws.executions(WORKFLOW)[runs_before:]
    assert ws.stack_output("executionId", STACK) == run["id"], describe(up)
    assert ws.stack_output("status", STACK) == "COMPLETED"
    assert ws.stack_output("schedule", STACK) == "At 02:00 (UTC)"
    assert run["input"]["day"] == "mon"
    deployed = in_cdf(emu)
    assert WORKFLOW in deployed["workflows"], describe(up)
    assert (WORKFLOW, "1") in deployed["versions"]
    assert TRIGGER in deployed["triggers"]

    again: list[subprocess.CompletedProcess[str]] = []
    during = ws.requests_during(lambda: again.append(ws.pulumi("up", "--yes", "--expect-no-changes", stack=STACK)))
    assert writes(during) == [], describe(again[0])
    assert len(ws.executions(WORKFLOW)) == runs_before + 1  # it did not run again

    destroy = ws.pulumi("destroy", "--yes", stack=STACK)
    after = in_cdf(emu)
    assert WORKFLOW not in after["workflows"], describe(destroy)
    assert all(w != WORKFLOW for w, _ in after["versions"])
    assert TRIGGER not in after["triggers"]
    assert after == before
    assert len(ws.executions(WORKFLOW)) == runs_before + 1  # destroying forgets the run; CDF keeps its record
