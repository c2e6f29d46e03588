"""Provider-protocol fixtures: the real `python -m pulumi.dynamic` plugin, driven over gRPC against the emulator."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from harness import PluginProcess, Registration, capture_registrations

from pulumi_cdf_workflows import WorkflowExecution
from pulumi_cdf_workflows.emulator import CdfEmulator
from pulumi_cdf_workflows.lifecycle.connection import FIELDS, READ_TIMEOUT_ENV

CDF_PROJECT = "test-project"
CLIENT_ID = "deploy-client"
CLIENT_SECRET = "deploy-client-secret-5f2a"
WORKFLOW = "wf"
VERSION = "1"
# Any CDF settings in the developer's shell must not leak into the plugin under test.
CLEAN_ENV = {f.env_var: "" for f in FIELDS} | {READ_TIMEOUT_ENV: ""}


@dataclass
class Deployed:
    registration: Registration
    id: str
    outs: dict[str, Any]
    inputs: dict[str, Any]


@dataclass
class Stack:
    """One emulator, one plugin process and helpers that play the engine's part of `pulumi up`."""

    emu: CdfEmulator
    plugin: PluginProcess
    config: dict[str, str]
    env: dict[str, str] = field(default_factory=dict)

    def register(self, name: str = "run", **kwargs: Any) -> Registration:
        kwargs.setdefault("workflow_external_id", WORKFLOW)
        kwargs.setdefault("version", VERSION)

        def program() -> None:
            WorkflowExecution(name, **kwargs)

        return capture_registrations(program, stack="dev")[0]

    def check(self, registration: Registration, olds: dict[str, Any] | None = None) -> dict[str, Any]:
        checked = self.plugin.check(registration.urn, olds or {}, registration.engine_inputs)
        assert checked.failures == [], checked.failures
        return checked.inputs

    def up(self, name: str = "run", **kwargs: Any) -> Deployed:
        registration = self.register(name, **kwargs)
        inputs = self.check(registration)
        id_, outs = self.plugin.create(registration.urn, inputs)
        return Deployed(registration, id_, outs, inputs)

    def executions(self) -> list[dict[str, Any]]:
        return self.emu.executions(CDF_PROJECT)

    def api_requests(self, method: str | None = None, path: str | None = None) -> list[dict[str, Any]]:
        return self.emu.requests(method, path)


def stack_config(emu: CdfEmulator, **extra: str) -> dict[str, str]:
    config = {
        "cdf:project": CDF_PROJECT,
        "cdf:baseUrl": emu.base_url,
        "cdf:tokenUrl": emu.token_url,
        "cdf:clientId": CLIENT_ID,
        "cdf:clientSecret": CLIENT_SECRET,
    }
    config.update(extra)
    return config


@pytest.fixture
def emu() -> Iterator[CdfEmulator]:
    with CdfEmulator(clients={CLIENT_ID: CLIENT_SECRET, "run-client": "run-secret-77"}, task_duration=0.05) as emulator:
        emulator.upsert_workflow_version(CDF_PROJECT, WORKFLOW, VERSION)
        yield emulator


def start_stack(emu: CdfEmulator, config: dict[str, str], env: dict[str, str] | None = None) -> Iterator[Stack]:
    full_env = {**CLEAN_ENV, **(env or {})}
    with PluginProcess(env=full_env) as plugin:
        plugin.configure(config, secret_keys=["cdf:clientSecret", "cdf:token"])
        yield Stack(emu, plugin, config, full_env)


@pytest.fixture
def stack(emu: CdfEmulator) -> Iterator[Stack]:
    yield from start_stack(emu, stack_config(emu))


def delete_at_once(stack: Stack, resources: list[tuple[Registration, str, dict[str, Any]]]) -> list[BaseException]:
    """Sends every delete from a thread of its own, in this order, as the engine would; returns the errors."""
    errors: list[BaseException] = []

    def delete(registration: Registration, id_: str, outs: dict[str, Any]) -> None:
        try:
            stack.plugin.delete(registration.urn, id_, outs)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=delete, args=entry) for entry in resources]
    for thread in threads:
        thread.start()
        time.sleep(0.05)
    for thread in threads:
        thread.join(timeout=110)
    return errors
