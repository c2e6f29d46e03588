"""What every part of the backend shares: one lock over all state, a condition that wakes the scheduler, the clocks."""

from __future__ import annotations

import threading
from collections.abc import Callable

from pulumi_cdf_workflows.emulator.clock import Clock


class Shared:
    """Each part keeps its own state and takes `lock` around it; they share one lock so a call that spans parts
    (a trigger firing an execution, a workflow delete revoking sessions) sees and leaves them consistent."""

    def __init__(self, clock: Clock, ttl_clock: Callable[[], float]) -> None:
        self.lock = threading.RLock()
        self.changed = threading.Condition(self.lock)  # notified when a task's end time may have moved
        self.clock = clock  # every timestamp the API shows; tests move it
        self.ttl_clock = ttl_clock  # seconds; token and nonce lifetimes, which a clock move must not cut short

    def now_ms(self) -> int:
        return self.clock.now_ms()

    def wake(self) -> None:
        """Tells the scheduler that end times changed (call with the lock held)."""
        self.changed.notify_all()
