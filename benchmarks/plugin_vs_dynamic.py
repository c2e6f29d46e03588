"""Executions that wait for completion, deployed through the provider plugin and through the dynamic provider.

    python benchmarks/plugin_vs_dynamic.py [--executions 16] [--task-seconds 2] [--rounds 3] [--parallel 8 16]

Needs the `pulumi` CLI on PATH (`scripts/install-pulumi | tail -n 1`). One emulator on loopback, whose workflow's
single task takes --task-seconds, serves two stacks of as many WorkflowExecutions with waitForCompletion: one
a Python program of `pulumi.CustomResource("cdf-workflows:index:WorkflowExecution", ...)` served by the plugin
`pulumi-resource-cdf-workflows` of this interpreter's bin directory (Pulumi.yaml `plugins:`), the other of
`pulumi_cdf_workflows.WorkflowExecution`, served by the dynamic-provider plugin. Each round runs `pulumi up` of
both stacks, one after the other, at each --parallel, and destroys them; the table shows each `up`'s median,
the most executions the emulator saw running at once, and the ratio. Nothing asserts on timing.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

from startup import CLIENT_ID, CLIENT_SECRET, PROJECT, _project, _timed

from pulumi_cdf_workflows.emulator import CdfEmulator

PLUGIN_DIR = Path(sys.executable).parent
PLUGIN_PROGRAM = """\
import pulumi

for i in range({n}):
    pulumi.CustomResource(
        "cdf-workflows:index:WorkflowExecution",
        f"run-{{i}}",
        {{"workflowExternalId": "wf", "version": "1", "input": {{"i": i}}, "waitForCompletion": True}},
    )
"""
DYNAMIC_PROGRAM = """\
from pulumi_cdf_workflows import WorkflowExecution

for i in range({n}):
    WorkflowExecution(f"run-{{i}}", workflow_external_id="wf", version="1", input={{"i": i}}, wait_for_completion=True)
"""
KINDS = ("plugin", "dynamic")


def most_at_once(executions: list[dict[str, Any]]) -> int:
    """The most executions that were running at the same moment (from their start and end times)."""
    events = sorted([(e["startTime"], 1) for e in executions] + [(e["endTime"], -1) for e in executions])
    running = peak = 0
    for _, step in events:  # at equal times an end (-1) sorts before a start (+1)
        running += step
        peak = max(peak, running)
    return peak


Row = tuple[int, str, float, int]


def measure(executions: int, task_seconds: float, rounds: int, parallels: list[int]) -> list[Row]:
    """(parallel, kind, median seconds of `pulumi up`, most executions running at once) per row."""
    with (
        tempfile.TemporaryDirectory() as tmp,
        CdfEmulator(clients={CLIENT_ID: CLIENT_SECRET}, task_duration=task_seconds) as emu,
    ):
        emu.upsert_workflow_version(PROJECT, "wf", "1")
        root = Path(tmp)
        stacks = {
            "plugin": _project(
                root, "plugin", PLUGIN_PROGRAM.format(n=executions), emu, namespace="cdf-workflows", plugins=PLUGIN_DIR
            ),
            "dynamic": _project(root, "dynamic", DYNAMIC_PROGRAM.format(n=executions), emu),
        }
        times: dict[tuple[int, str], list[float]] = {}
        peaks: dict[tuple[int, str], int] = {}
        for _ in range(rounds):
            for parallel in parallels:
                for kind in KINDS:
                    directory, env = stacks[kind]
                    before = len(emu.executions(PROJECT))
                    seconds = _timed(directory, env, "up", "--yes", "--skip-preview", "--parallel", str(parallel))
                    ran = emu.executions(PROJECT)[before:]
                    if len(ran) != executions or any(e["status"] != "COMPLETED" for e in ran):
                        sys.exit(f"{kind}: expected {executions} completed executions, the emulator saw {len(ran)}")
                    times.setdefault((parallel, kind), []).append(seconds)
                    peaks[(parallel, kind)] = max(peaks.get((parallel, kind), 0), most_at_once(ran))
                    _timed(directory, env, "destroy", "--yes", "--skip-preview")
        return [
            (parallel, kind, statistics.median(times[(parallel, kind)]), peaks[(parallel, kind)])
            for parallel in parallels
            for kind in KINDS
        ]


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--executions", type=int, default=16)
    parser.add_argument("--task-seconds", type=float, default=2.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--parallel", type=int, nargs="+", default=[8, 16], help="8 is pulumi's default")
    args = parser.parse_args()
    if shutil.which("pulumi") is None:
        sys.exit('needs the pulumi CLI on PATH: export PATH="$(scripts/install-pulumi | tail -n 1):$PATH"')
    if not (PLUGIN_DIR / "pulumi-resource-cdf-workflows").exists():
        sys.exit(f"no pulumi-resource-cdf-workflows in {PLUGIN_DIR}: pip install -e . in this interpreter")
    rows = measure(args.executions, args.task_seconds, args.rounds, args.parallel)
    print(
        f"{args.executions} executions that wait for completion, {args.task_seconds:g} s each; "
        f"`pulumi up`, median of {args.rounds} rounds, {os.cpu_count()} CPUs\n"
    )
    print(f"{'--parallel':>10} {'served by':>10} {'pulumi up':>10} {'most at once':>13} {'vs plugin':>10}")
    plugin_seconds = {parallel: seconds for parallel, kind, seconds, _ in rows if kind == "plugin"}
    for parallel, kind, seconds, peak in rows:
        ratio = seconds / plugin_seconds[parallel]
        print(f"{parallel:>10} {kind:>10} {seconds:9.2f}s {peak:>13} {ratio:9.2f}x")


if __name__ == "__main__":
    main()
