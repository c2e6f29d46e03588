"""`CdfEmulator`, the library-mode entry point: the backend, the test controls and an HTTP server around them."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any

from pulumi_cdf_workflows.emulator.backend import CdfBackend
from pulumi_cdf_workflows.emulator.controls import EmulatorControls
from pulumi_cdf_workflows.emulator.faults import FaultTable, RequestLog
from pulumi_cdf_workflows.emulator.httpd import EmulatorHTTPServer, Site
from pulumi_cdf_workflows.emulator.responses import CdfResponses


class CdfEmulator(EmulatorControls):
    """A local CDF (workflows, triggers, sessions, OAuth token) on a loopback port. Any project name works.

    Example::

        with CdfEmulator(clients={"my-id": "my-secret"}) as emu:
            emu.upsert_workflow_version("my-project", "wf", "1")
            emu.set_outcome("wf", "1", "FAILED", reason="bad input")
            # point a CogniteClient or CdfClient at emu.base_url, with token_url=emu.token_url
            emu.upsert_trigger("my-project", "hourly", "wf", "1", "0 * * * *")
            fired = emu.advance_time(3 * 3600)  # three firings, three executions; no waiting
            emu.add_trigger_matches("on-new-nodes", [{"externalId": "n1"}])  # a data-modeling trigger's matches

    `clients=None` accepts any non-empty client id/secret; `task_duration` is seconds per task (on the
    emulator's clock, which runs at real speed unless a test moves it); `nonce_ttl` how long a session nonce can
    be bound; `token_ttl` the access-token lifetime; both count on `ttl_clock` (seconds, default
    `time.monotonic`), never on the emulator's clock, so `advance_time` does not log clients out.
    `capabilities` maps a client id (or "static-token", the subject of every static token) to a list of CDF
    capabilities, e.g. ``[{"workflowOrchestrationAcl": {"actions": ["READ"], "scope": {"datasetScope": {"ids":
    [123]}}}, "projectScope": {"projects": ["p"]}}]``; the API then answers that client 403 where CDF would
    (permissions.py). A client left out may do everything.
    The test controls (reset, set_outcome, inject_fault, advance_time, ...) are documented in controls.py.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        clients: dict[str, str] | None = None,
        task_duration: float = 0.05,
        token_ttl: float = 3600,
        nonce_ttl: float = 60,
        ttl_clock: Callable[[], float] = time.monotonic,
        capabilities: dict[str, list[dict[str, Any]]] | None = None,
    ) -> None:
        backend = CdfBackend(
            clients=clients,
            capabilities=capabilities,
            task_duration=task_duration,
            token_ttl=token_ttl,
            nonce_ttl=nonce_ttl,
            ttl_clock=ttl_clock,
        )
        super().__init__(backend, FaultTable(), RequestLog())
        self.host = host
        self._requested_port = port
        self.responses = CdfResponses(backend)
        self._stopping = threading.Event()
        self._server: EmulatorHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ----- lifecycle
    def start(self) -> CdfEmulator:
        if self._server is not None:
            return self
        self._stopping.clear()
        self.backend.start()
        site = Site(self.responses.dispatch, self.handle_control, self._faults, self._log, self._sleep)
        self._server = EmulatorHTTPServer((self.host, self._requested_port), site)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name="cdf-emulator-http",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        self._stopping.set()
        port = int(server.server_address[1])
        stopper = threading.Thread(target=server.shutdown, daemon=True)
        stopper.start()
        # A throwaway connection wakes serve_forever's select() so shutdown does not wait a poll interval.
        with contextlib.suppress(OSError):
            socket.create_connection((self.host, port), timeout=0.5).close()
        stopper.join()
        server.close_connections()
        server.server_close()
        self.backend.shutdown()
        if self._thread is not None:
            self._thread.join(2)

    def __enter__(self) -> CdfEmulator:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("The emulator is not started")
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def token_url(self) -> str:
        return self.base_url + "/oauth2/token"

    def _sleep(self, seconds: float) -> None:
        if seconds > 0:
            self._stopping.wait(seconds)
