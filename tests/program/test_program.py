"""Programs under pulumi.runtime.set_mocks: what a WorkflowExecution registers with the engine."""

from __future__ import annotations

import base64
from typing import Any

import dill
import pulumi
import pytest
from harness import capture_registrations, is_secret

from pulumi_cdf_workflows import CdfConnection, ClientCredentials, WorkflowExecution
from pulumi_cdf_workflows.resources.execution.provider import WorkflowExecutionProvider


def _register(**kwargs: Any) -> Any:
    def program() -> None:
        WorkflowExecution("backfill", **{"workflow_external_id": "foo", "version": "1", **kwargs})

    (registration,) = capture_registrations(program, stack="dev", preview=True)
    return registration


def test_type_token() -> None:
    assert _register().type == "pulumi-python:dynamic/cdf:WorkflowExecution"


def test_every_declared_output_is_an_attribute_a_program_can_use() -> None:
    # Only outputs the resource passes (as None) become attributes: `run.status` must work in a program.
    missing: list[str] = []

    def program() -> None:
        run = WorkflowExecution("backfill", workflow_external_id="foo", version="1")
        outputs = WorkflowExecutionProvider.outputs
        missing.extend(name for name in outputs if not isinstance(getattr(run, name, None), pulumi.Output))

    capture_registrations(program, stack="dev", preview=True)
    assert WorkflowExecutionProvider.outputs  # the list the resource declares
    assert missing == []


def test_credentials_nonce_and_connection_secrets_are_always_secret() -> None:
    registration = _register(
        client_credentials=ClientCredentials(client_id="id", client_secret="plain-string-secret"),
        nonce="plain-nonce",
        connection=CdfConnection(project="p", token="plain-token"),
    )
    assert {"client_credentials", "nonce", "connection"} <= registration.secret_keys
    assert set(registration.additional_secret_outputs) == {"client_credentials", "nonce", "connection"}
    assert is_secret(registration.inputs["client_credentials"]) or is_secret(
        registration.inputs["client_credentials"].get("client_secret")
    )


def test_dict_credentials_are_accepted_and_secret_too() -> None:
    registration = _register(client_credentials={"client_id": "id", "client_secret": "s"})
    assert "client_credentials" in registration.secret_keys


def test_nested_outputs_inside_input_resolve() -> None:
    def program() -> None:
        upstream = pulumi.Output.from_input("fn-123")
        WorkflowExecution(
            "run", workflow_external_id="foo", version="1", input={"fn": upstream, "n": [1, {"x": upstream}]}
        )

    (registration,) = capture_registrations(program, stack="dev")
    assert registration.engine_inputs["input"] == {"fn": "fn-123", "n": [1.0, {"x": "fn-123"}]}


def test_the_provider_carries_stack_and_resource_name_for_progress_and_cancel_reasons() -> None:
    registration = _register()
    provider = dill.loads(base64.b64decode(registration.engine_inputs["__provider"]))
    assert provider.resource == "dev/backfill"
    assert "pulumi_resource" not in registration.engine_inputs  # no internal input in `preview --diff`


def test_workflow_and_version_are_required() -> None:
    with pytest.raises(TypeError, match="workflow_external_id and version"):
        WorkflowExecution("broken")  # fails before anything is registered


def test_get_registers_a_read_of_the_execution_id() -> None:
    def program() -> None:
        WorkflowExecution.get("adopted", "4b8e1f0a-0000-4000-8000-000000000001")

    (registration,) = capture_registrations(program, stack="dev")
    assert registration.read is True
    assert registration.resource_id == "4b8e1f0a-0000-4000-8000-000000000001"
