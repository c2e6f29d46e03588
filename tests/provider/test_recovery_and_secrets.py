"""A lost reply never runs a workflow twice; secrets never reach outputs, state, errors or stderr."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from harness import PluginError

from pulumi_cdf_workflows import CdfConnection, ClientCredentials
from pulumi_cdf_workflows.emulator import CdfEmulator

from .conftest import CLIENT_SECRET, Stack, stack_config, start_stack

RUN_PATH = r"/run$"


def _create_fails(stack: Stack, **kwargs: Any) -> str:
    registration = stack.register(**kwargs)
    inputs = stack.check(registration)
    with pytest.raises(PluginError) as caught:
        stack.plugin.create(registration.urn, inputs)
    return caught.value.details


@pytest.mark.parametrize(
    "fault",
    [
        {"when": "after", "drop": True},  # CDF started it, the connection dropped before the reply
        {"when": "after", "status": 503},  # CDF started it, a proxy answered 503
        {"when": "after", "status": 502},
    ],
)
def test_a_lost_reply_is_recovered_by_its_marker_without_a_second_run(stack: Stack, fault: dict[str, object]) -> None:
    stack.emu.inject_fault("POST", RUN_PATH, times=1, **fault)  # type: ignore[arg-type]
    run = stack.up()
    (execution,) = stack.executions()
    assert run.id == execution["id"]
    assert len(stack.api_requests("POST", RUN_PATH)) == 1  # sent once, never blindly again
    assert "found execution" in stack.plugin.stderr_text()


def test_a_reply_that_times_out_is_recovered_too(emu: CdfEmulator) -> None:
    emu.inject_fault("POST", RUN_PATH, times=1, when="after", delay=3.0, status=None)
    # The emulator answers after 3 s, past the 1 s read timeout.
    for stack in start_stack(emu, stack_config(emu, **{"cdf:readTimeout": "1"})):
        run = stack.up()
        assert [e["id"] for e in stack.executions()] == [run.id]
        assert len(stack.api_requests("POST", RUN_PATH)) == 1


def test_a_run_refused_before_processing_starts_nothing_and_can_run_again(stack: Stack) -> None:
    stack.emu.inject_fault("POST", RUN_PATH, times=1, when="before", status=503)
    details = _create_fails(stack)
    assert stack.executions() == []
    assert "may have started" in details or "No execution was started" in details


def test_a_throttled_run_is_retried_and_runs_once(stack: Stack) -> None:
    stack.emu.inject_fault("POST", RUN_PATH, times=1, when="before", status=429, retry_after=0.2)
    run = stack.up()
    assert [e["id"] for e in stack.executions()] == [run.id]
    assert len(stack.api_requests("POST", RUN_PATH)) == 2


def test_without_a_free_metadata_slot_a_lost_reply_fails_and_says_to_check_the_list(stack: Stack) -> None:
    stack.emu.inject_fault("POST", RUN_PATH, times=1, when="after", drop=True)
    metadata = {f"k{i}": "v" for i in range(10)}
    details = _create_fails(stack, metadata=metadata)
    assert len(stack.executions()) == 1  # it did start; the provider does not start another
    assert len(stack.api_requests("POST", RUN_PATH)) == 1
    assert "workflow 'wf' version '1'" in details
    assert "Check the executions of workflow 'wf' version '1'" in details
    assert "Traceback" not in details


# --- secrets --------------------------------------------------------------------------------------------


def test_secrets_never_reach_outputs_errors_stderr_or_the_serialized_provider(stack: Stack) -> None:
    run_secret = "run-secret-77"
    conn_secret = "connection-only-secret-q9"
    registration = stack.register(
        client_credentials=ClientCredentials(client_id="run-client", client_secret=run_secret),
        connection=CdfConnection(client_secret=conn_secret),
    )
    # The program marks them secret, and state keeps the secret inputs encrypted.
    assert {"client_credentials", "connection"} <= registration.secret_keys
    assert set(registration.additional_secret_outputs) >= {"client_credentials", "nonce", "connection"}

    blob = base64.b64decode(registration.provider_blob)
    assert len(blob) < 400, len(blob)  # pickled by reference: a module and class name, nothing more
    assert b"pulumi_cdf_workflows.resources.execution.provider" in blob
    for secret in (run_secret, conn_secret, CLIENT_SECRET):
        assert secret.encode() not in blob

    # The connection's own secret is wrong on purpose: check signs in to confirm the version and fails,
    # and so does create; neither error may show it.
    (failure,) = stack.plugin.check(registration.urn, {}, registration.engine_inputs).failures
    assert failure[0] == "connection" and "wrong secret" in failure[1]
    with pytest.raises(PluginError) as caught:
        stack.plugin.create(registration.urn, registration.engine_inputs)
    assert "Traceback" not in caught.value.details

    run = stack.up(client_credentials=ClientCredentials(client_id="run-client", client_secret=run_secret))
    texts = [json.dumps(run.outs), stack.plugin.stderr_text(), caught.value.details, failure[1]]
    for text in texts:
        for secret in (run_secret, conn_secret, CLIENT_SECRET):
            assert secret not in text
    assert "client_credentials" not in run.outs and "nonce" not in run.outs
    for request in stack.api_requests():
        assert run_secret not in json.dumps(request)  # the emulator's log redacts; nothing leaks past it


def test_a_nonce_never_appears_in_outputs_or_errors(stack: Stack) -> None:
    details = _create_fails(stack, nonce="nonce-that-does-not-exist-123")
    assert "nonce-that-does-not-exist-123" not in details
    assert "nonce-that-does-not-exist-123" not in stack.plugin.stderr_text()
    assert stack.executions() == []
