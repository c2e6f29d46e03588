"""One stack through its life with the real CLI: preview, up, up again, change, refresh, upgrade, destroy.

The tests share the stack "dev" and run in file order; each names what the previous ones left behind.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import (
    CDF_PROJECT,
    REPO_ROOT,
    ProjectVenv,
    Workspace,
    describe,
    wait_until_ended,
)

pytestmark = pytest.mark.e2e
STACK = "dev"


def resource_line(output: str, name: str = "run") -> str:
    """The plan's line for the WorkflowExecution `name` (the last one, with the final verdict)."""
    lines = [line for line in output.splitlines() if re.search(rf"cdf:WorkflowExecution\s+{name}\b", line)]
    assert lines, output
    return lines[-1]


def test_preview_of_a_new_stack_plans_a_create_and_only_reads(workspace: Workspace) -> None:
    workspace.init_stack(STACK)

    requests = workspace.requests_during(lambda: workspace.pulumi("preview", stack=STACK))

    api = [f"{r['method']} {r['path']}" for r in requests if r["path"].startswith("/api/")]
    # The version's existence, and who deploys (for the permission check): reads only.
    assert api == [f"GET /api/v1/projects/{CDF_PROJECT}/workflows/e2e-wf/versions/1", "GET /api/v1/token/inspect"]
    assert workspace.executions() == []
    preview = workspace.pulumi("preview", stack=STACK)
    assert re.search(r"\bcreate\b", resource_line(preview.stdout)), describe(preview)
    assert "+ 2 to create" in preview.stdout, describe(preview)


def test_up_runs_the_workflow_once(workspace: Workspace) -> None:
    workspace.pulumi("up", "--yes", stack=STACK)

    (execution,) = workspace.executions()
    assert workspace.changing_requests() == [
        f"POST /api/v1/projects/{CDF_PROJECT}/sessions",
        f"POST /api/v1/projects/{CDF_PROJECT}/workflows/e2e-wf/versions/1/run",
    ]
    assert execution["input"] == {"day": "mon", "n": 1, "i": 0}
    assert workspace.stack_output("executionId", STACK) == execution["id"]


def test_a_second_up_with_nothing_changed_changes_nothing(workspace: Workspace) -> None:
    changing_before = workspace.changing_requests()

    result = workspace.pulumi("up", "--yes", "--expect-no-changes", stack=STACK)

    assert workspace.changing_requests() == changing_before
    assert len(workspace.executions()) == 1
    assert "2 unchanged" in result.stdout, describe(result)


def test_a_changed_input_is_a_replacement_that_runs_once_more(workspace: Workspace) -> None:
    workspace.pulumi("config", "set", "day", "tue", stack=STACK)

    preview = workspace.pulumi("preview", "--diff", stack=STACK)
    assert len(workspace.executions()) == 1  # a preview runs nothing
    assert "+-pulumi-python:dynamic/cdf:WorkflowExecution: (replace)" in preview.stdout, describe(preview)
    assert re.search(r"~ input\s*: \{", preview.stdout), describe(preview)
    assert re.search(r'~ day: "mon" => "tue"', preview.stdout), describe(preview)
    short = workspace.pulumi("preview", stack=STACK)
    assert re.search(r"\+- \S+cdf:WorkflowExecution run replace \[diff: ~input\]", short.stdout), describe(short)

    workspace.pulumi("up", "--yes", stack=STACK)
    executions = workspace.executions()
    assert len(executions) == 2, executions
    assert executions[-1]["input"] == {"day": "tue", "n": 1, "i": 0}
    assert workspace.stack_output("executionId", STACK) == executions[-1]["id"]


@pytest.mark.parametrize(
    ("key", "value", "prop"),
    [("waitForCompletion", "true", "wait_for_completion"), ("timeoutSeconds", "120", "timeout_seconds")],
)
def test_a_changed_setting_is_an_update_in_place_that_runs_nothing(
    workspace: Workspace, key: str, value: str, prop: str
) -> None:
    runs_before = len(workspace.executions())
    workspace.pulumi("config", "set", key, value, stack=STACK)

    preview = workspace.pulumi("preview", stack=STACK)
    assert re.search(rf"\bupdate\s+\[diff: [+~]{prop}\]", resource_line(preview.stdout)), describe(preview)
    assert "replace" not in preview.stdout, describe(preview)

    up = workspace.pulumi("up", "--yes", stack=STACK)
    assert "1 updated" in up.stdout, describe(up)
    assert len(workspace.executions()) == runs_before
    (resource,) = workspace.executions_in_state(STACK)
    assert str(resource["outputs"][prop]).lower() in (value, f"{value}.0")


