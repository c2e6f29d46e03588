"""Time: one thread ends tasks whose time is up, at real speed, and test clock moves do the same at once.

Every running task has an end time on the virtual clock (`Execution.due`). The scheduler thread sleeps until
the earliest one, or until something wakes it (a run, a cancel, a task update, a clock move: `Shared.wake`),
then ends every task that is due. `advance` moves the clock forward through the same events in time order,
firing the triggers due on the way, so a test sees at once what would have happened meanwhile.
"""

from __future__ import annotations

import threading

from pulumi_cdf_workflows.emulator.backend.executions import Executions
from pulumi_cdf_workflows.emulator.backend.shared import Shared
from pulumi_cdf_workflows.emulator.backend.triggers import Triggers
from pulumi_cdf_workflows.emulator.exceptions import BadRequest
from pulumi_cdf_workflows.emulator.models import TriggerRun

LONGEST_SLEEP = 3600.0  # seconds; a task due later (a test's long task_duration) is looked at again then


class Scheduler:
    def __init__(self, shared: Shared, executions: Executions, triggers: Triggers) -> None:
        self._shared = shared
        self._executions = executions
        self._triggers = triggers
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    def start(self) -> None:
        """Starts the thread that ends tasks when their time is up (without it, only `advance` does)."""
        with self._shared.lock:
            if self._thread is not None:
                return
            self._stop = threading.Event()
            self._thread = threading.Thread(
                target=self._run, args=(self._stop,), name="cdf-emulator-scheduler", daemon=True
            )
            self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        with self._shared.lock:
            thread, self._thread = self._thread, None
            self._stop.set()
            self._shared.wake()
        if thread is not None:
            thread.join(timeout)

    def _run(self, stop: threading.Event) -> None:
        with self._shared.changed:
            while not stop.is_set():
                now = self._shared.now_ms()
                self._end_due(now)
                first = self._executions.next_due()
                timeout = None if first is None else min(max((first[0] - now) / 1000, 0.0), LONGEST_SLEEP)
                self._shared.changed.wait(timeout)

    def _end_due(self, until: int) -> None:
        """Ends, in time order, every task due by `until`, the clock standing at each end time (never moved back)."""
        while (first := self._executions.next_due()) is not None and first[0] <= until:
            due, execution = first
            self._shared.clock.move_to(due)
            with self._shared.instant(due):
                self._executions.step(execution)

    def advance(self, seconds: float) -> list[TriggerRun]:
        """Moves the clock forward `seconds`: the tasks due meanwhile end and the triggers due fire, all in time order
        (a task ending at a firing's instant first), the clock standing at each. Returns the firings, oldest first.
        """
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds < 0:
            raise BadRequest("seconds must be a non-negative number")
        with self._shared.lock:
            now = self._shared.now_ms()
            until = now + round(seconds * 1000)
            fired = []
            for firing in self._triggers.due(now, until, seconds):
                self._end_due(firing.at)
                self._shared.clock.move_to(firing.at)
                with self._shared.instant(firing.at):
                    fired.append(self._triggers.fire(firing))
            self._end_due(until)
            self._shared.clock.move_to(until)
            self._triggers.checked(until)
            self._shared.wake()
            return fired

    def set_time(self, epoch_ms: int) -> int:
        """Sets the clock (it runs on from there) without firing anything: schedules and batch timeouts count from
        the new time, and running tasks keep the time they had left."""
        if isinstance(epoch_ms, bool) or not isinstance(epoch_ms, int) or epoch_ms < 0:
            raise BadRequest("time must be epoch milliseconds (a non-negative integer)")
        with self._shared.lock:
            self._executions.shift(epoch_ms - self._shared.now_ms())
            self._shared.clock.set(epoch_ms)
            self._triggers.clock_set(epoch_ms)
            self._shared.wake()
            return epoch_ms
