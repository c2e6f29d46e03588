"""`CdfEmulator`, the library-mode entry point: lifecycle, test controls and request dispatch (HTTP in httpd.py)."""

from __future__ import annotations

import base64
import binascii
import contextlib
import socket
import threading
from types import TracebackType
from typing import Any, Literal
from urllib.parse import unquote

from pulumi_cdf_workflows.emulator.exceptions import ApiError, NotFound, OAuthError
from pulumi_cdf_workflows.emulator.faults import Fault, FaultTable, RequestLog
from pulumi_cdf_workflows.emulator.httpd import EmulatorHTTPServer
from pulumi_cdf_workflows.emulator.models import CdfBackend, Outcome, OutcomeSpec
from pulumi_cdf_workflows.emulator.responses import CdfResponses, JsonReply, Request
from pulumi_cdf_workflows.emulator.urls import url_paths


class CdfEmulator:
    """A local CDF (workflows, triggers, sessions, OAuth token) on a loopback port. Any project name works.

    Example::

        with CdfEmulator(clients={"my-id": "my-secret"}) as emu:
            emu.upsert_workflow_version("my-project", "wf", "1")
            emu.set_outcome("wf", "1", "FAILED", reason="bad input")
            # point a CogniteClient or CdfClient at emu.base_url, with token_url=emu.token_url
            emu.upsert_trigger("my-project", "hourly", "wf", "1", "0 * * * *")
            fired = emu.advance_time(3 * 3600)  # three firings, three executions; no waiting
            emu.add_trigger_matches("on-new-nodes", [{"externalId": "n1"}])  # a data-modeling trigger's matches

    `clients=None` accepts any non-empty client id/secret; `task_duration` is seconds per task;
    `nonce_ttl` how long a session nonce can be bound; `token_ttl` the access-token lifetime.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        clients: dict[str, str] | None = None,
        task_duration: float = 0.05,
        token_ttl: float = 3600,
        nonce_ttl: float = 60,
    ) -> None:
        self.host = host
        self._requested_port = port
        self.backend = CdfBackend(
            clients=clients, task_duration=task_duration, token_ttl=token_ttl, nonce_ttl=nonce_ttl
        )
        self.responses = CdfResponses(self.backend)
        self._faults = FaultTable()
        self._log = RequestLog()
        self._stopping = threading.Event()
        self._server: EmulatorHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ----- lifecycle
    def start(self) -> CdfEmulator:
        if self._server is not None:
            return self
        self._stopping.clear()
        self.backend.resume()
        self._server = EmulatorHTTPServer((self.host, self._requested_port), self)
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

    # ----- controls
    def reset(self) -> None:
        """Forgets all CDF state (triggers too), outcomes, faults, the request log and clock moves (tokens stay)."""
        self.backend.reset()
        self._faults.clear()
        self._log.clear()

    def set_outcome(
        self,
        workflow_external_id: str,
        version: str,
        outcome: Outcome = "COMPLETED",
        reason: str | None = None,
        task_duration: float | None = None,
        failed_task: str | None = None,
    ) -> OutcomeSpec:
        """How the next executions of this workflow version end (in every project)."""
        return self.backend.set_outcome(workflow_external_id, version, outcome, reason, task_duration, failed_task)

    def inject_fault(
        self,
        method: str | None = "POST",
        path: str = r"/workflows/.*/run$",
        times: int = 1,
        when: Literal["before", "after"] = "before",
        status: int | None = 503,
        retry_after: float | None = None,
        drop: bool = False,
        delay: float = 0.0,
        body: Any = None,
        content_type: str | None = None,
    ) -> Fault:
        """Disturbs the next `times` requests matching method and path (regex searched in the URL path).

        `body` (a str sent as-is with `content_type`, default HTML; anything else as JSON) replaces the
        error envelope; with when="after" and status=None the real status is kept. See `Fault`.
        """
        return self._faults.add(Fault(method, path, times, when, status, retry_after, drop, delay, body, content_type))

    def faults(self) -> list[Fault]:
        return self._faults.all()

    def clear_faults(self) -> None:
        self._faults.clear()

    def requests(self, method: str | None = None, path: str | None = None) -> list[dict[str, Any]]:
        """Logged API requests, oldest first: method, path, query, headers, body, status, requestId, fault."""
        return self._log.entries(method, path)

    def executions(self, project: str | None = None) -> list[dict[str, Any]]:
        return self.backend.executions(project)

    def sessions(self, project: str | None = None) -> list[dict[str, Any]]:
        return self.backend.sessions(project)

    def expire_tokens(self) -> int:
        """Every issued access token becomes invalid; static-* tokens keep working."""
        return self.backend.expire_tokens()

    # ----- the clock and triggers
    def now(self) -> int:
        """The emulator's time in epoch milliseconds: real time, plus however far tests moved it."""
        return self.backend.now_ms()

    def set_time(self, epoch_ms: int) -> int:
        """Sets the clock (it keeps running from there) without firing triggers; e.g. to start on a known minute."""
        return self.backend.set_time(epoch_ms)

    def advance_time(self, seconds: float) -> list[dict[str, Any]]:
        """Moves the clock forward; every due, unpaused schedule trigger fires once per cron occurrence, and a
        batch trigger's partial batch fires when its batchTimeout ends (see `add_trigger_matches`).

        Each firing starts a real execution of the trigger's workflow version (input: the trigger's input plus
        `{"version": ...}`, metadata: the trigger's) or, if that version is gone, records a failed firing.
        Returns the firings, oldest first: history items (fireTime, externalId, status, ...) plus "project".
        Triggers fire only here and in `add_trigger_matches`: between calls, nothing fires on its own.
        """
        return self.backend.advance_time(seconds)

    def add_trigger_matches(
        self, external_id: str, items: list[dict[str, Any]], project: str | None = None
    ) -> list[dict[str, Any]]:
        """Feeds matches to a dataModeling or recordStream trigger (the emulator has no such APIs to watch).

        Matches queue on the trigger; each full `batchSize` fires at once, a partial batch when `batchTimeout`
        seconds have passed since its first match (during `advance_time`). The execution's input is the
        trigger's input plus `{"version": ..., "items": [the batch]}`. A paused trigger only queues; after a
        resume, the next advance or add fires what is due. `project` may be left out when only one project has
        a trigger of that id. Returns the firings, as `advance_time` does.
        """
        return self.backend.add_trigger_matches(project, external_id, items)

    def upsert_trigger(
        self,
        project: str,
        external_id: str,
        workflow_external_id: str,
        version: str,
        rule: dict[str, Any] | str,
        input: dict[str, Any] | None = None,
        metadata: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """Seeds a trigger (validated as by the API, with a session made for it). A str rule is a UTC cron."""
        if isinstance(rule, str):
            rule = {"triggerType": "schedule", "cronExpression": rule}
        trigger = self.backend.seed_trigger(project, external_id, workflow_external_id, version, rule, input, metadata)
        return trigger.to_json()

    def upsert_workflow_version(
        self, project: str, workflow_external_id: str, version: str, tasks: list[dict[str, Any]] | None = None
    ) -> dict[str, Any]:
        """Seeds a workflow and version; default tasks: one cdf task "task-1"."""
        return self.backend.seed(project, workflow_external_id, version, tasks).to_json()

    # ----- request handling (called by handler threads)
    def _sleep(self, seconds: float) -> None:
        if seconds > 0:
            self._stopping.wait(seconds)

    def _dispatch(
        self,
        method: str,
        path: str,
        query: dict[str, str],
        headers: dict[str, str],
        body: Any,
        raw_auth: str | None,
    ) -> JsonReply:
        for route_method, pattern, handler_name, needs_auth in url_paths:
            match = pattern.match(path)
            if match is None or route_method != method:
                continue
            params = {k: unquote(v) for k, v in match.groupdict().items()}
            req = Request(method, path, params, query, headers, body)
            if needs_auth:
                req.subject = self.backend.authenticate(raw_auth)
            if "project" in params:
                self.backend.touch_project(params["project"])
            if handler_name == "oauth_token" and raw_auth and raw_auth.lower().startswith("basic "):
                req.extra["basic_auth"] = _parse_basic(raw_auth)
            # Under the backend lock so replies are never serialised while a runner changes the execution.
            with self.backend.lock:
                result: JsonReply = getattr(self.responses, handler_name)(req)
            return result
        if any(pattern.match(path) for _, pattern, _, _ in url_paths):
            raise ApiError(f"Method {method} not allowed on {path}", status=405)
        raise NotFound(f"No such endpoint: {method} {path}")


def _parse_basic(header: str) -> tuple[str, str]:
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise OAuthError("invalid_client", "Malformed HTTP Basic credentials", 401) from exc
    client_id, _, secret = decoded.partition(":")
    # RFC 6749 §2.3.1: both parts are form-urlencoded inside the Basic header.
    return unquote(client_id.replace("+", " ")), unquote(secret.replace("+", " "))
