"""What this package costs on top of Pulumi itself: a stack of executions next to a stack of as many do-nothing
dynamic resources, through the real CLI, and the plugin's start to its first check next to an empty provider's.

    python benchmarks/startup.py [--resources 16] [--rounds 3]

Needs the `pulumi` CLI on PATH (`scripts/install-pulumi | tail -n 1`). One emulator on loopback serves the
executions (tasks take no time); both stacks use a file backend and this interpreter's packages. Each round runs
`preview`, `up` and `destroy` of both stacks one after the other, so that both see the same machine; the table
shows each phase's median and the ratio. Then a fresh `python -m pulumi.dynamic` plugin is started and timed
to the end of its first Check, for an empty provider and for a WorkflowExecution (with `cdf:validateOnPreview`
false, so that no request to CDF is timed, and true, which reads the version once). Nothing asserts on timing.
"""

from __future__ import annotations

import argparse
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

from harness import PluginProcess, capture_registrations
from harness.toy.provider import Toy

from pulumi_cdf_workflows import WorkflowExecution
from pulumi_cdf_workflows.emulator import CdfEmulator

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


def cli_phases(resources: int, rounds: int) -> list[tuple[str, float, float]]:
    with tempfile.TemporaryDirectory() as tmp, CdfEmulator(clients={CLIENT_ID: CLIENT_SECRET}) as emu:
        emu.upsert_workflow_version(PROJECT, "wf", "1")
        root = Path(tmp)
        ours = _project(root, "ours", OURS.format(n=resources), emu)
        floor = _project(root, "floor", FLOOR.format(n=resources), emu)
        times: dict[tuple[str, str], list[float]] = {}
        for _ in range(rounds):
            for phase, args in (("preview", ("preview",)), ("up", ("up", "--yes")), ("destroy", ("destroy", "--yes"))):
                for name, (directory, env) in (("ours", ours), ("floor", floor)):
                    times.setdefault((phase, name), []).append(_timed(directory, env, *args))
        return [
            (phase, statistics.median(times[(phase, "ours")]), statistics.median(times[(phase, "floor")]))
            for phase in ("preview", "up", "destroy")
        ]


def first_check(validate: bool) -> tuple[float, float]:
    """Seconds from spawning the plugin to the end of its first Check: an empty provider's, then ours."""
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

        results = []
        for program in (empty, ours):
            (registration,) = capture_registrations(program, stack="dev")
            started = time.perf_counter()
            with PluginProcess() as plugin:
                plugin.configure(config)
                plugin.check(registration.urn, {}, registration.engine_inputs)
                results.append(time.perf_counter() - started)
        return results[0], results[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resources", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if shutil.which("pulumi") is None:
        sys.exit("needs the pulumi CLI on PATH: export PATH=\"$(scripts/install-pulumi | tail -n 1):$PATH\"")
    print(f"{args.resources} resources, median of {args.rounds} rounds, {os.cpu_count()} CPUs\n")
    print(f"{'':34} {'this package':>13} {'do-nothing':>11} {'ratio':>6}")
    for phase, ours, floor in cli_phases(args.resources, args.rounds):
        print(f"{'pulumi ' + phase:34} {ours:12.2f}s {floor:10.2f}s {ours / floor:6.2f}")
    for validate in (False, True):
        samples = [first_check(validate) for _ in range(args.rounds)]
        empty, ours = statistics.median(s[0] for s in samples), statistics.median(s[1] for s in samples)
        label = f"plugin start to first check ({'reads CDF' if validate else 'offline'})"
        print(f"{label:34} {ours:12.2f}s {empty:10.2f}s {ours / empty:6.2f}")


if __name__ == "__main__":
    main()
