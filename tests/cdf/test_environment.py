"""The client takes proxies and the CA bundle from the environment, as requests would, but once per client."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from pulumi_cdf_workflows.cdf import CdfClient, ConnectionSettings
from pulumi_cdf_workflows.cdf.errors import CdfConnectionError
from pulumi_cdf_workflows.emulator import CdfEmulator


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _client(emu: CdfEmulator) -> CdfClient:
    return CdfClient(
        ConnectionSettings(project="p", base_url=emu.base_url, token="static-env", max_retries=0, connect_timeout=2)
    )


@pytest.fixture
def emu() -> Iterator[CdfEmulator]:
    with CdfEmulator() as emulator:
        emulator.upsert_workflow_version("p", "wf", "1")
        yield emulator


def test_a_proxy_in_the_environment_is_used(emu: CdfEmulator, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{_closed_port()}")
    client = _client(emu)

    with pytest.raises(CdfConnectionError):
        client.retrieve_workflow_version("wf", "1")
    assert emu.requests() == []  # it went to the (unreachable) proxy, not to CDF


def test_no_proxy_in_the_environment_is_honoured(emu: CdfEmulator, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{_closed_port()}")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    client = _client(emu)

    assert client.retrieve_workflow_version("wf", "1") is not None
