"""The HTTP side of the emulator: a threading server on loopback and the handler that reads each request,
applies injected faults, logs it, hands it to the API or the controls (a `Site`) and writes the reply.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import socket
import threading
import time
import uuid
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from pulumi_cdf_workflows.emulator.exceptions import ApiError, BadRequest, OAuthError
from pulumi_cdf_workflows.emulator.faults import JSON_CONTENT_TYPE, Fault, FaultTable, RequestLog, redact
from pulumi_cdf_workflows.emulator.responses import JsonReply, error_reply, parse_json
from pulumi_cdf_workflows.emulator.urls import CONTROL_PREFIX


@dataclass(frozen=True)
class Site:
    """What the server serves: the API (method, path, query, headers, body, Authorization) and the test controls
    (method, path, query, body), with the faults and the request log that only API requests go through."""

    api: Callable[[str, str, dict[str, str], dict[str, str], Any, str | None], JsonReply]
    control: Callable[[str, str, dict[str, str], Any], JsonReply]
    faults: FaultTable
    log: RequestLog
    sleep: Callable[[float], None]  # a fault's delay; cut short when the server stops


def _format_retry_after(seconds: float) -> str:
    return str(int(seconds)) if float(seconds).is_integer() else f"{seconds:g}"


class EmulatorHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], site: Site) -> None:
        self.site = site
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
    server: EmulatorHTTPServer

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
        site = self.server.site
        request_id = str(uuid.uuid4())
        url = urlsplit(self.path)
        path, query = url.path, dict(parse_qsl(url.query, keep_blank_values=True))
        headers = {k.lower(): v for k, v in self.headers.items()}
        body: Any = None
        body_error: ApiError | None = None
        try:
            body = self._parse_body(path, self._read_body())
        except ApiError as exc:
            body_error = exc
        except (ValueError, OSError):
            body_error = BadRequest("Could not read the request body")

        if path.startswith(CONTROL_PREFIX):
            try:
                if body_error is not None:
                    raise body_error
                reply = site.control(method, path, query, body)
            except ApiError as exc:
                reply = error_reply(exc)
            self._send(reply, request_id)
            return

        entry = site.log.record(
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
        fault = site.faults.take(method, path)
        if fault is not None:
            # A test-chosen reply body may hold secrets too (a nonce, a token).
            site.log.update(entry, fault=redact(fault.to_json()))
        if fault is not None and fault.when == "before":
            site.sleep(fault.delay)
            if self._apply_fault(fault, entry, request_id, None):
                return

        try:
            if body_error is not None:
                raise body_error
            reply = site.api(method, path, query, headers, body, self.headers.get("Authorization"))
        except (ApiError, OAuthError) as exc:
            reply = error_reply(exc)
        except Exception as exc:  # a bug in the emulator must still answer in CDF's shape
            reply = error_reply(ApiError(f"Emulator internal error: {type(exc).__name__}: {exc}", status=500))

        if fault is not None and fault.when == "after":
            site.sleep(fault.delay)
            if self._apply_fault(fault, entry, request_id, reply[0], reply[1]):
                return
        site.log.update(entry, status=reply[0])
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
        log = self.server.site.log
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
