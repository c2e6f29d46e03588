"""Retries under injected faults: safe calls retry; a run is never sent twice unless CDF certainly did not act."""

from __future__ import annotations

import socket
from collections.abc import Callable

import pytest

from pulumi_cdf_workflows.cdf import CdfClient
from pulumi_cdf_workflows.cdf.errors import (
    CdfApiError,
    CdfConnectionError,
    ExecutionMayHaveStartedError,
    RequestOutcomeUnknownError,
)
from pulumi_cdf_workflows.emulator import CdfEmulator

from .conftest import PROJECT, RUN_PATH, WF, Sleeps, start_emulator, static_settings

VERSION_PATH = r"/workflows/wf/versions/1$"


def _statuses(emu: CdfEmulator, method: str, path: str) -> list[int | None]:
    return [r["status"] for r in emu.requests(method, path)]


def _nonce(client: CdfClient) -> str:
    return client.create_session().nonce.get_secret_value()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# ---------------------------------------------------------------- safe calls


def test_429_with_retry_after_is_honoured(emu: CdfEmulator, client: CdfClient, sleeps: Sleeps) -> None:
    emu.inject_fault(method="GET", path=VERSION_PATH, status=429, retry_after=1.5)
    assert client.retrieve_workflow_version(WF, "1") is not None
    assert sleeps == [1.5]
    assert _statuses(emu, "GET", VERSION_PATH) == [429, 200]


def test_503_on_get_is_retried_with_jittered_backoff(emu: CdfEmulator, client: CdfClient, sleeps: Sleeps) -> None:
    emu.inject_fault(method="GET", path=VERSION_PATH, status=503, times=2)
    assert client.retrieve_workflow_version(WF, "1") is not None
    assert _statuses(emu, "GET", VERSION_PATH) == [503, 503, 200]
    assert len(sleeps) == 2 and 0 <= sleeps[0] <= 0.5 and 0 <= sleeps[1] <= 1.0


@pytest.mark.parametrize("status", [502, 504])
def test_other_gateway_errors_on_get_are_retried(
    emu: CdfEmulator, client: CdfClient, sleeps: Sleeps, status: int
) -> None:
    emu.inject_fault(method="GET", path=VERSION_PATH, status=status)
    assert client.retrieve_workflow_version(WF, "1") is not None
    assert len(sleeps) == 1


def test_500_on_get_is_not_retried(emu: CdfEmulator, client: CdfClient, sleeps: Sleeps) -> None:
    emu.inject_fault(method="GET", path=VERSION_PATH, status=500)
    with pytest.raises(CdfApiError) as info:
        client.retrieve_workflow_version(WF, "1")
    assert info.value.status == 500 and sleeps == []


def test_dropped_connection_on_get_is_retried(emu: CdfEmulator, client: CdfClient, sleeps: Sleeps) -> None:
    emu.inject_fault(method="GET", path=VERSION_PATH, status=None, drop=True)
    assert client.retrieve_workflow_version(WF, "1") is not None
    assert len(emu.requests("GET", VERSION_PATH)) == 2 and len(sleeps) == 1


def test_read_timeout_on_get_is_retried(
    emu: CdfEmulator, make_client: Callable[..., CdfClient], sleeps: Sleeps
) -> None:
    client = make_client(read_timeout=0.2)
    emu.inject_fault(method="GET", path=VERSION_PATH, status=None, delay=0.5)
    assert client.retrieve_workflow_version(WF, "1") is not None
    assert len(emu.requests("GET", VERSION_PATH)) == 2 and len(sleeps) == 1


@pytest.mark.parametrize("path", [r"/sessions$", r"/executions/list$"])
def test_posts_that_start_nothing_are_retried(emu: CdfEmulator, client: CdfClient, sleeps: Sleeps, path: str) -> None:
    emu.inject_fault(method="POST", path=path, status=503, when="after")
    client.create_session()
    client.list_executions([WF])
    assert _statuses(emu, "POST", path) == [503, 200]


