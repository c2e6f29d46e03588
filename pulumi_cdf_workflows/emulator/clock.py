"""The emulator's virtual clock: real time plus an offset that tests move (`advance_time`, `set_time`)."""

from __future__ import annotations

import time
from collections.abc import Callable


class Clock:
    """The emulator's wall clock in epoch milliseconds: real time plus an offset that tests move.

    It keeps flowing at real speed, so successive writes still get increasing timestamps and executions finish
    on their own; `advance` and `set` only shift it. Token and nonce lifetimes do not use it (a jump must not
    log test clients out).
    """

    def __init__(self, wall: Callable[[], float] = time.time) -> None:
        self._wall = wall
        self._offset_ms = 0

    def _real_ms(self) -> int:
        return int(self._wall() * 1000)

    def now_ms(self) -> int:
        return self._real_ms() + self._offset_ms

    def advance(self, ms: int) -> None:
        if ms < 0:
            raise ValueError("the clock only moves forward")
        self._offset_ms += ms

    def set(self, epoch_ms: int) -> None:
        self._offset_ms = epoch_ms - self._real_ms()

    def move_to(self, epoch_ms: int) -> None:
        """Forward to `epoch_ms` if it is still ahead; never back."""
        if epoch_ms > self.now_ms():
            self.set(epoch_ms)

    def reset(self) -> None:
        self._offset_ms = 0
