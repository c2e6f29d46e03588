"""The provider plugin `pulumi-resource-cdf-workflows`, started from the virtualenv's console script and driven
over gRPC as the engine drives it: camelCase properties, secrets wrapped, config as a default provider gets it."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from harness import PluginProcess

# The same emulator and names as the dynamic provider's tests: the two faces are tested against one setup.
from provider.conftest import CDF_PROJECT, CLEAN_ENV, CLIENT_ID, CLIENT_SECRET, VERSION, WORKFLOW, emu

from pulumi_cdf_workflows.emulator import CdfEmulator

PLUGIN = Path(sys.executable).parent / "pulumi-resource-cdf-workflows"


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
def plugin(emu: CdfEmulator) -> Iterator[PluginProcess]:
    started = start_plugin(provider_config(emu))
    try:
        yield started
    finally:
        started.stop()


__all__ = ["CDF_PROJECT", "CLEAN_ENV", "CLIENT_ID", "CLIENT_SECRET", "VERSION", "WORKFLOW", "emu"]
