"""What this package costs on top of Pulumi itself: a stack of executions next to a stack of as many do-nothing
dynamic resources, through the real CLI, and the plugin's start to its first check next to an empty provider's.

    python benchmarks/startup.py [--resources 16] [--rounds 3]

Needs the `pulumi` CLI on PATH (`scripts/install-pulumi | tail -n 1`). One emulator on loopback serves the
executions (tasks take no time). A third stack of do-nothing resources loads only this package's dependencies
(pydantic, and requests at check, as ours does when it reads CDF; see `floors.py`): what is left between it and
ours is this package's own cost. All stacks use a file backend and this interpreter's packages. Each round runs
`preview`, `up` and `destroy` of every stack one after the other, so that all see the same machine; the table
shows each phase's median and its ratio to the do-nothing stack. Then a fresh `python -m pulumi.dynamic` plugin
is started and timed to the end of its first Check, for an empty provider and for a WorkflowExecution (with
`cdf:validateOnPreview` false, so that no request to CDF is timed, and true, which reads the version once), and
for a do-nothing provider whose check validates one pydantic model: what pydantic alone costs. Nothing asserts on
timing.

The package's bytecode is compiled first, as `pip install` does: where `PYTHONDONTWRITEBYTECODE` is set (as on
this project's machines), a source checkout would otherwise be compiled again by every process.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from floors import PydanticFloor
from harness import PluginProcess, capture_registrations
from harness.toy.provider import Toy

import pulumi_cdf_workflows
from pulumi_cdf_workflows import WorkflowExecution
from pulumi_cdf_workflows.emulator import CdfEmulator

BENCHMARKS = Path(__file__).resolve().parent
PROJECT, CLIENT_ID, CLIENT_SECRET = "bench", "bench", "bench-secret"
OURS = """\
import pulumi
from pulumi_cdf_workflows import WorkflowExecution
for i in range({n}):
    WorkflowExecution(f"run-{{i}}", workflow_external_id="wf", version="1", input={{"i": i}})
"""
FLOOR = """\
import pulumi
from pulumi.dynamic import CreateResult, Resource, ResourceProvider


class Nothing(ResourceProvider):
    def create(self, props):
        return CreateResult(props["name"], props)


class DoNothing(Resource):
    def __init__(self, name):
        super().__init__(Nothing(), name, {{"name": name}})


for i in range({n}):
    DoNothing(f"run-{{i}}")
"""
DEPENDENCIES = """\
from floors import DependenciesFloor
for i in range({n}):
    DependenciesFloor(f"run-{{i}}")
