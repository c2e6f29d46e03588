"""How fast workflows are run through the real dynamic-provider plugin, next to the official cognite-sdk.

    python benchmarks/run_rate.py [--runs N]

One `CdfEmulator` on loopback (tasks take no time), N executions per phase:

- plugin, sequential, create only: a fresh `python -m pulumi.dynamic` plugin process (the real one, driven
  over gRPC by `tests/harness`), `cdf:validateOnPreview=false`, N `Create` calls one after another;
- plugin, sequential, check + create: a fresh plugin with the default `cdf:validateOnPreview`, each run a
  `Check` then a `Create` (what the engine sends for a new resource during `pulumi up`);
- plugin, 4 concurrent, create only: a fresh plugin, N `Create` calls from 4 threads (the plugin serves 4
  calls at a time);
- cognite-sdk, sequential: `client.workflows.executions.run` N times, in this process;
- empty provider, sequential, create only: a fresh plugin serving a do-nothing dynamic provider, N `Create` calls:
  what the plugin and gRPC cost a create before it does anything.

Each create is for a resource of its own (as the engine sends them: one create per URN), so no create takes over
another's execution. The last line is the create's own cost: the plugin's sequential ms per create less the empty
provider's, over the SDK's ms per run.

The emulator is reset (and the workflow version re-seeded) between phases, so its request log counts one
phase only. Plugin start-up is not timed. Nothing here asserts on timing.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from harness import PluginProcess, Registration, capture_registrations
from harness.toy.provider import Toy

from pulumi_cdf_workflows import WorkflowExecution
from pulumi_cdf_workflows.emulator import CdfEmulator
from pulumi_cdf_workflows.lifecycle.connection import FIELDS, READ_TIMEOUT_ENV

BENCH_PROJECT = "bench"
BENCH_WORKFLOW = "wf"
BENCH_VERSION = "1"
CLIENT_ID = "bench"
CLIENT_SECRET = "bench-secret"
BENCH_INPUT: dict[str, Any] = {"batch": 7, "source": "run_rate"}
CONCURRENCY = 4
SEQUENTIAL_PHASE = "plugin, sequential, create only"
EMPTY_PHASE = "empty provider, sequential, create only"
KINDS = ("token", "sessions", "run", "other")
# CDF settings in the developer's shell must not reach the plugin under test.
CLEAN_ENV = {f.env_var: "" for f in FIELDS} | {READ_TIMEOUT_ENV: ""}


@dataclass
class Phase:
    name: str
    runs: int
    wall: float
    executions: int
    requests: Counter[str]
    other_paths: Counter[str] = field(default_factory=Counter)
    plugin_cpu: float | None = None
    local_cpu: float = 0.0
    setup: float | None = None

    @property
    def rate(self) -> float:
        return self.runs / self.wall if self.wall > 0 else float("inf")


def kind(entry: dict[str, Any]) -> str:
    path = str(entry["path"])
    if path == "/oauth2/token":
        return "token"
    if path.endswith("/sessions") and entry["method"] == "POST":
        return "sessions"
    if path.endswith("/run") and entry["method"] == "POST":
        return "run"
    return "other"


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU of `pid` (and its waited-for children) from /proc, or None where there is no /proc."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # Fields after the ")" that closes the command name; utime, stime, cutime, cstime are fields 14-17.
    fields = text.rsplit(")", 1)[1].split()
    ticks = sum(int(v) for v in fields[11:15])
    return ticks / os.sysconf("SC_CLK_TCK")


def plugin_pid(plugin: PluginProcess) -> int | None:
    return plugin.pid


def fresh(emu: CdfEmulator) -> None:
    emu.reset()
    emu.upsert_workflow_version(BENCH_PROJECT, BENCH_WORKFLOW, BENCH_VERSION)


def finish(emu: CdfEmulator, phase: Phase) -> Phase:
    for entry in emu.requests():
        k = kind(entry)
        phase.requests[k] += 1
        if k == "other":
            phase.other_paths[f"{entry['method']} {entry['path']}"] += 1
    phase.executions = len(emu.executions(BENCH_PROJECT))
    return phase


def registrations(runs: int, declare: Callable[[str], object]) -> list[Registration]:
    """`runs` resources declared by `declare(name)`, each with its own URN."""

    def program() -> None:
        for i in range(runs):
            declare(f"run-{i}")

    return capture_registrations(program, stack="bench")


def _execution(name: str) -> WorkflowExecution:
    return WorkflowExecution(name, workflow_external_id=BENCH_WORKFLOW, version=BENCH_VERSION, input=BENCH_INPUT)


def _empty(name: str) -> Toy:
    return Toy(name, {"name": name})


def plugin_phase(emu: CdfEmulator, regs: Sequence[Registration], name: str, *, with_check: bool, workers: int) -> Phase:
    fresh(emu)
    config = {
        "cdf:project": BENCH_PROJECT,
        "cdf:baseUrl": emu.base_url,
        "cdf:tokenUrl": emu.token_url,
        "cdf:clientId": CLIENT_ID,
        "cdf:clientSecret": CLIENT_SECRET,
    }
    if not with_check:
        config["cdf:validateOnPreview"] = "false"
    setup_started = time.monotonic()
    with PluginProcess(env=CLEAN_ENV) as plugin:
        plugin.configure(config, secret_keys=["cdf:clientSecret"])
        setup = time.monotonic() - setup_started
        pid = plugin_pid(plugin)

        def one(i: int) -> str:
            reg = regs[i]
            inputs = reg.engine_inputs
            if with_check:
                checked = plugin.check(reg.urn, {}, inputs)
                if checked.failures:
                    raise RuntimeError(f"check failed: {checked.failures}")
                inputs = checked.inputs
            id_, _outs = plugin.create(reg.urn, inputs)
            return id_

        cpu_before = cpu_seconds(pid) if pid is not None else None
        local_before = time.process_time()
        started = time.monotonic()
        runs = len(regs)
        if workers == 1:
            ids = [one(i) for i in range(runs)]
        else:
            with ThreadPoolExecutor(max_workers=workers) as pool:
                ids = list(pool.map(one, range(runs)))
        wall = time.monotonic() - started
        local_cpu = time.process_time() - local_before
        cpu_after = cpu_seconds(pid) if pid is not None else None
    if len(set(ids)) != runs:
        print(f"warning: {name}: {runs} creates returned {len(set(ids))} distinct execution ids")
    plugin_cpu = cpu_after - cpu_before if cpu_before is not None and cpu_after is not None else None
    phase = Phase(name, runs, wall, 0, Counter(), plugin_cpu=plugin_cpu, local_cpu=local_cpu, setup=setup)
    return finish(emu, phase)


def sdk_phase(emu: CdfEmulator, runs: int) -> Phase | None:
    try:
        import cognite.client
        from cognite.client import ClientConfig, CogniteClient
        from cognite.client.credentials import OAuthClientCredentials
    except ImportError:
        print("cognite-sdk is not installed: skipping the SDK phase (pip install cognite-sdk)")
        return None
    cognite.client.global_config.disable_pypi_version_check = True
    fresh(emu)
    setup_started = time.monotonic()
    credentials = OAuthClientCredentials(
        token_url=emu.token_url,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        scopes=[f"{emu.base_url}/.default"],
    )
    config = ClientConfig(
        client_name="run-rate-benchmark", project=BENCH_PROJECT, base_url=emu.base_url, credentials=credentials
    )
    client = CogniteClient(config)
    setup = time.monotonic() - setup_started
    local_before = time.process_time()
    started = time.monotonic()
    for _ in range(runs):
        client.workflows.executions.run(BENCH_WORKFLOW, BENCH_VERSION, input=dict(BENCH_INPUT))
    wall = time.monotonic() - started
    local_cpu = time.process_time() - local_before
    phase = Phase("cognite-sdk, sequential", runs, wall, 0, Counter(), local_cpu=local_cpu, setup=setup)
    return finish(emu, phase)


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(headers[i]), *(len(row[i]) for row in rows)) for i in range(len(headers))]
    lines = ["  ".join(h.rjust(w) if i else h.ljust(w) for i, (h, w) in enumerate(zip(headers, widths, strict=True)))]
    lines.append("  ".join("-" * w for w in widths))
    lines += [
        "  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True)))
        for row in rows
    ]
    return "\n".join(lines)


def per_run(count: int, runs: int) -> str:
    return f"{count / runs:.2f}".rstrip("0").rstrip(".") if runs else "-"


def describe(phase: Phase) -> str:
    req = phase.requests
    who = "client" if phase.name.startswith("cognite-sdk") else "process"
    parts = [
        f"{req['token']} token per {who}",
        f"{per_run(req['sessions'], phase.runs)} session + {per_run(req['run'], phase.runs)} run per execution",
    ]
    if phase.other_paths:
        others = ", ".join(f"{n} x {p}" for p, n in phase.other_paths.most_common())
        parts.append(f"other: {others}")
    return f"{phase.name}: " + "; ".join(parts)


def report(phases: Sequence[Phase], base_url: str) -> None:
    print(f"Workflow runs against one CdfEmulator at {base_url} (tasks take 0 s), {phases[0].runs} per phase")
    print()
    rows = []
    for p in phases:
        cpu = "-" if p.plugin_cpu is None else f"{p.plugin_cpu:.2f}"
        cpu_per = "-" if p.plugin_cpu is None else f"{1000 * p.plugin_cpu / p.runs:.1f}"
        rows.append(
            [
                p.name,
                str(p.executions),
                f"{p.wall:.2f}",
                f"{p.rate:.1f}",
                f"{1000 * p.wall / p.runs:.1f}",
                cpu,
                cpu_per,
                f"{p.local_cpu:.2f}",
                "-" if p.setup is None else f"{p.setup:.2f}",
            ]
        )
    headers = [
        "phase",
        "executions",
        "wall s",
        "exec/s",
        "ms/exec",
        "plugin CPU s",
        "plugin CPU ms/exec",
        "bench CPU s",
        "setup s",
    ]
    print(table(headers, rows))
    print()
    req_rows = [
        [
            p.name,
            *(str(p.requests[k]) for k in KINDS),
            per_run(p.requests["sessions"], p.runs),
            per_run(p.requests["run"], p.runs),
            per_run(sum(p.requests.values()), p.runs),
        ]
        for p in phases
    ]
    print("Requests logged by the emulator, per phase:")
    print()
    print(table(["phase", *KINDS, "sessions/exec", "run/exec", "all/exec"], req_rows))
    print()
    for p in phases:
        print(describe(p))
    sdk = next((p for p in phases if p.name.startswith("cognite-sdk")), None)
    if sdk is not None:
        print()
        print("exec/s ratio plugin / cognite-sdk:")
        for p in phases:
            if p is not sdk and p.name != EMPTY_PHASE:
                print(f"  {p.name}: {p.rate / sdk.rate:.2f}")
        by_name = {p.name: p for p in phases}
        ours, empty = by_name[SEQUENTIAL_PHASE], by_name[EMPTY_PHASE]
        own = (ours.wall - empty.wall) / ours.runs
        print(
            f"\na create's own cost: {1000 * own:.1f} ms ({ours.name}, less the empty provider's "
            f"{1000 * empty.wall / empty.runs:.1f} ms), {own / (sdk.wall / sdk.runs):.2f}x the SDK's "
            f"{1000 * sdk.wall / sdk.runs:.1f} ms per run"
        )
    print()
    print(
        "wall s: the timed loop only; setup s: plugin start + Configure, or CogniteClient construction (untimed).\n"
        "plugin CPU: user + system seconds of the plugin process during the loop (/proc/<pid>/stat).\n"
        "bench CPU: this process during the loop: the emulator's threads plus the gRPC client or the SDK.\n"
        "check + create: the default cdf:validateOnPreview, so Check confirms the workflow version once per\n"
        "process (GET .../versions/1, cached afterwards); create only sets cdf:validateOnPreview=false."
    )


def run_phases(emu: CdfEmulator, runs: int) -> list[Phase]:
    regs, empty = registrations(runs, _execution), registrations(runs, _empty)
    steps: list[Callable[[], Phase | None]] = [
        lambda: plugin_phase(emu, regs, SEQUENTIAL_PHASE, with_check=False, workers=1),
        lambda: plugin_phase(emu, regs, "plugin, sequential, check + create", with_check=True, workers=1),
        lambda: plugin_phase(
            emu, regs, f"plugin, {CONCURRENCY} concurrent, create only", with_check=False, workers=CONCURRENCY
        ),
        lambda: sdk_phase(emu, runs),
        lambda: plugin_phase(emu, empty, EMPTY_PHASE, with_check=False, workers=1),
    ]
    phases = []
    for step in steps:
        phase = step()
        if phase is not None:
            phases.append(phase)
    return phases


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=100, help="executions per phase (default 100)")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    with CdfEmulator(clients={CLIENT_ID: CLIENT_SECRET}, task_duration=0.0) as emu:
        phases = run_phases(emu, args.runs)
        base_url = emu.base_url
    report(phases, base_url)


if __name__ == "__main__":
    main()
