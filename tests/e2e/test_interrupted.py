"""An interrupted `pulumi up` never starts a second run, through the real CLI: the CLI killed (SIGKILL) during
the run request or during the wait, Ctrl-C once or twice during the wait; then `pulumi cancel` where the
backend kept its lock, and `pulumi up`. The emulator counts one execution per resource and inputs, and the
stack ends up recording it. `destroy` then `up` runs again, and so does a changed input."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from harness import wait_until

from pulumi_cdf_workflows.emulator import CdfEmulator

from .conftest import CDF_PROJECT, CLIENT_ID, CLIENT_SECRET, ProjectVenv, Workspace, describe, make_workspace

pytestmark = pytest.mark.e2e
WORKFLOW = "slow-wf"
TASK_SECONDS = 12.0

PROGRAM = f"""\
import pulumi

from pulumi_cdf_workflows import WorkflowExecution

config = pulumi.Config()
run = WorkflowExecution(
    "run",
    workflow_external_id="{WORKFLOW}",
    version="1",
    input={{"day": config.get("day") or "mon"}},
    wait_for_completion=True,
    timeout_seconds=600,
)
pulumi.export("executionId", run.execution_id)
pulumi.export("status", run.status)
"""


@pytest.fixture
def emu() -> Iterator[CdfEmulator]:
    with CdfEmulator(clients={CLIENT_ID: CLIENT_SECRET}, task_duration=0.05) as emulator:
        emulator.upsert_workflow_version(CDF_PROJECT, WORKFLOW, "1")
        emulator.set_outcome(WORKFLOW, "1", "COMPLETED", task_duration=TASK_SECONDS)
        yield emulator


@pytest.fixture
def workspace(emu: CdfEmulator, project_venv: ProjectVenv, tmp_path: Path, pulumi_cli: str) -> Iterator[Workspace]:
    made = make_workspace(emu, tmp_path, project_venv, name="interrupted", program=PROGRAM)
    made.init_stack("dev")
    yield made
    for pid in made.leftovers:  # plugins the killed CLI left behind (the engine puts them in groups of their own)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


class Up:
    """A `pulumi up` in a session of its own, signalled as a terminal (Ctrl-C) or a CI runner (SIGKILL) would."""

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace
        self.output = workspace.project_dir / f"up-{time.monotonic_ns()}.log"
        with self.output.open("w") as out:
            self.process = subprocess.Popen(
                workspace.command(("up", "--yes"), "dev"),
                cwd=workspace.project_dir,
                env=workspace.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def signal(self, sig: signal.Signals) -> None:
        if sig is signal.SIGKILL:
            self.workspace.leftovers.extend(_descendants(self.process.pid))
        os.killpg(self.process.pid, sig)

    def wait(self, timeout: float = 120) -> int:
        return self.process.wait(timeout=timeout)

    def text(self) -> str:
        return self.output.read_text()


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def runs(emu: CdfEmulator) -> list[dict[str, object]]:
    return [e for e in emu.executions(CDF_PROJECT) if e["workflowExternalId"] == WORKFLOW]


def recorded(workspace: Workspace) -> list[str]:
    return [r["id"] for r in workspace.executions_in_state("dev")]


def up_after_the_interruption(workspace: Workspace) -> subprocess.CompletedProcess[str]:
    cancel = workspace.pulumi("cancel", "--yes", stack="dev", ok=False)  # where the backend kept its lock
    assert cancel.returncode == 0 or "not currently running" in cancel.stdout + cancel.stderr, describe(cancel)
    return workspace.pulumi("up", "--yes", stack="dev")


def test_sigkill_during_the_run_request_then_up_runs_once_and_records_it(
    workspace: Workspace, emu: CdfEmulator
) -> None:
    emu.inject_fault("POST", r"/run$", when="after", delay=8.0)  # CDF has started it; its reply is slow
    up = Up(workspace)
    wait_until(lambda: len(runs(emu)) == 1, "the run to reach CDF", 60)
    up.signal(signal.SIGKILL)
    up.wait()

    after = up_after_the_interruption(workspace)

    (execution,) = runs(emu)
    assert recorded(workspace) == [execution["id"]], describe(after)
    assert f"adopted execution {execution['id']} started by an interrupted deploy" in after.stdout, describe(after)


def test_sigkill_during_the_wait_then_up_runs_once_and_records_it(workspace: Workspace, emu: CdfEmulator) -> None:
    up = Up(workspace)
    wait_until(lambda: "is RUNNING after" in up.text(), "the wait to begin", 60)
    up.signal(signal.SIGKILL)
    up.wait()

    after = up_after_the_interruption(workspace)

    (execution,) = runs(emu)
    assert recorded(workspace) == [execution["id"]], describe(after)
    assert workspace.stack_output("status", "dev") == "COMPLETED"  # the next up waited for it


def test_one_ctrl_c_during_the_wait_ends_it_at_once_and_the_stack_records_the_running_execution(
    workspace: Workspace, emu: CdfEmulator
) -> None:
    up = Up(workspace)
    wait_until(lambda: "is RUNNING after" in up.text(), "the wait to begin", 60)
    interrupted = time.monotonic()
    up.signal(signal.SIGINT)
    code = up.wait()

    assert time.monotonic() - interrupted < TASK_SECONDS / 2, up.text()  # not when the run or timeout ends
    assert code != 0, up.text()
    assert "was not cancelled; the stack records it" in up.text(), up.text()
    (execution,) = runs(emu)
    assert execution["status"] == "RUNNING"
    assert recorded(workspace) == [execution["id"]]
    after = workspace.pulumi("up", "--yes", "--expect-no-changes", stack="dev")
    assert len(runs(emu)) == 1, describe(after)


def test_two_ctrl_c_during_the_wait_then_up_runs_once_and_records_it(workspace: Workspace, emu: CdfEmulator) -> None:
    up = Up(workspace)
    wait_until(lambda: "is RUNNING after" in up.text(), "the wait to begin", 60)
    up.signal(signal.SIGINT)
    wait_until(lambda: "^C received; cancelling" in up.text(), "the CLI to take the first Ctrl-C", 10)
    up.signal(signal.SIGINT)
    up.wait()

    after = up_after_the_interruption(workspace)

    (execution,) = runs(emu)
    assert recorded(workspace) == [execution["id"]], describe(after)


def test_destroy_then_up_runs_again(workspace: Workspace, emu: CdfEmulator) -> None:
    workspace.pulumi("up", "--yes", stack="dev")
    workspace.pulumi("destroy", "--yes", stack="dev")
    workspace.pulumi("up", "--yes", stack="dev")
    _first, second = runs(emu)
    assert recorded(workspace) == [second["id"]]


def test_a_changed_input_after_an_interrupted_up_runs_once_for_the_new_input(
    workspace: Workspace, emu: CdfEmulator
) -> None:
    up = Up(workspace)
    wait_until(lambda: "is RUNNING after" in up.text(), "the wait to begin", 60)
    up.signal(signal.SIGKILL)
    up.wait()
    workspace.pulumi("config", "set", "day", "tue", stack="dev")

    after = up_after_the_interruption(workspace)

    interrupted, new = runs(emu)
    assert (interrupted["input"], new["input"]) == ({"day": "mon"}, {"day": "tue"})
    assert recorded(workspace) == [new["id"]], describe(after)
