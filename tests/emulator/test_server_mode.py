"""Server mode (`python -m pulumi_cdf_workflows.emulator`) and the pytest plugin fixture."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator

import pytest
import requests

from pulumi_cdf_workflows.emulator import CdfEmulator


@pytest.fixture
def server() -> Iterator[subprocess.Popen[str]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "pulumi_cdf_workflows.emulator", "--port", "0", "--client", "ci:hunter2",
         "--task-duration", "0.01"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    yield process
    if process.poll() is None:
        process.kill()
        process.wait(5)


def test_server_prints_url_serves_and_stops_on_sigterm(server: subprocess.Popen[str]) -> None:
    assert server.stdout is not None
    base_url = server.stdout.readline().strip()
    assert base_url.startswith("http://127.0.0.1:")
    token_url = base_url + "/oauth2/token"
    good = {"grant_type": "client_credentials", "client_id": "ci", "client_secret": "hunter2"}
    assert requests.post(token_url, data=good, timeout=5).status_code == 200
    bad = {**good, "client_secret": "nope"}
    assert requests.post(token_url, data=bad, timeout=5).status_code == 401
    server.send_signal(signal.SIGTERM)
    assert server.wait(10) == 0


def test_server_stops_on_sigint(server: subprocess.Popen[str]) -> None:
    assert server.stdout is not None
    server.stdout.readline()
    server.send_signal(signal.SIGINT)
    assert server.wait(10) == 0


def test_plugin_fixture_yields_a_started_emulator(cdf_emulator: CdfEmulator) -> None:
    form = {"grant_type": "client_credentials", "client_id": "a", "client_secret": "b"}
    assert requests.post(cdf_emulator.token_url, data=form, timeout=5).status_code == 200
    assert cdf_emulator.requests() and cdf_emulator.base_url.startswith("http://127.0.0.1:")
