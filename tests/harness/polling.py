"""The one way tests wait for something another thread or process does: poll, and fail loudly on a timeout."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_until(probe: Callable[[], T | None], what: str, timeout: float = 30.0, interval: float = 0.05) -> T:
    """Calls `probe` until it returns something truthy, and returns that; after `timeout` seconds the test fails
    with `what` it was waiting for. Never returns a falsy value."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(interval)