def test_a_reinstalled_package_with_another_version_runs_nothing(
    workspace: Workspace, project_venv: ProjectVenv, tmp_path: Path
) -> None:
    # A copy of the package with a new version, whose provider also pickles to different bytes.
    copy = tmp_path / "pkg"
    shutil.copytree(REPO_ROOT / "pulumi_cdf_workflows", copy / "pulumi_cdf_workflows")
    shutil.copy(REPO_ROOT / "README.md", copy / "README.md")
    shutil.copy(REPO_ROOT / "pyproject.toml", copy / "pyproject.toml")
    (copy / "pulumi_cdf_workflows" / "_version.py").write_text('__version__ = "99.0.0"\n')
    provider_py = copy / "pulumi_cdf_workflows" / "resources" / "execution" / "provider.py"
    assert provider_py.exists()
    with provider_py.open("a") as module:  # the instance now carries state, so its pickle differs
        module.write(
            "\n\n_first_init = WorkflowExecutionProvider.__init__\n\n\n"
            "def _init(self: WorkflowExecutionProvider, *args: Any) -> None:\n"
            "    _first_init(self, *args)\n"
            "    self.rebuilt = 'by the e2e test'\n"
        )
        module.write("\n\nWorkflowExecutionProvider.__init__ = _init  # type: ignore[method-assign]\n")
    (resource_before,) = workspace.executions_in_state(STACK, show_secrets=True)
    changing_before = workspace.changing_requests()
    # Built by the test interpreter: the project venv sees its old setuptools through the .pth file.
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(tmp_path / "dist"), str(copy)],
        check=True,
        capture_output=True,
    )
    (wheel,) = (tmp_path / "dist").glob("*.whl")
    project_venv.run("-m", "pip", "install", "--quiet", "--no-deps", str(wheel))
    try:
        assert "99.0.0" in project_venv.run("-m", "pip", "show", "pulumi-cdf-workflows").stdout

        result = workspace.pulumi("up", "--yes", "--expect-no-changes", stack=STACK)
        assert workspace.changing_requests() == changing_before, describe(result)
        # The rebuilt provider is what the program now registers; the execution stays as it was.
        preview = workspace.pulumi("preview", "--diff", "--expect-no-changes", stack=STACK)
        assert "__provider" not in preview.stdout, describe(preview)
        (resource_after,) = workspace.executions_in_state(STACK, show_secrets=True)
        assert resource_after["id"] == resource_before["id"]
        assert resource_after["inputs"]["__provider"] != resource_before["inputs"]["__provider"]
    finally:
        project_venv.run("-m", "pip", "uninstall", "--quiet", "--yes", "pulumi-cdf-workflows")


def test_refresh_records_the_final_status_and_leaves_no_diff(workspace: Workspace) -> None:
    workspace.pulumi("config", "set", "waitForCompletion", "false", stack=STACK)
    workspace.pulumi("config", "set", "day", "wed", stack=STACK)
    workspace.pulumi("up", "--yes", stack=STACK)
    (stored,) = workspace.executions_in_state(STACK)
    assert stored["outputs"]["status"] == "RUNNING"  # up did not wait
    ended = wait_until_ended(workspace.emu, stored["id"])
    assert ended["status"] == "COMPLETED"

    workspace.pulumi("refresh", "--yes", stack=STACK)

    (resource,) = workspace.executions_in_state(STACK)
    outputs = resource["outputs"]
    assert outputs["status"] == "COMPLETED"
    assert outputs["end_time"] == ended["endTime"]
    assert [t["external_id"] for t in outputs["executed_tasks"]] == ["task-1"]
    assert outputs["executed_tasks"][0]["status"] == "COMPLETED"
    workspace.pulumi("preview", "--expect-no-changes", stack=STACK)


def test_destroy_without_cancel_on_delete_sends_nothing(workspace: Workspace) -> None:
    changing_before = workspace.changing_requests()
    executions_before = len(workspace.executions())

    workspace.pulumi("destroy", "--yes", stack=STACK)

    assert workspace.executions_in_state(STACK) == []
    assert workspace.changing_requests() == changing_before
    assert len(workspace.executions()) == executions_before  # CDF keeps its history
