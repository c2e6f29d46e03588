"""The engine's side of the plugin: progress lines logged against the resource they belong to.

The engine's Log RPC with a URN shows a line on that resource's row in `pulumi up` (and under Diagnostics),
where the dynamic providers' stderr lands on the stack's row with a `[stack/name]` prefix. Where the engine
cannot be reached (tests that start the plugin alone), lines go to stderr as before.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from typing import Any

import grpc
from pulumi.runtime.proto import engine_pb2, engine_pb2_grpc

_LOG_TIMEOUT = 5.0  # seconds; a line the engine does not take in time goes to stderr


class EngineLog:
    """Sends progress lines to the engine at `address`, one sink per resource."""

    def __init__(self, address: str) -> None:
        self._address = address
        self._lock = threading.Lock()
        self._stub: Any = None
        self._reachable = bool(address)

    def _engine(self) -> Any:
        with self._lock:
            if self._stub is None:
                self._stub = engine_pb2_grpc.EngineStub(grpc.insecure_channel(self._address))
            return self._stub

    def log(self, urn: str, label: str, message: str) -> None:
        if self._reachable:
            request = engine_pb2.LogRequest(severity=engine_pb2.INFO, message=message, urn=urn)
            try:
                self._engine().Log(request, timeout=_LOG_TIMEOUT)
                return
            except grpc.RpcError:
                self._reachable = False  # not an engine (or gone): stop trying
        print(f"[{label}] {message}", file=sys.stderr, flush=True)

    def sink(self, urn: str, label: str) -> Callable[[str], None]:
        """Where `lifecycle.provider.report` sends the lines of one call for resource `urn`."""
        return lambda message: self.log(urn, label, message)
