"""A create that started an execution whose wait then ended badly: the plugin hands the engine the execution as
partial state (`ErrorResourceInitFailed`), so the stack records it with its outcome, and the next `up` does what
it does for the dynamic resources (which record nothing): take the execution over while it still runs, else run
the workflow again."""

from __future__ import annotations

import json
from typing import Any

import grpc
from harness import PluginProcess, strip_secrets, wrap_secret
from harness._values import deserialize, serialize
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc, status_pb2

from pulumi_cdf_workflows.emulator import CdfEmulator

from .conftest import CDF_PROJECT, VERSION, WORKFLOW, urn

RUN = urn("WorkflowExecution")
RUN_SECRET = "run-secret-77"


def create_with_status(plugin: PluginProcess, props: dict[str, Any], timeout: float = 0.0) -> tuple[str, Any]:
    """Create as the engine sends it; returns (error message, ErrorResourceInitFailed or None) of a failure."""
    with grpc.insecure_channel(f"127.0.0.1:{plugin.port}") as channel:
        stub = provider_pb2_grpc.ResourceProviderStub(channel)
        properties = serialize(props, keep_secrets=True)
        request = provider_pb2.CreateRequest(urn=RUN, name="run", type=RUN.split("::")[2], properties=properties,
                                             timeout=timeout)  # fmt: skip
        try:
            stub.Create(request, timeout=60)
        except grpc.RpcError as exc:
            details = dict(exc.trailing_metadata() or ()).get("grpc-status-details-bin")
            if details is None:
                return str(exc.details()), None
            status = status_pb2.Status.FromString(details)
            failed = provider_pb2.ErrorResourceInitFailed()
            assert status.details[0].Unpack(failed)
            return str(exc.details()), failed
    raise AssertionError("create succeeded")


def _inputs(plugin: PluginProcess, **extra: Any) -> dict[str, Any]:
    program = {"workflowExternalId": WORKFLOW, "version": 1.0, "input": {"days": 7.0}, "waitForCompletion": True}
    checked = plugin.check(RUN, {}, {**program, **extra})
    assert checked.failures == []
    return checked.inputs


def test_a_run_that_ends_failed_is_recorded_with_its_outcome_and_the_next_up_runs_it_again(
    plugin: PluginProcess, emu: CdfEmulator
) -> None:
    emu.set_outcome(WORKFLOW, VERSION, "FAILED", reason="bad row 17", failed_task="task-1")
    credentials = {"clientId": "run-client", "clientSecret": RUN_SECRET}
    inputs = _inputs(plugin, clientCredentials=wrap_secret(credentials))

    message, failed = create_with_status(plugin, inputs)

    (run,) = emu.executions(CDF_PROJECT)
    assert failed is not None and failed.id == run["id"]
    state = deserialize(failed.properties)
    assert state["status"] == "FAILED" and state["reasonForIncompletion"] == "bad row 17"
    assert state["createFailed"] == "ended unsuccessfully: FAILED"
    assert list(failed.reasons) == [message]
    assert message.startswith(f"Execution {run['id']} of workflow 'wf' version '1'")
    assert "The stack records it as it is (`pulumi refresh` reads it again), so the next `pulumi up` runs" in message
    assert RUN_SECRET not in json.dumps(strip_secrets(state)) and "Traceback" not in message

    refreshed = plugin.read(RUN, run["id"], state, inputs)
    assert refreshed.outs["status"] == "FAILED" and refreshed.outs["createFailed"]

    emu.set_outcome(WORKFLOW, VERSION, "COMPLETED")
    diff = plugin.diff(RUN, run["id"], refreshed.outs, plugin.check(RUN, inputs, inputs).inputs)
    assert (diff.changes, diff.replaces) == ("SOME", ["createFailed"])
    id_, outs = plugin.create(RUN, inputs)
    assert id_ != run["id"] and outs["status"] == "COMPLETED" and "createFailed" not in outs
    assert len(emu.executions(CDF_PROJECT)) == 2


def test_a_wait_that_times_out_records_the_running_execution_and_the_next_up_takes_it_over(
    plugin: PluginProcess, emu: CdfEmulator
) -> None:
    emu.set_outcome(WORKFLOW, VERSION, "COMPLETED", task_duration=60)
    inputs = _inputs(plugin, timeoutSeconds=1.0)

    message, failed = create_with_status(plugin, inputs)

    assert failed is not None
    state = deserialize(failed.properties)
    assert state["status"] == "RUNNING" and state["createFailed"] == "still running: timeoutSeconds"
    assert "after 1 s (timeoutSeconds): it is still RUNNING and was not cancelled. The stack records it" in message
    diff = plugin.diff(RUN, failed.id, state, inputs)
    assert diff.replaces == ["createFailed"] and not diff.delete_before_replace
    id_, _ = plugin.create(RUN, {**inputs, "waitForCompletion": False})  # the replacement's create
    assert id_ == failed.id  # taken over, not run again
    assert [e["id"] for e in emu.executions(CDF_PROJECT)] == [failed.id]


def test_with_cancel_on_delete_a_wait_that_gives_up_cancels_and_the_replacement_deletes_first(
    plugin: PluginProcess, emu: CdfEmulator
) -> None:
    emu.set_outcome(WORKFLOW, VERSION, "COMPLETED", task_duration=60)
    inputs = _inputs(plugin, timeoutSeconds=1.0, cancelOnDelete=True)

    message, failed = create_with_status(plugin, inputs)

    assert failed is not None
    assert "Because cancelOnDelete is set, the provider tried to cancel it: cancelled execution" in message
    assert emu.executions(CDF_PROJECT)[0]["status"] == "TERMINATED"
    diff = plugin.diff(RUN, failed.id, deserialize(failed.properties), inputs)
    assert diff.replaces == ["createFailed"] and diff.delete_before_replace