def test_retries_are_bounded_in_count(emu: CdfEmulator, make_client: Callable[..., CdfClient], sleeps: Sleeps) -> None:
    client = make_client(max_retries=3)
    emu.inject_fault(method="GET", path=VERSION_PATH, status=503, times=10)
    with pytest.raises(CdfApiError) as info:
        client.retrieve_workflow_version(WF, "1")
    assert info.value.status == 503
    assert len(emu.requests("GET", VERSION_PATH)) == 4 and len(sleeps) == 3
    assert f"Retrieving workflow {WF!r} version '1' in project {PROJECT!r}" in str(info.value)


def test_a_retry_after_beyond_the_time_budget_ends_the_retries(
    emu: CdfEmulator, make_client: Callable[..., CdfClient], sleeps: Sleeps
) -> None:
    client = make_client(max_retry_wait=5.0)
    emu.inject_fault(method="GET", path=VERSION_PATH, status=429, retry_after=30)
    with pytest.raises(CdfApiError) as info:
        client.retrieve_workflow_version(WF, "1")
    assert info.value.status == 429 and sleeps == []


def test_connection_refused_exhausts_retries_with_a_connection_error(sleeps: Sleeps) -> None:
    base_url = f"http://127.0.0.1:{_closed_port()}"
    client = CdfClient(static_settings(base_url, max_retries=2), sleep=sleeps)
    with pytest.raises(CdfConnectionError) as info:
        client.retrieve_workflow_version(WF, "1")
    assert base_url in str(info.value) and "after 3 attempts" in str(info.value)
    assert len(sleeps) == 2
    client.close()


# ---------------------------------------------------------------- run: never twice


def test_429_on_run_is_retried_and_starts_one_execution(emu: CdfEmulator, client: CdfClient, sleeps: Sleeps) -> None:
    emu.inject_fault(path=RUN_PATH, status=429, retry_after=0.5)
    execution = client.run(WF, "1")
    assert _statuses(emu, "POST", RUN_PATH) == [429, 202]
    assert [e["id"] for e in emu.executions()] == [execution.id]
    assert sleeps == [0.5]


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_5xx_before_processing_on_run_is_not_resent(
    emu: CdfEmulator, client: CdfClient, sleeps: Sleeps, status: int
) -> None:
    nonce = _nonce(client)
    emu.inject_fault(path=RUN_PATH, status=status, when="before")
    with pytest.raises(ExecutionMayHaveStartedError) as info:
        client.run_execution(WF, "1", nonce=nonce)
    assert len(emu.requests("POST", RUN_PATH)) == 1 and sleeps == []
    assert emu.executions() == []
    assert info.value.status == status
    assert (info.value.workflow_external_id, info.value.version) == (WF, "1")


def test_503_after_processing_on_run_starts_exactly_one_execution(
    emu: CdfEmulator, client: CdfClient, sleeps: Sleeps
) -> None:
    emu.inject_fault(path=RUN_PATH, status=503, when="after")
    with pytest.raises(ExecutionMayHaveStartedError) as info:
        client.run(WF, "1")
    assert len(emu.requests("POST", RUN_PATH)) == 1
    assert len(emu.executions()) == 1
    message = str(info.value)
    assert f"workflow {WF!r} version '1' in project {PROJECT!r}" in message
    assert "may have started" in message and "executions list" in message


def test_dropped_connection_after_run_starts_exactly_one_execution(
    emu: CdfEmulator, client: CdfClient, sleeps: Sleeps
) -> None:
    emu.inject_fault(path=RUN_PATH, status=None, drop=True, when="after")
    with pytest.raises(ExecutionMayHaveStartedError) as info:
        client.run(WF, "1")
    assert len(emu.requests("POST", RUN_PATH)) == 1 and sleeps == []
    assert len(emu.executions()) == 1
    assert "connection was lost" in str(info.value)


def test_read_timeout_on_run_starts_exactly_one_execution(
    emu: CdfEmulator, make_client: Callable[..., CdfClient], sleeps: Sleeps
) -> None:
    client = make_client(read_timeout=0.2)
    emu.inject_fault(path=RUN_PATH, status=None, delay=0.5, when="after")
    with pytest.raises(ExecutionMayHaveStartedError) as info:
        client.run(WF, "1")
    assert len(emu.requests("POST", RUN_PATH)) == 1 and sleeps == []
    assert len(emu.executions()) == 1
    assert "no reply came within 0.2 s" in str(info.value)


