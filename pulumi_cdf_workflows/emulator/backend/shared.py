"""What every part of the backend shares: one lock over all state, a condition that wakes the scheduler, the clocks."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from pulumi_cdf_workflows.emulator.clock import Clock


class Shared:
    """Each part keeps its own state and takes `lock` around it; they share one lock so a call that spans parts
    (a trigger firing an execution, a workflow delete revoking sessions) sees and leaves them consistent."""

    def __init__(self, clock: Clock, ttl_clock: Callable[[], float]) -> None:
        self.lock = threading.RLock()
        self.changed = threading.Condition(self.lock)  # notified when a task's end time may have moved
        self.clock = clock  # every timestamp the API shows; tests move it
        self.ttl_clock = ttl_clock  # seconds; token and nonce lifetimes, which a clock move must not cut short
        self._instant = threading.local()

    def now_ms(self) -> int:
        """The clock's time, or the instant this thread's change happens at (`instant`)."""
        frozen: int | None = getattr(self._instant, "ms", None)
        return self.clock.now_ms() if frozen is None else frozen

    @contextmanager
    def instant(self, ms: int | None = None) -> Iterator[int]:
        """Within it, this thread's `now_ms()` stands still at `ms` (default: now), so everything one change does
        (a run created, admitted and its first task started; a task ended and the next started) carries one
        timestamp, however long it takes. Nested, the outer instant holds."""
        outer: int | None = getattr(self._instant, "ms", None)
        if outer is not None:
            yield outer
            return
        self._instant.ms = self.clock.now_ms() if ms is None else ms
        try:
            yield self._instant.ms
        finally:
            self._instant.ms = None

    def wake(self) -> None:
        """Tells the scheduler that end times changed (call with the lock held)."""
        self.changed.notify_all()
