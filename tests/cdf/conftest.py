"""Fixtures for the client tests: a real emulator on 127.0.0.1 and clients pointed at it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from harness import wait_until
from pydantic import SecretStr

from pulumi_cdf_workflows.cdf import CdfClient, ConnectionSettings
from pulumi_cdf_workflows.cdf.auth import clear_token_cache
from pulumi_cdf_workflows.emulator import CdfEmulator

PROJECT = "test-project"
CLIENT_ID = "pulumi-test-client"
CLIENT_SECRET = "client-s3cret-value-XYZ"
RUN_CLIENT_ID = "run-as-client"
RUN_CLIENT_SECRET = "run-s3cret-value-ABC"
CLIENTS = {CLIENT_ID: CLIENT_SECRET, RUN_CLIENT_ID: RUN_CLIENT_SECRET}
WF = "wf"
RUN_PATH = r"/workflows/[^/]+/versions/[^/]+/run$"
TOKEN_PATH = r"^/oauth2/token$"


class Sleeps(list[float]):
    """An injectable ``sleep`` that records instead of waiting (backoff stays testable and fast)."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture(autouse=True)
def _fresh_token_cache() -> Iterator[None]:
    # The cache is process-wide by design; each test starts from an empty one.
    clear_token_cache()
    yield
    clear_token_cache()


def start_emulator(port: int = 0, token_ttl: float = 3600) -> CdfEmulator:
    emu = CdfEmulator(port=port, clients=CLIENTS, task_duration=0.02, token_ttl=token_ttl).start()
    emu.upsert_workflow_version(PROJECT, WF, "1")
    return emu


@pytest.fixture
def emu() -> Iterator[CdfEmulator]:
    emu = start_emulator()
    try:
        yield emu
    finally:
        emu.stop()


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


def oauth_settings(emu: CdfEmulator, **overrides: Any) -> ConnectionSettings:
    values: dict[str, Any] = {
        "project": PROJECT,
        "base_url": emu.base_url,
        "token_url": emu.token_url,
        "client_id": CLIENT_ID,
        "client_secret": SecretStr(CLIENT_SECRET),
        "read_timeout": 5.0,
        "connect_timeout": 2.0,
    }
    return ConnectionSettings(**(values | overrides))


def static_settings(base_url: str, token: str = "static-test-token", **overrides: Any) -> ConnectionSettings:
    values: dict[str, Any] = {"project": PROJECT, "base_url": base_url, "token": SecretStr(token)}
    return ConnectionSettings(**(values | overrides))


@pytest.fixture
def make_client(emu: CdfEmulator, sleeps: Sleeps) -> Iterator[Callable[..., CdfClient]]:
    """Builds OAuth clients against ``emu`` with settings overrides; closes them afterwards."""
    made: list[CdfClient] = []

    def make(settings: ConnectionSettings | None = None, **overrides: Any) -> CdfClient:
        client = CdfClient(settings or oauth_settings(emu, **overrides), sleep=sleeps)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


@pytest.fixture
def client(make_client: Callable[..., CdfClient]) -> CdfClient:
    return make_client()


def wait_for_status(client: CdfClient, execution_id: str, statuses: set[str], timeout: float = 5.0) -> str:
    def reached() -> str | None:
        status = client.retrieve_execution(execution_id).status
        return status if status in statuses else None

    return wait_until(reached, f"execution {execution_id} to reach {sorted(statuses)}", timeout)