def test_run_on_a_refused_connection_is_resent_once_the_server_is_up(sleeps: Sleeps) -> None:
    """The first attempt never reaches a server (connection refused); the resend reaches the emulator
    that the injected sleep starts. That resend carries a nonce this emulator never issued, so it is
    refused with a definite 400 and starts nothing: the point is that it was sent, once."""
    port = _closed_port()
    emulators: list[CdfEmulator] = []

    def start_server(seconds: float) -> None:
        sleeps(seconds)
        if not emulators:
            emulators.append(start_emulator(port=port))

    client = CdfClient(static_settings(f"http://127.0.0.1:{port}"), sleep=start_server)
    try:
        with pytest.raises(CdfApiError) as info:
            client.run_execution(WF, "1", nonce="nonce-from-elsewhere")
        assert info.value.status == 400
        assert len(sleeps) == 1
        [emu] = emulators
        assert len(emu.requests("POST", RUN_PATH)) == 1
        assert emu.executions() == []
    finally:
        client.close()
        for emu in emulators:
            emu.stop()


def test_run_on_a_closed_port_raises_a_connection_error_not_may_have_started(sleeps: Sleeps) -> None:
    client = CdfClient(static_settings(f"http://127.0.0.1:{_closed_port()}", max_retries=1), sleep=sleeps)
    with pytest.raises(CdfConnectionError):
        client.run_execution(WF, "1", nonce="n")
    assert len(sleeps) == 1
    client.close()


# ---------------------------------------------------------------- cancel and retry


def test_503_after_cancel_says_the_cancel_may_have_been_applied(
    emu: CdfEmulator, client: CdfClient, sleeps: Sleeps
) -> None:
    emu.set_outcome(WF, "1", "RUN_UNTIL_CANCELLED")
    execution = client.run(WF, "1")
    emu.inject_fault(path=r"/cancel$", status=503, when="after")
    with pytest.raises(RequestOutcomeUnknownError) as info:
        client.cancel_execution(execution.id)
    assert not isinstance(info.value, ExecutionMayHaveStartedError)
    assert "cancel may have been applied" in str(info.value) and execution.id in str(info.value)
    assert len(emu.requests("POST", r"/cancel$")) == 1 and sleeps == []
    assert client.retrieve_execution(execution.id).status == "TERMINATED"


def test_dropped_retry_says_the_retry_may_have_been_applied(
    emu: CdfEmulator, client: CdfClient, sleeps: Sleeps
) -> None:
    emu.set_outcome(WF, "1", "RUN_UNTIL_CANCELLED")
    execution = client.run(WF, "1")
    client.cancel_execution(execution.id)
    emu.inject_fault(path=r"/retry$", status=None, drop=True, when="after")
    with pytest.raises(RequestOutcomeUnknownError) as info:
        client.retry_execution(execution.id)
    assert "retry may have been applied" in str(info.value)
    assert len(emu.requests("POST", r"/retry$")) == 1 and sleeps == []


def test_429_on_cancel_is_retried(emu: CdfEmulator, client: CdfClient, sleeps: Sleeps) -> None:
    emu.set_outcome(WF, "1", "RUN_UNTIL_CANCELLED")
    execution = client.run(WF, "1")
    emu.inject_fault(path=r"/cancel$", status=429)
    assert client.cancel_execution(execution.id).status == "TERMINATED"
    assert _statuses(emu, "POST", r"/cancel$") == [429, 200]


def test_connect_timeout_on_run_is_retried_as_never_sent(sleeps: Sleeps) -> None:
    with socket.socket() as server:  # never accepts; backlog filled so further connects time out
        server.bind(("127.0.0.1", 0))
        server.listen(0)
        port = server.getsockname()[1]
        fillers = [socket.socket() for _ in range(3)]
        try:
            for filler in fillers:
                filler.setblocking(False)
                filler.connect_ex(("127.0.0.1", port))
            settings = static_settings(f"http://127.0.0.1:{port}", connect_timeout=0.2, max_retries=1)
            client = CdfClient(settings, sleep=sleeps)
            with pytest.raises(CdfConnectionError) as info:
                client.run_execution(WF, "1", nonce="nonce-never-sent")
            client.close()
        finally:
            for filler in fillers:
                filler.close()
    assert "within 0.2 s" in str(info.value) and len(sleeps) == 1
