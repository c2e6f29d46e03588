"""How the plugin waits, where the dynamic-provider plugin cannot: customTimeouts bound a wait, the engine's Cancel
ends it, 16 waits run at once, progress is logged against the resource, and messages name `cdf-workflows:*`."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent import futures
from typing import Any

import grpc
import pytest
from google.protobuf import empty_pb2
from harness import PluginError, PluginProcess, wait_until
from pulumi.runtime.proto import engine_pb2, engine_pb2_grpc

from pulumi_cdf_workflows.emulator import CdfEmulator

from .conftest import CDF_PROJECT, CLEAN_ENV, PLUGIN, VERSION, WORKFLOW, provider_config, start_plugin, urn

RUN = urn("WorkflowExecution")


def _inputs(plugin: PluginProcess, **extra: Any) -> dict[str, Any]:
    program = {"workflowExternalId": WORKFLOW, "version": 1.0, "waitForCompletion": True, **extra}
    checked = plugin.check(RUN, {}, program)
    assert checked.failures == []
    return checked.inputs


def test_custom_timeouts_bound_the_wait_when_smaller_than_timeout_seconds(
    plugin: PluginProcess, emu: CdfEmulator
) -> None:
    emu.set_outcome(WORKFLOW, VERSION, "COMPLETED", task_duration=60)
    started = time.monotonic()

    with pytest.raises(PluginError) as gave_up:
        plugin.create(RUN, _inputs(plugin, timeoutSeconds=600.0), timeout=2.0)

    assert time.monotonic() - started < 10
    assert "after 2 s (the resource's customTimeouts (create)): it is still RUNNING" in gave_up.value.details
    assert gave_up.value.details.endswith("or raise the resource's customTimeouts (create).")


def test_cancel_ends_a_wait_at_once_and_the_stack_records_the_running_execution(
    plugin: PluginProcess, emu: CdfEmulator
) -> None:
    emu.set_outcome(WORKFLOW, VERSION, "COMPLETED", task_duration=60)
    inputs = _inputs(plugin)
    with futures.ThreadPoolExecutor(1) as pool:
        creating = pool.submit(plugin.create, RUN, inputs)
        wait_until(lambda: emu.executions(CDF_PROJECT), "the execution to start")
        time.sleep(0.5)
        cancelled = time.monotonic()
        plugin.cancel()
        id_, outs = creating.result(timeout=10)

    assert time.monotonic() - cancelled < 4  # the wait's pause ends on Cancel, not at its next read
    assert outs["status"] == "RUNNING" and emu.executions(CDF_PROJECT)[0]["status"] == "RUNNING"
    assert f"stopped waiting for execution {id_} because the deploy was cancelled" in plugin.stderr_text()


def test_sixteen_waits_run_at_once(plugin: PluginProcess, emu: CdfEmulator) -> None:
    emu.set_outcome(WORKFLOW, VERSION, "COMPLETED", task_duration=3)
    inputs = _inputs(plugin)
    most = 0

    def count_running() -> None:
        nonlocal most
        while not done.is_set():
            most = max(most, sum(e["status"] == "RUNNING" for e in emu.executions(CDF_PROJECT)))
            time.sleep(0.1)

    done = threading.Event()
    counter = threading.Thread(target=count_running)
    counter.start()
    started = time.monotonic()
    try:
        with futures.ThreadPoolExecutor(16) as pool:
            created = list(pool.map(lambda i: plugin.create(urn("WorkflowExecution", f"run-{i}"), inputs), range(16)))
    finally:
        done.set()
        counter.join()

    # Four at a time (the dynamic-provider plugin) would take at least 4 x 3 s.
    assert time.monotonic() - started < 10
    assert most == 16
    assert {outs["status"] for _, outs in created} == {"COMPLETED"}


class _Engine(engine_pb2_grpc.EngineServicer):
    def __init__(self) -> None:
        self.logged: list[Any] = []

    def Log(self, request: Any, context: Any) -> Any:
        self.logged.append(request)
        return empty_pb2.Empty()


@pytest.fixture
def engine() -> Iterator[tuple[_Engine, str]]:
    server = grpc.server(futures.ThreadPoolExecutor(4))
    servicer = _Engine()
    engine_pb2_grpc.add_EngineServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    yield servicer, f"127.0.0.1:{port}"
    server.stop(None)


def test_progress_is_logged_against_the_resource(emu: CdfEmulator, engine: tuple[_Engine, str]) -> None:
    servicer, address = engine
    plugin = PluginProcess(env=CLEAN_ENV, command=[str(PLUGIN), address], send_secrets=True)
    plugin.start()
    try:
        plugin.configure(provider_config(emu), secret_keys=["clientSecret"])
        id_, _ = plugin.create(RUN, _inputs(plugin))
    finally:
        plugin.stop()

    lines = [(r.urn, r.severity, r.message) for r in servicer.logged]
    assert (RUN, engine_pb2.INFO, f"started execution {id_} (RUNNING)") in lines
    assert any(m.startswith(f"execution {id_} is COMPLETED after") for u, _, m in lines if u == RUN)
    assert "started execution" not in plugin.stderr_text()  # not twice


def test_a_missing_setting_names_the_plugins_config_namespace() -> None:
    plugin = start_plugin({})
    try:
        checked = plugin.check(RUN, {}, {"workflowExternalId": WORKFLOW, "version": "1"})
    finally:
        plugin.stop()

    (failure,) = [reason for prop, reason in checked.failures if prop == "connection"]
    assert "`pulumi config set cdf-workflows:project <value>`" in failure
    assert "--secret, or the environment variable IDP_CLIENT_SECRET" in failure
    assert "cdf:" not in failure.replace("cdf-workflows:", "")
