"""The HTTP server and `CdfEmulator`, the library-mode entry point."""

from __future__ import annotations

import base64
import binascii
import contextlib
import gzip
import json
import socket
import threading
import time
import uuid
import zlib
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Literal
from urllib.parse import parse_qsl, unquote, urlsplit

from pulumi_cdf_workflows.emulator.controls import PREFIX, handle_control
from pulumi_cdf_workflows.emulator.exceptions import BadRequest, CdfError, NotFound, OAuthError
from pulumi_cdf_workflows.emulator.faults import JSON_CONTENT_TYPE, Fault, FaultTable, RequestLog, redact
from pulumi_cdf_workflows.emulator.models import CdfBackend, Outcome, OutcomeSpec
from pulumi_cdf_workflows.emulator.responses import CdfResponses, JsonReply, Request, error_reply, parse_json
from pulumi_cdf_workflows.emulator.urls import url_paths


class CdfEmulator:
    """A local CDF (workflows, sessions, OAuth token) on a loopback port. Any project name works.

    Example::

        with CdfEmulator(clients={"my-id": "my-secret"}) as emu:
            emu.upsert_workflow_version("my-project", "wf", "1")
            emu.set_outcome("wf", "1", "FAILED", reason="bad input")
            # point a CogniteClient or CdfClient at emu.base_url, with token_url=emu.token_url

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
        self._server: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ----- lifecycle
    def start(self) -> CdfEmulator:
        if self._server is not None:
            return self
        self._stopping.clear()
        self.backend.resume()
        self._server = _HTTPServer((self.host, self._requested_port), self)
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
        """Forgets all CDF state, outcomes, faults and the request log (issued tokens stay valid)."""
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
            raise CdfError(f"Method {method} not allowed on {path}", status=405)
        raise NotFound(f"No such endpoint: {method} {path}")


def _parse_basic(header: str) -> tuple[str, str]:
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise OAuthError("invalid_client", "Malformed HTTP Basic credentials", 401) from exc
    client_id, _, secret = decoded.partition(":")
    # RFC 6749 §2.3.1: both parts are form-urlencoded inside the Basic header.
    return unquote(client_id.replace("+", " ")), unquote(secret.replace("+", " "))


def _format_retry_after(seconds: float) -> str:
    return str(int(seconds)) if float(seconds).is_integer() else f"{seconds:g}"


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], emulator: CdfEmulator) -> None:
        self.emulator = emulator
        self._connections: set[socket.socket] = set()
        self._conn_lock = threading.Lock()
        super().__init__(address, _Handler)

    def track(self, conn: socket.socket, add: bool) -> None:
        with self._conn_lock:
            if add:
                self._connections.add(conn)
            else:
                self._connections.discard(conn)

    def close_connections(self) -> None:
        # Keep-alive handler threads would otherwise keep serving pooled client connections after stop().
        with self._conn_lock:
            connections = list(self._connections)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # client went away (or we dropped it on purpose); nothing useful to print


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _HTTPServer

    def setup(self) -> None:
        super().setup()
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.track(self.connection, True)

    def finish(self) -> None:
        self.server.track(self.connection, False)
        with contextlib.suppress(OSError):
            super().finish()

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_PATCH(self) -> None:
        self._handle("PATCH")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            raw = b"".join(chunks)
        else:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        encoding = self.headers.get("Content-Encoding", "").lower()
        if encoding == "gzip" and raw:
            try:
                return gzip.decompress(raw)
            except (OSError, EOFError, zlib.error) as exc:
                raise BadRequest("Request body is not valid gzip") from exc
        return raw

    def _parse_body(self, path: str, raw: bytes) -> Any:
        content_type = self.headers.get("Content-Type", "")
        if path == "/oauth2/token" and "json" not in content_type:
            return dict(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))
        return parse_json(raw)

    def _handle(self, method: str) -> None:
        emu = self.server.emulator
        request_id = str(uuid.uuid4())
        url = urlsplit(self.path)
        path, query = url.path, dict(parse_qsl(url.query, keep_blank_values=True))
        headers = {k.lower(): v for k, v in self.headers.items()}
        body: Any = None
        body_error: CdfError | None = None
        try:
            body = self._parse_body(path, self._read_body())
        except CdfError as exc:
            body_error = exc
        except (ValueError, OSError):
            body_error = BadRequest("Could not read the request body")

        if path.startswith(PREFIX):
            try:
                if body_error is not None:
                    raise body_error
                reply = handle_control(emu, method, path, query, body)
            except CdfError as exc:
                reply = error_reply(exc)
            self._send(reply, request_id)
            return

        entry = emu._log.record(
            {
                "method": method,
                "path": path,
                "query": redact(query),
                "headers": redact(headers),
                "body": redact(body),
                "status": None,
                "requestId": request_id,
                "fault": None,
                "dropped": False,
                "time": time.time(),
            }
        )
        fault = emu._faults.take(method, path)
        if fault is not None:
            # A test-chosen reply body may hold secrets too (a nonce, a token).
            emu._log.update(entry, fault=redact(fault.to_json()))
        if fault is not None and fault.when == "before":
            emu._sleep(fault.delay)
            if self._apply_fault(fault, entry, request_id, None):
                return

        try:
            if body_error is not None:
                raise body_error
            reply = emu._dispatch(method, path, query, headers, body, self.headers.get("Authorization"))
        except (CdfError, OAuthError) as exc:
            reply = error_reply(exc)
        except Exception as exc:  # a bug in the emulator must still answer in CDF's shape
            reply = error_reply(CdfError(f"Emulator internal error: {type(exc).__name__}: {exc}", status=500))

        if fault is not None and fault.when == "after":
            emu._sleep(fault.delay)
            if self._apply_fault(fault, entry, request_id, reply[0], reply[1]):
                return
        emu._log.update(entry, status=reply[0])
        self._send(reply, request_id)

    def _apply_fault(
        self,
        fault: Fault,
        entry: dict[str, Any],
        request_id: str,
        real_status: int | None,
        real_body: Any = None,
    ) -> bool:
        """Drops or answers with the fault's status and body; False when the fault was only a delay.

        `real_status` and `real_body` are the processed reply's (when="after"): the status is kept when the
        fault has none, and a `body` function is given the real body.
        """
        log = self.server.emulator._log
        if fault.drop:
            log.update(entry, status=None, dropped=True)
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return True
        if not fault.replaces_reply:
            return False
        status = fault.status if fault.status is not None else real_status
        if status is None:  # Fault refuses a body-only fault before processing; never guess a status
            raise RuntimeError("A fault replacing the reply before processing needs a status")
        headers = {}
        if fault.retry_after is not None:
            headers["Retry-After"] = _format_retry_after(fault.retry_after)
        log.update(entry, status=status)
        custom = fault.encoded_body(real_body)
        if custom is None:
            envelope = {"error": {"code": status, "message": f"Injected fault: HTTP {status}"}}
            self._send((status, envelope, headers), request_id)
        else:
            data, content_type = custom
            self._send_bytes(status, data, content_type, headers, request_id)
        return True

    def _send(self, reply: JsonReply, request_id: str) -> None:
        status, body, headers = reply
        self._send_bytes(status, json.dumps(body).encode("utf-8"), JSON_CONTENT_TYPE, headers, request_id)

    def _send_bytes(
        self, status: int, data: bytes, content_type: str, headers: dict[str, str], request_id: str
    ) -> None:
        """Sends `data` as-is; faults use it for bodies that are not JSON (a proxy's HTML page)."""
        try:
            phrase = HTTPStatus(status).phrase
        except ValueError:
            phrase = "Unknown"
        lines = [
            f"{self.protocol_version} {status} {phrase}",
            f"Date: {self.date_time_string()}",
            f"Content-Type: {content_type}",
            f"Content-Length: {len(data)}",
            f"X-Request-ID: {request_id}",
            *(f"{name}: {value}" for name, value in headers.items()),
        ]
        if self.close_connection:
            lines.append("Connection: close")
        # One write for head and body: two small writes meet Nagle + delayed ACK (40 ms per request).
        try:
            self.wfile.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + data)
            self.wfile.flush()
        except OSError:
            self.close_connection = True