"""


def _project(
    root: Path, name: str, program: str, emu: CdfEmulator, *, namespace: str = "cdf", plugins: Path | None = None
) -> tuple[Path, dict[str, str]]:
    """A project of this interpreter's packages with a stack `dev` of its own file backend, configured for `emu`
    under `namespace` (`cdf`: the dynamic providers' keys; `cdf-workflows`: the plugin's), with the plugin
    `pulumi-resource-cdf-workflows` taken from directory `plugins` where given."""
    directory, state, home = root / name, root / f"{name}-state", root / f"{name}-home"
    for d in (directory, state, home):
        d.mkdir()
    pulumi_yaml = (
        f"name: {name}\nruntime:\n  name: python\n  options:\n    toolchain: pip\n"
        f"    virtualenv: {json.dumps(sys.prefix)}\n"
    )
    if plugins is not None:
        pulumi_yaml += f"plugins:\n  providers:\n    - name: cdf-workflows\n      path: {json.dumps(str(plugins))}\n"
    (directory / "Pulumi.yaml").write_text(pulumi_yaml)
    (directory / "__main__.py").write_text(program)
    env = {
        **os.environ,
        "PULUMI_BACKEND_URL": state.as_uri(),
        "PULUMI_HOME": str(home),
        "PULUMI_CONFIG_PASSPHRASE": "bench",
        "PULUMI_SKIP_UPDATE_CHECK": "true",
        "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
        "PYTHONPATH": str(BENCHMARKS),  # `floors` for the program and its plugin
    }

    def run(*args: str) -> None:
        subprocess.run(["pulumi", *args], cwd=directory, env=env, check=True, capture_output=True)

    run("stack", "init", "dev", "--secrets-provider", "passphrase")
    for key, value in (
        ("project", PROJECT),
        ("baseUrl", emu.base_url),
        ("clientId", CLIENT_ID),
        ("clientSecret", CLIENT_SECRET),
    ):
        run("config", "set", f"{namespace}:{key}", value)
    run("config", "set", "--plaintext", f"{namespace}:tokenUrl", emu.token_url)
    return directory, env


def _timed(directory: Path, env: dict[str, str], *args: str) -> float:
    started = time.perf_counter()
    command = ["pulumi", *args, "--non-interactive", "--stack", "dev"]
    subprocess.run(command, cwd=directory, env=env, check=True, capture_output=True)
    return time.perf_counter() - started


def cli_phases(resources: int, rounds: int) -> list[tuple[str, float, float, float]]:
    """Median seconds of each phase: our stack, the do-nothing stack, and the stack that only loads our
    dependencies."""
    with tempfile.TemporaryDirectory() as tmp, CdfEmulator(clients={CLIENT_ID: CLIENT_SECRET}) as emu:
        emu.upsert_workflow_version(PROJECT, "wf", "1")
        root = Path(tmp)
        stacks = {
            "ours": _project(root, "ours", OURS.format(n=resources), emu),
            "floor": _project(root, "floor", FLOOR.format(n=resources), emu),
            "dependencies": _project(root, "dependencies", DEPENDENCIES.format(n=resources), emu),
        }
        times: dict[tuple[str, str], list[float]] = {}
        for _ in range(rounds):
            for phase, args in (("preview", ("preview",)), ("up", ("up", "--yes")), ("destroy", ("destroy", "--yes"))):
                for name, (directory, env) in stacks.items():
                    times.setdefault((phase, name), []).append(_timed(directory, env, *args))

        def median(phase: str, name: str) -> float:
            return statistics.median(times[(phase, name)])

        return [
            (phase, median(phase, "ours"), median(phase, "floor"), median(phase, "dependencies"))
            for phase in ("preview", "up", "destroy")
        ]


def first_check(validate: bool) -> tuple[float, float, float]:
    """Seconds from spawning the plugin to the end of its first Check: an empty provider's, ours, and the
    pydantic floor's."""
    with CdfEmulator(clients={CLIENT_ID: CLIENT_SECRET}) as emu:
        emu.upsert_workflow_version(PROJECT, "wf", "1")
        config = {
            "cdf:project": PROJECT,
            "cdf:baseUrl": emu.base_url,
            "cdf:tokenUrl": emu.token_url,
            "cdf:clientId": CLIENT_ID,
            "cdf:clientSecret": CLIENT_SECRET,
            "cdf:validateOnPreview": "true" if validate else "false",
        }

        def empty() -> None:
            Toy("empty", {"name": "empty"})

        def ours() -> None:
            WorkflowExecution("run", workflow_external_id="wf", version="1")

        def pydantic_floor() -> None:
            PydanticFloor("floor")

        results = []
        for program in (empty, ours, pydantic_floor):
            (registration,) = capture_registrations(program, stack="dev")
            started = time.perf_counter()
            with PluginProcess({"PYTHONPATH": str(BENCHMARKS)}) as plugin:
                plugin.configure(config)
                plugin.check(registration.urn, {}, registration.engine_inputs)
                results.append(time.perf_counter() - started)
        return results[0], results[1], results[2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resources", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if shutil.which("pulumi") is None:
        sys.exit('needs the pulumi CLI on PATH: export PATH="$(scripts/install-pulumi | tail -n 1):$PATH"')
    compileall.compile_dir(Path(pulumi_cdf_workflows.__file__).parent, quiet=1)
    print(f"{args.resources} resources, median of {args.rounds} rounds, {os.cpu_count()} CPUs\n")
    print(f"{'':40} {'this package':>13} {'do-nothing':>11} {'ratio':>6}   {'dependencies only':>17} {'ratio':>6}")
    for phase, ours, floor, dependencies in cli_phases(args.resources, args.rounds):
        print(
            f"{'pulumi ' + phase:40} {ours:12.2f}s {floor:10.2f}s {ours / floor:6.2f}"
            f"   {dependencies:16.2f}s {dependencies / floor:6.2f}"
        )
    floors = []
    for validate in (False, True):
        samples = [first_check(validate) for _ in range(args.rounds)]
        empty, ours = statistics.median(s[0] for s in samples), statistics.median(s[1] for s in samples)
        floors += [s[2] / s[0] for s in samples]
        label = f"plugin start to first check ({'reads CDF' if validate else 'offline'})"
        print(f"{label:40} {ours:12.2f}s {empty:10.2f}s {ours / empty:6.2f}")
    floor = statistics.median(floors)
    print(f"\na do-nothing check that validates one pydantic model starts {floor:.2f}x the empty provider's")


if __name__ == "__main__":
    main()
