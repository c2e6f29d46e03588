"""Shared helpers for the emulator tests: a fast emulator, an authenticated HTTP client, a socketless backend."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import pytest
import requests

from pulumi_cdf_workflows.emulator import CdfEmulator
from pulumi_cdf_workflows.emulator.models import CdfBackend, Execution

T = TypeVar("T")
PROJECT = "test-project"
P = "proj"
CHAIN: list[dict[str, Any]] = [
    {"externalId": "extract", "type": "function",
     "parameters": {"function": {"externalId": "fn", "data": "${workflow.input}"}}},
    {"externalId": "load", "type": "transformation", "parameters": {"transformation": {"externalId": "tr"}},
     "dependsOn": [{"externalId": "extract"}]},
    {"externalId": "notify", "type": "cdf",
     "parameters": {"cdfRequest": {"resourcePath": "/x", "method": "POST", "body": {"job": "${load.output.jobId}"}}},
     "dependsOn": [{"externalId": "load"}]},
]  # fmt: skip


def wait_until(probe: Callable[[], T | None], timeout: float = 5.0, what: str = "condition") -> T:
    """Polls `probe` until it returns something truthy; fails the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.01)


def assert_envelope(response: requests.Response, status: int, message_part: str = "") -> dict[str, Any]:
    """The reply is CDF's error envelope with this status and a message containing `message_part`."""
    assert response.status_code == status, response.text
    assert response.headers["X-Request-ID"]
    error: dict[str, Any] = response.json()["error"]
    assert error["code"] == status
    assert message_part in error["message"]
    return error


class Api:
    """requests.Session bound to one emulator project with a bearer token."""

    def __init__(self, emu: CdfEmulator, project: str = PROJECT) -> None:
        self.emu = emu
        self.project = project
        self.http = requests.Session()
        token = self.http.post(
            emu.token_url,
            data={"grant_type": "client_credentials", "client_id": "me", "client_secret": "s3cr3t"},
        ).json()["access_token"]
        self.http.headers["Authorization"] = f"Bearer {token}"

    def url(self, path: str) -> str:
        return f"{self.emu.base_url}/api/v1/projects/{self.project}{path}"

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.http.get(self.url(path), timeout=10, **kwargs)

    def post(self, path: str, json: Any = None, **kwargs: Any) -> requests.Response:
        return self.http.post(self.url(path), json=json, timeout=10, **kwargs)

    def nonce(self) -> str:
        response = self.post("/sessions", {"items": [{"tokenExchange": True}]})
        assert response.status_code == 200, response.text
        nonce: str = response.json()["items"][0]["nonce"]
        return nonce

    def run(self, xid: str = "wf", version: str = "1", **body: Any) -> requests.Response:
        run_body = {"authentication": {"nonce": self.nonce()}, **body}
        return self.post(f"/workflows/{xid}/versions/{version}/run", run_body)

    def execution(self, execution_id: str) -> dict[str, Any]:
        response = self.get(f"/workflows/executions/{execution_id}")
        assert response.status_code == 200, response.text
        data: dict[str, Any] = response.json()
        return data

    def wait_status(self, execution_id: str, *statuses: str, timeout: float = 5.0) -> dict[str, Any]:
        def probe() -> dict[str, Any] | None:
            data = self.execution(execution_id)
            return data if data["status"] in statuses else None

        return wait_until(probe, timeout, f"execution {execution_id} to reach {statuses}")


@pytest.fixture
def emu() -> Iterator[CdfEmulator]:
    with CdfEmulator(task_duration=0.02) as emulator:
        emulator.upsert_workflow_version(PROJECT, "wf", "1")
        yield emulator


@pytest.fixture
def api(emu: CdfEmulator) -> Iterator[Api]:
    client = Api(emu)
    yield client
    client.http.close()


# ----- CdfBackend driven without sockets (the test_models* files)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def backend(clock: FakeClock) -> Iterator[CdfBackend]:
    b = CdfBackend(task_duration=0.01, nonce_ttl=60, token_ttl=100, clock=clock)
    b.seed(P, "wf", "1", CHAIN)
    yield b
    b.shutdown()


def nonce(backend: CdfBackend, project: str = P) -> str:
    return backend.create_session(project, [{"tokenExchange": True}]).nonce


def run(backend: CdfBackend, xid: str = "wf", version: str = "1", **body: Any) -> Execution:
    return backend.run(P, xid, version, {"authentication": {"nonce": nonce(backend)}, **body})


def wait_for(backend: CdfBackend, execution: Execution, *statuses: str) -> dict[str, Any]:
    def probe() -> dict[str, Any] | None:
        with backend.lock:
            data = backend.get_execution(P, execution.id).to_detailed_json()
        return data if data["status"] in statuses else None

    return wait_until(probe, 5, f"status in {statuses}")
