"""How many status reads `wait_for_completion` costs, and how late it notices the end.

    python benchmarks/wait_requests.py

Part 1 simulates `waiting.PollSchedule()` (no sleeping, no network) for executions of 10 s to 24 h, next to
naive fixed 1 s and 5 s polls. Part 2 runs one 8 s execution on a `CdfEmulator` on loopback and counts the
GETs the emulator logged while `ExecutionWaiter` waited for it. Nothing here asserts on timing.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence

from pulumi_cdf_workflows.cdf import CdfClient, ConnectionSettings
from pulumi_cdf_workflows.emulator import CdfEmulator
from pulumi_cdf_workflows.lifecycle.polling import PollSchedule
from pulumi_cdf_workflows.resources.execution.args import DEFAULT_TIMEOUT_SECONDS
from pulumi_cdf_workflows.resources.execution.waiting import ExecutionWaiter

DURATIONS: Sequence[tuple[str, float]] = (
    ("10 s", 10.0),
    ("1 min", 60.0),
    ("10 min", 600.0),
    ("1 h", 3600.0),
    ("6 h", 6 * 3600.0),
    ("24 h", 24 * 3600.0),
)
FIXED_POLLS = (1.0, 5.0)

BENCH_PROJECT = "bench"
BENCH_WORKFLOW = "bench-wf"
BENCH_VERSION = "1"
BENCH_TASK_SECONDS = 8.0


def read_times(schedule: PollSchedule, duration: float) -> list[float]:
    """Seconds after the start at which the waiter reads the status, up to the first read at or past
    `duration` (the one that sees the execution ended). Reads take no time here."""
    elapsed = 0.0
    times: list[float] = []
    while elapsed < duration:
        elapsed += schedule.delay(len(times), elapsed)
        times.append(elapsed)
    return times


def human(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.2f} s" if seconds < 10 else f"{seconds:.1f} s"
    if seconds < 3600:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(headers[i]), *(len(row[i]) for row in rows)) for i in range(len(headers))]
    lines = ["  ".join(h.rjust(w) for h, w in zip(headers, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(cell.rjust(w) for cell, w in zip(row, widths, strict=True)) for row in rows]
    return "\n".join(lines)


def simulated() -> None:
    schedule = PollSchedule()
    headers = [
        "duration",
        "reads",
        "longest gap",
        "worst lateness",
        "lateness %",
        *(f"reads @ fixed {p:g} s" for p in FIXED_POLLS),
    ]
    rows = []
    for label, duration in DURATIONS:
        reads = schedule.count_reads(duration)
        times = read_times(schedule, duration)
        if len(times) != reads:  # read_times mirrors count_reads; say so if they ever drift apart
            print(f"warning: count_reads({duration:g}) = {reads} but the simulated loop made {len(times)} reads")
        gaps = [b - a for a, b in zip([0.0, *times], times, strict=False)]
        # An execution ending just after the second-to-last read is noticed only at the last one, so the
        # gap around `duration` is how late the wait can notice an end at about that time.
        worst_late = gaps[-1]
        rows.append(
            [
                label,
                str(reads),
                human(max(gaps)),
                human(worst_late),
                f"{100 * worst_late / duration:.1f} %",
                *(str(math.ceil(duration / p)) for p in FIXED_POLLS),
            ]
        )
    print(f"Part 1: PollSchedule() status reads, simulated ({schedule})")
    print()
    print(table(headers, rows))
    print()
    print(
        "reads: GETs until the first read at or after the end; longest gap: the longest sleep between reads;\n"
        "worst lateness: how long after the actual end the wait notices it, for an end near that duration\n"
        "(the gap the end falls in). A fixed poll of p seconds has longest gap and worst lateness p.\n"
        f"A wait gives up after timeout_seconds (default {DEFAULT_TIMEOUT_SECONDS:g} s): the 1 h row is at that\n"
        "limit, and the 6 h and 24 h rows need a raised timeout_seconds."
    )


def measured() -> None:
    with CdfEmulator() as emu:
        emu.upsert_workflow_version(BENCH_PROJECT, BENCH_WORKFLOW, BENCH_VERSION)
        emu.set_outcome(BENCH_WORKFLOW, BENCH_VERSION, "COMPLETED", task_duration=BENCH_TASK_SECONDS)
        base_url = emu.base_url
        settings = ConnectionSettings(project=BENCH_PROJECT, base_url=base_url, token="static-bench")
        client = CdfClient(settings)
        try:
            execution = client.run(BENCH_WORKFLOW, BENCH_VERSION)
            started = time.monotonic()
            result = ExecutionWaiter(client, execution.id, timeout=60).wait()
            wall = time.monotonic() - started
            noticed_ms = time.time() * 1000
        finally:
            client.close()
        gets = emu.requests("GET", rf"/workflows/executions/{execution.id}$")
        (record,) = [e for e in emu.executions(BENCH_PROJECT) if e["id"] == execution.id]

    print(f"Part 2: one execution on a CdfEmulator at {base_url} (one task of {BENCH_TASK_SECONDS:g} s)")
    print()
    rows = [
        ["outcome", result.outcome.value + (f" ({record['status']})" if record.get("status") else "")],
        ["status GETs logged by the emulator", str(len(gets))],
        ["reads counted by the waiter", str(result.reads)],
        ["reads PollSchedule predicts", str(PollSchedule().count_reads(BENCH_TASK_SECONDS))],
        ["wall time of the wait", f"{wall:.2f} s"],
    ]
    start_ms, end_ms = record.get("startTime"), record.get("endTime")
    if isinstance(start_ms, int) and isinstance(end_ms, int):
        rows.append(["execution ran (startTime to endTime)", f"{(end_ms - start_ms) / 1000:.2f} s"])
        rows.append(["noticed after endTime", f"{(noticed_ms - end_ms) / 1000:.2f} s"])
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name.ljust(width)}  {value}")


def main() -> None:
    simulated()
    print()
    measured()


if __name__ == "__main__":
    main()
