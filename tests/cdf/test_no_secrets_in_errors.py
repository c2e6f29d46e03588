"""No error the client raises ever contains a secret, a token or a nonce, on any error path."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest
from pydantic import SecretStr

from pulumi_cdf_workflows.cdf import CdfClient, CdfClientCredentials, ConnectionSettings
from pulumi_cdf_workflows.cdf import auth as auth_module
from pulumi_cdf_workflows.cdf.errors import CdfError
from pulumi_cdf_workflows.emulator import CdfEmulator

from .conftest import (
    CLIENT_SECRET,
    RUN_CLIENT_ID,
    RUN_CLIENT_SECRET,
    RUN_PATH,
    WF,
    Sleeps,
    oauth_settings,
    static_settings,
    wait_for_status,
)

STATIC_TOKEN = "static-t0ken-that-must-not-leak"
BAD_SECRET = "wr0ng-secret-that-must-not-leak"
EXPLICIT_NONCE = "explicit-n0nce-that-must-not-leak"


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _collect(errors: list[CdfError], call: Callable[[], Any]) -> None:
    with pytest.raises(CdfError) as info:
        call()
    errors.append(info.value)


def _texts(error: CdfError) -> list[str]:
    return [str(error), repr(error), str(error.cdf_message), repr(error.args), json.dumps(error.missing)]


def _assert_clean(errors: list[CdfError], secrets: set[str]) -> None:
    secrets = {s for s in secrets if s}
    assert secrets, "the test must know what to look for"
    for error in errors:
        for text in _texts(error):
            leaked = [s for s in secrets if s in text]
            assert not leaked, f"{type(error).__name__} leaks {leaked}: {text}"


def test_no_error_path_leaks_a_secret_token_or_nonce(emu: CdfEmulator, sleeps: Sleeps) -> None:
    errors: list[CdfError] = []
    client = CdfClient(oauth_settings(emu, read_timeout=0.3, max_retries=1), sleep=sleeps)
    static = CdfClient(static_settings(emu.base_url, token=STATIC_TOKEN, max_retries=1), sleep=sleeps)
    bad_static = CdfClient(static_settings(emu.base_url, token="bad-" + STATIC_TOKEN), sleep=sleeps)
    bad_oauth = CdfClient(oauth_settings(emu, client_secret=SecretStr(BAD_SECRET)), sleep=sleeps)
    no_idp = CdfClient(
        oauth_settings(emu, token_url=f"http://127.0.0.1:{_closed_port()}/token", max_retries=1), sleep=sleeps
    )
    bad_run_as = CdfClientCredentials(client_id=RUN_CLIENT_ID, client_secret=SecretStr(BAD_SECRET))

    # Token endpoint: refused credentials, unreachable, persistently failing.
    _collect(errors, lambda: bad_oauth.retrieve_workflow_version(WF, "1"))
    _collect(errors, lambda: no_idp.retrieve_workflow_version(WF, "1"))
    emu.inject_fault(path=r"^/oauth2/token$", status=503, times=5)
    _collect(errors, lambda: client.retrieve_workflow_version(WF, "1"))
    emu.clear_faults()
    # API auth: static token refused; OAuth token refused even after renewal.
    _collect(errors, lambda: bad_static.retrieve_workflow_version(WF, "1"))
    emu.inject_fault(method="GET", path=r"/versions/1$", status=401, times=2)
    _collect(errors, lambda: client.retrieve_workflow_version(WF, "1"))
    # API errors: unknown version, bad nonce, malformed and unknown ids, bad session credentials, conflicts.
    _collect(errors, lambda: client.run(WF, "404"))
    _collect(errors, lambda: static.run(WF, "404", nonce=EXPLICIT_NONCE))
    _collect(errors, lambda: client.run_execution(WF, "1", nonce=EXPLICIT_NONCE))
    _collect(errors, lambda: client.retrieve_execution("not-a-uuid"))
    _collect(errors, lambda: client.retrieve_execution("00000000-0000-4000-8000-000000000000"))
    _collect(errors, lambda: client.create_session(bad_run_as))
    _collect(errors, lambda: client.run(WF, "1", client_credentials=bad_run_as))
    finished = client.run(WF, "1")
    wait_for_status(client, finished.id, {"COMPLETED"})
    _collect(errors, lambda: client.cancel_execution(finished.id))
    # Unknown outcomes: 5xx, dropped connection and read timeout on run, retry and cancel.
    emu.inject_fault(path=RUN_PATH, status=503, when="after")
    _collect(errors, lambda: client.run(WF, "1"))
    emu.inject_fault(path=RUN_PATH, status=None, drop=True, when="after")
    _collect(errors, lambda: static.run(WF, "1"))
    emu.inject_fault(path=RUN_PATH, status=None, delay=0.6, when="after")
    _collect(errors, lambda: client.run(WF, "1"))
    emu.inject_fault(path=RUN_PATH, status=429, times=5)
    _collect(errors, lambda: client.run(WF, "1"))
    emu.inject_fault(path=r"/retry$", status=502, when="after")
    _collect(errors, lambda: client.retry_execution(finished.id))
    emu.inject_fault(path=r"/cancel$", status=None, drop=True)
    _collect(errors, lambda: client.cancel_execution(finished.id))
    # Unreachable CDF, and a body that is not JSON.
    unreachable = CdfClient(static_settings(f"http://127.0.0.1:{_closed_port()}", token=STATIC_TOKEN, max_retries=0))
    _collect(errors, lambda: unreachable.run_execution(WF, "1", nonce=EXPLICIT_NONCE))
    _collect(errors, lambda: client.run(WF, "1", input={"x": float("nan")}))

    assert len(errors) == 21
    # The request log redacts nonces; the emulator's own sessions know them.
    nonces = set(emu.backend._nonces) | {EXPLICIT_NONCE}
    assert len(nonces) > 3
    tokens = {t.access_token for t in auth_module._cache.values()}
    assert tokens
    _assert_clean(errors, {CLIENT_SECRET, RUN_CLIENT_SECRET, BAD_SECRET, STATIC_TOKEN} | nonces | tokens)
    for c in (client, static, bad_static, bad_oauth, no_idp, unreachable):
        c.close()


class _EchoingServer(BaseHTTPRequestHandler):
    """A careless server that quotes the whole request (body and Authorization) in its error message."""

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
        if self.path == "/token":
            reply: dict[str, Any] = {"error": "invalid_client", "error_description": f"bad request: {body}"}
            status = 401
        else:
            message = f"cannot use {body} with {self.headers.get('Authorization')}"
            reply = {"error": {"code": 400, "message": message, "missing": [{"echo": body}]}}
            status = 400
        data = json.dumps(reply).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def echoing_url() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), _EchoingServer)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_secrets_echoed_by_a_server_are_redacted(echoing_url: str, sleeps: Sleeps) -> None:
    errors: list[CdfError] = []
    static = CdfClient(static_settings(echoing_url, token=STATIC_TOKEN), sleep=sleeps)
    run_as = CdfClientCredentials(client_id="someone", client_secret=SecretStr(RUN_CLIENT_SECRET))
    _collect(errors, lambda: static.run_execution(WF, "1", nonce=EXPLICIT_NONCE))
    _collect(errors, lambda: static.create_session(run_as))
    oauth_settings = ConnectionSettings(
        project="p", base_url=echoing_url, token_url=echoing_url + "/token", client_id="c", client_secret=CLIENT_SECRET
    )
    oauth = CdfClient(oauth_settings, sleep=sleeps)
    _collect(errors, lambda: oauth.create_session())
    assert "bad request" in str(errors[2]) and "***" in str(errors[2])
    assert "cannot use" in str(errors[0]) and "***" in str(errors[0])
    _assert_clean(errors, {STATIC_TOKEN, EXPLICIT_NONCE, RUN_CLIENT_SECRET, CLIENT_SECRET})
    static.close()
    oauth.close()
