"""Executions on the emulator's clock: the scheduler thread ends tasks at real speed, and the clock controls
(advance, set) end what falls due meanwhile, in time order, with the triggers."""

from __future__ import annotations

import threading
import time

import pytest
from harness import wait_until

from pulumi_cdf_workflows.emulator.backend import CdfBackend
from pulumi_cdf_workflows.emulator.exceptions import BadRequest
from pulumi_cdf_workflows.emulator.models import TriggerFields, WorkflowFields
from pulumi_cdf_workflows.emulator.trigger_rules import validate_trigger_rule

from .conftest import P, nonce, run, seed

MINUTE = 60_000
YEAR = 365 * 24 * 3600 * 1000


def emulator_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("cdf-emulator")]


def test_a_started_backend_ends_tasks_by_itself_at_real_speed() -> None:
    backend = CdfBackend(task_duration=0.01)
    seed(backend, "wf", "1")
    backend.start()
    try:
        execution = run(backend)
        wait_until(lambda: execution.status == "COMPLETED", "the scheduler to end the run's task")
    finally:
        backend.shutdown()


def test_one_thread_runs_every_execution_and_shutdown_stops_it_leaving_them_to_go_on_later() -> None:
    backend = CdfBackend(task_duration=60)
    seed(backend, "wf", "1")
    backend.start()
    runs = [run(backend) for _ in range(5)]
    [scheduler] = emulator_threads()
    assert scheduler.daemon
    backend.shutdown(timeout=2)
    assert not scheduler.is_alive() and emulator_threads() == []
    assert {e.status for e in runs} == {"RUNNING"}
    backend.start()
    try:
        backend.scheduler.advance(60)
        assert {e.status for e in runs} == {"COMPLETED"}
    finally:
        backend.shutdown()


def test_a_late_step_ends_tasks_at_their_due_times_not_when_it_comes(backend: CdfBackend) -> None:
    backend.runner.set_outcome("wf", "1", task_duration=60)
    execution = run(backend)
    t0 = execution.tasks[0].start_time
    backend.clock.advance(150_000)  # the clock ran on while nothing looked
    backend.scheduler.advance(0)
    ends = [(t.external_id, t.status, t.end_time) for t in execution.tasks]
    assert ends == [
        ("extract", "COMPLETED", t0 + MINUTE),
        ("load", "COMPLETED", t0 + 2 * MINUTE),
        ("notify", "IN_PROGRESS", None),
    ]


def test_setting_the_clock_keeps_each_running_tasks_remaining_time(backend: CdfBackend) -> None:
    backend.runner.set_outcome("wf", "1", task_duration=600)
    execution = run(backend)
    backend.scheduler.advance(200)
    backend.scheduler.set_time(backend.now_ms() + YEAR)
    backend.scheduler.advance(390)  # 10 s left
    assert [t.status for t in execution.tasks] == ["IN_PROGRESS"]
    backend.scheduler.set_time(backend.now_ms() - 2 * YEAR)
    backend.scheduler.advance(5)
    assert [t.status for t in execution.tasks] == ["IN_PROGRESS"]
    backend.scheduler.advance(5)
    assert [t.status for t in execution.tasks] == ["COMPLETED", "IN_PROGRESS"]


def test_a_queued_run_fired_as_the_running_one_ends_starts_at_once(backend: CdfBackend) -> None:
    """Task ends come before firings at the same instant: the slot is free for the fired run."""
    seed(backend, "one", "1")  # one task
    backend.save_workflow(P, WorkflowFields("one", max_concurrent_executions=1))
    backend.runner.set_outcome("one", "1", task_duration=10 * 60)
    start = (backend.now_ms() // (10 * MINUTE) + 1) * 10 * MINUTE  # a whole ten minutes from now
    backend.scheduler.set_time(start)
    rule = validate_trigger_rule({"triggerType": "schedule", "cronExpression": "*/10 * * * *"})
    backend.triggers.upsert(P, TriggerFields("t", "one", "1", rule, nonce(backend)))
    fired = backend.scheduler.advance(30 * 60)
    executions = [backend.executions.get(P, f.execution_id or "") for f in fired]
    assert [(e.start_time, e.end_time) for e in executions] == [
        (start + 10 * MINUTE, start + 20 * MINUTE),
        (start + 20 * MINUTE, start + 30 * MINUTE),
        (start + 30 * MINUTE, None),
    ]


@pytest.mark.parametrize("seconds", [-1, True, "60"])
def test_the_clock_only_moves_forward_by_a_number_of_seconds(backend: CdfBackend, seconds: object) -> None:
    with pytest.raises(BadRequest, match="seconds must be a non-negative number"):
        backend.scheduler.advance(seconds)  # type: ignore[arg-type]


@pytest.mark.parametrize("epoch_ms", [-1, 1.5, "noon"])
def test_the_clock_is_set_to_epoch_milliseconds(backend: CdfBackend, epoch_ms: object) -> None:
    with pytest.raises(BadRequest, match="epoch milliseconds"):
        backend.scheduler.set_time(epoch_ms)  # type: ignore[arg-type]


def test_reset_forgets_running_executions_and_the_clocks_moves(backend: CdfBackend) -> None:
    execution = run(backend)
    backend.scheduler.set_time(backend.now_ms() + 10 * YEAR)
    backend.reset()
    assert backend.executions.next_due() is None
    assert abs(backend.now_ms() - time.time() * 1000) < 5_000
    backend.scheduler.advance(3600)
    assert execution.status == "RUNNING"  # forgotten: nothing ends it any more
