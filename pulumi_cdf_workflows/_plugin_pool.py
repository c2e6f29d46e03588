"""Lending a call's slot in the dynamic-provider plugin's thread pool while that call waits on other calls.

`python -m pulumi.dynamic` serves at most 4 calls at once (a `ThreadPoolExecutor(max_workers=4)`). A delete
that waits for something another queued call would do (a workflow's delete waiting for executions that their
own deletes cancel) would hold a slot the other call needs: four such waits starve the queue until they time
out. While it waits, such a call lends its slot: the pool may start one more worker. (A started worker stays
for the rest of the process; a `destroy` then serves one more call at once for each delete that waited.)

This reaches into the plugin's executor through the worker thread's arguments; where that is not what it
expects (another Python, another server, a plain thread in tests) it does nothing.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager


def _current_pool() -> ThreadPoolExecutor | None:
    thread = threading.current_thread()
    args = getattr(thread, "_args", None)  # a ThreadPoolExecutor worker: (weakref to its executor, queue, ...)
    if not isinstance(args, tuple) or not args or not callable(args[0]):
        return None
    try:
        pool = args[0]()
    except TypeError:
        return None
    if isinstance(pool, ThreadPoolExecutor) and isinstance(getattr(pool, "_max_workers", None), int):
        return pool
    return None


@contextmanager
def slot_lent() -> Iterator[None]:
    """While inside, the pool that runs this call may run one more call than its limit."""
    pool = _current_pool()
    if pool is None:
        yield
        return
    lock = getattr(pool, "_shutdown_lock", threading.Lock())
    with lock:
        pool._max_workers += 1
    adjust = getattr(pool, "_adjust_thread_count", None)
    if callable(adjust):
        with lock:
            adjust()  # start a worker now for calls already queued
    try:
        yield
    finally:
        with lock:
            pool._max_workers -= 1
