"""Shared helpers for the emulator tests: a fast emulator, an authenticated HTTP client, and a socketless backend
whose tasks end only when a test moves its clock. What a real thread does by itself (the scheduler ending tasks
at real speed, a server process) is waited for with the suite's one polling helper, `harness.wait_until`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
from harness import wait_until

from pulumi_cdf_workflows.emulator import CdfEmulator
from pulumi_cdf_workflows.emulator.backend import CdfBackend
from pulumi_cdf_workflows.emulator.definitions import validate_definition
from pulumi_cdf_workflows.emulator.models import Execution, WorkflowVersion

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


def assert_envelope(response: requests.Response, status: int, message_part: str = "") -> dict[str, Any]:
    """The reply is CDF's error envelope with this status and a message containing `message_part`."""
    assert response.status_code == status, response.text
    assert response.headers["X-Request-ID"]
    error: dict[str, Any] = response.json()["error"]
    assert error["code"] == status
    assert message_part in error["message"]
    return error


def grant(acl: str, action: str, scope: dict[str, Any] | None = None, projects: list[str] | None = None) -> Any:
    """One CDF capability (default: scope all, in all projects)."""
    project_scope: dict[str, Any] = {"allProjects": {}} if projects is None else {"projects": projects}
    return {acl: {"actions": [action], "scope": scope or {"all": {}}}, "projectScope": project_scope}


def in_data_set(data_set: int) -> dict[str, Any]:
    """The action scope of one data set."""
    return {"datasetScope": {"ids": [data_set]}}


class Api:
    """requests.Session bound to one emulator project with a bearer token."""

    def __init__(self, emu: CdfEmulator, project: str = PROJECT, client_id: str = "me") -> None:
        self.emu = emu
        self.project = project
        self.http = requests.Session()
        token = self.http.post(
            emu.token_url,
            data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": "s3cr3t"},
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

        return wait_until(probe, f"execution {execution_id} to reach {statuses}", timeout)


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


# ----- CdfBackend driven without sockets (the test_backend* files): no scheduler thread runs, so tasks end only
# ----- when a test moves the clock (`backend.scheduler.advance`)


class FakeClock:
    """The clock that token and nonce lifetimes count on (seconds)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def backend(clock: FakeClock) -> CdfBackend:
    b = CdfBackend(task_duration=0.01, nonce_ttl=60, token_ttl=100, ttl_clock=clock)
    seed(b, "wf", "1", CHAIN)
    return b


def seed(backend: CdfBackend, xid: str, version: str, tasks: list[dict[str, Any]] | None = None) -> WorkflowVersion:
    """A version validated as the API would; default: one cdf task."""
    if tasks is None:
        tasks = [
            {
                "externalId": "task-1",
                "type": "cdf",
                "parameters": {"cdfRequest": {"resourcePath": "/x", "method": "GET"}},
            }
        ]
    description, stored = validate_definition({"tasks": tasks})
    return backend.workflows.upsert_version(P, xid, version, description, stored)


def nonce(backend: CdfBackend, project: str = P) -> str:
    return backend.sessions.create(project, "TOKEN_EXCHANGE").nonce


def run(
    backend: CdfBackend,
    xid: str = "wf",
    version: str = "1",
    input: dict[str, Any] | None = None,
    metadata: dict[str, str] | None = None,
) -> Execution:
    return backend.executions.run(P, xid, version, nonce(backend), input, metadata or {})


def after(backend: CdfBackend, seconds: float, execution: Execution) -> dict[str, Any]:
    """The execution as the API shows it once the clock has moved `seconds` on."""
    backend.scheduler.advance(seconds)
    return backend.executions.get(P, execution.id).to_detailed_json()
