"""What the providers borrow from the dynamic-provider plugin process (`python -m pulumi.dynamic`) they run in.

That plugin serves at most 4 calls at once and ignores the engine's Cancel (Ctrl-C). Two things here make
long waits behave:

- `slot_lent()`: a call that waits for something another queued call would do (a workflow's delete waiting
  for executions that their own deletes cancel) lends its slot, so the pool may start one more worker. (A
  started worker stays for the rest of the process; a `destroy` then serves one more call at once for each
  delete that waited.)
- `interruption()` and `pause()`: a wait ends promptly when the engine sends Cancel (one Ctrl-C or SIGTERM:
  the engine then waits for the calls in flight), when the plugin shuts down (a second Ctrl-C: the engine
  stops the plugin), or when the `pulumi` process that started the plugin is gone (killed).

Both reach into the plugin's gRPC server and executor; where those are not what they expect (another Python,
another server, a plain thread in tests) they do nothing, and waits end only at their own limits.

The provider plugin `cdf-workflows` (`pulumi_cdf_workflows.plugin`) needs no hooks: it calls `interrupt()` from
its Cancel, `watch_engine()` once, and sets per call `progress_to` (where `report` sends progress lines) and
`engine_timeout` (the resource's customTimeouts), which reach the lifecycle in the call's context.
"""

from __future__ import annotations

import contextlib
import contextvars
import enum
import gc
import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

_CANCEL_METHOD = "/pulumirpc.ResourceProvider/Cancel"


class Interruption(enum.Enum):
    """Why a wait was told to stop, in words for the user."""

    CANCELLED = "the deploy was cancelled (Ctrl-C or SIGTERM)"
    TERMINATED = "the deploy was terminated (a second Ctrl-C), and the plugin is shutting down"
    ENGINE_GONE = "the pulumi process that ran this deploy is gone (killed)"


_lock = threading.Lock()
_installed = False
_interruption: Interruption | None = None
_stop = threading.Event()
_lineage: tuple[int, int] | None = None  # (parent, grandparent) when the plugin started


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


# Set by the provider plugin around each call; the dynamic-provider plugin leaves them unset.
progress_to: contextvars.ContextVar[Callable[[str], None] | None] = contextvars.ContextVar("progress_to", default=None)
engine_timeout: contextvars.ContextVar[float | None] = contextvars.ContextVar("engine_timeout", default=None)


def interrupt(why: Interruption) -> None:
    """Make every wait of this process stop now (the first reason given is kept): the engine's Cancel."""
    global _interruption
    with _lock:
        if _interruption is None:
            _interruption = why
    _stop.set()


def _hook_cancel() -> None:
    """Route the engine's Cancel to `interrupt`, keeping whatever the plugin did with it before."""
    import grpc  # the plugin's own dependency, loaded already where this matters

    for handler in gc.get_objects():
        methods = getattr(handler, "_method_handlers", None)
        if not isinstance(methods, dict) or _CANCEL_METHOD not in methods:
            continue
        original = methods[_CANCEL_METHOD]
        if getattr(original, "unary_unary", None) is None:
            continue

        def cancel(request: Any, context: Any, _original: Any = original) -> Any:
            interrupt(Interruption.CANCELLED)
            return _original.unary_unary(request, context)

        methods[_CANCEL_METHOD] = grpc.unary_unary_rpc_method_handler(
            cancel,
            request_deserializer=original.request_deserializer,
            response_serializer=original.response_serializer,
        )


def _parent_of(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return int(stat.read().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return None  # not Linux, or gone


def _current_lineage() -> tuple[int, int] | None:
    """This process's parent and grandparent: the `pulumi` process and the shell script it ran the plugin with
    (`pulumi-resource-pulumi-python`). When `pulumi` dies, the script is re-parented at once (zombie or not)."""
    parent = os.getppid()
    grandparent = _parent_of(parent)
    return None if grandparent is None else (parent, grandparent)


def install() -> None:
    """Hook the engine's Cancel and the plugin's shutdown once per process (cheap after the first call)."""
    global _installed, _lineage
    with _lock:
        if _installed:
            return
        _installed = True
    if _current_pool() is not None:  # in the plugin's gRPC server, not a test calling a provider directly
        with contextlib.suppress(Exception):  # a plugin we do not recognise: waits end at their own limits
            _hook_cancel()
        _lineage = _current_lineage()
    register = getattr(threading, "_register_atexit", None)  # runs before the interpreter joins worker threads
    if callable(register):
        with contextlib.suppress(RuntimeError):  # already shutting down
            register(lambda: interrupt(Interruption.TERMINATED))


def watch_engine() -> None:
    """Notice from now on when the `pulumi` process that started this plugin is gone (for a plugin the engine
    starts directly; `install` does this for the dynamic-provider plugin)."""
    global _lineage
    _lineage = _current_lineage()


def interruption() -> Interruption | None:
    """Why waits must stop now, or None."""
    if _interruption is None and _lineage is not None and _current_lineage() != _lineage:
        interrupt(Interruption.ENGINE_GONE)
    return _interruption


def pause(seconds: float) -> None:
    """Sleep up to `seconds`, ending early when waits must stop (checked at least every 2 s)."""
    remaining = seconds
    while remaining > 0 and interruption() is None:
        step = min(remaining, 2.0)
        _stop.wait(step)
        remaining -= step
