"""The provider plugin `pulumi-resource-cdf-workflows`, started from the virtualenv's console script and driven
over gRPC as the engine drives it: camelCase properties, secrets wrapped, config as a default provider gets it."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from harness import PluginProcess

from pulumi_cdf_workflows.emulator import CdfEmulator
from pulumi_cdf_workflows.lifecycle.connection import FIELDS, READ_TIMEOUT_ENV

PLUGIN = Path(sys.executable).parent / "pulumi-resource-cdf-workflows"
CDF_PROJECT = "test-project"
CLIENT_ID = "deploy-client"
CLIENT_SECRET = "deploy-client-secret-5f2a"
WORKFLOW = "wf"
VERSION = "1"
# Any CDF settings in the developer's shell must not leak into the plugin under test.
CLEAN_ENV = {f.env_var: "" for f in FIELDS} | {READ_TIMEOUT_ENV: ""}


def urn(resource: str, name: str = "run") -> str:
    return f"urn:pulumi:dev::proj::cdf-workflows:index:{resource}::{name}"


def provider_config(emu: CdfEmulator) -> dict[str, str]:
    """Stack config `cdf-workflows:<key>` as the engine hands it to the default provider: without the namespace."""
    return {
        "project": CDF_PROJECT,
        "baseUrl": emu.base_url,
        "tokenUrl": emu.token_url,
        "clientId": CLIENT_ID,
        "clientSecret": CLIENT_SECRET,
    }


def start_plugin(config: dict[str, Any], env: dict[str, str] | None = None) -> PluginProcess:
    plugin = PluginProcess(
        env={**CLEAN_ENV, **(env or {})},
        command=[str(PLUGIN), "127.0.0.1:1"],  # the engine's address: this increment calls no engine
        send_secrets=True,
    )
    plugin.start()
    plugin.configure(config, secret_keys=["clientSecret", "token"])
    return plugin


@pytest.fixture
def emu() -> Iterator[CdfEmulator]:
    with CdfEmulator(clients={CLIENT_ID: CLIENT_SECRET, "run-client": "run-secret-77"}, task_duration=0.05) as emulator:
        emulator.upsert_workflow_version(CDF_PROJECT, WORKFLOW, VERSION)
        yield emulator


@pytest.fixture
def plugin(emu: CdfEmulator) -> Iterator[PluginProcess]:
    started = start_plugin(provider_config(emu))
    try:
        yield started
    finally:
        started.stop()
