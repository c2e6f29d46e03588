"""GetSchema: the package schema is the argument models, so a field added to a model is in it at once."""

from __future__ import annotations

from typing import Any

import pytest
from harness import PluginProcess

from pulumi_cdf_workflows.lifecycle.connection import STACK_CONFIG_KEYS
from pulumi_cdf_workflows.lifecycle.properties import OnChange, arguments, secret_arguments, user_arguments
from pulumi_cdf_workflows.plugin.catalog import RESOURCES
from pulumi_cdf_workflows.plugin.names import camel

from .conftest import PLUGIN

TOKENS = {
    f"cdf-workflows:index:{name}" for name in ("WorkflowExecution", "Workflow", "WorkflowVersion", "WorkflowTrigger")
}


@pytest.fixture(scope="module")
def schema() -> Any:
    with PluginProcess(command=[str(PLUGIN), "127.0.0.1:1"], send_secrets=True) as plugin:
        return plugin.get_schema()


def _flagged(properties: dict[str, Any], flag: str) -> set[str]:
    return {name for name, spec in properties.items() if spec.get(flag)}


def test_the_schema_serves_the_four_resources(schema: Any) -> None:
    assert schema["name"] == "cdf-workflows"
    assert set(schema["resources"]) == TOKENS


@pytest.mark.parametrize("token", sorted(TOKENS))
def test_every_argument_a_user_gives_is_an_input_with_its_secrecy_replacement_and_need(schema: Any, token: str) -> None:
    model = RESOURCES[token].provider.args_model
    spec = schema["resources"][token]
    inputs = spec["inputProperties"]
    assert set(inputs) == {camel(name) for name in user_arguments(model)}
    assert _flagged(inputs, "secret") == {camel(name) for name in secret_arguments(model)}
    replacing = {camel(name) for name in arguments(model, OnChange.REPLACE) if name in user_arguments(model)}
    assert _flagged(inputs, "replaceOnChanges") == replacing
    required = {camel(name) for name in user_arguments(model) if model.model_fields[name].is_required()}
    assert set(spec["requiredInputs"]) == required
    assert all(inputs[camel(name)]["description"] for name in user_arguments(model))


@pytest.mark.parametrize("token", sorted(TOKENS))
def test_outputs_hold_every_declared_output_and_no_secret_input(schema: Any, token: str) -> None:
    provider = RESOURCES[token].provider
    outputs = schema["resources"][token]["properties"]
    assert {camel(name) for name in provider.outputs} <= set(outputs)
    assert not {camel(name) for name in secret_arguments(provider.args_model)} & set(outputs)


def test_an_executions_secret_credentials_are_secret_down_to_the_nested_field(schema: Any) -> None:
    credentials = schema["types"]["cdf-workflows:index:ClientCredentials"]["properties"]
    connection = schema["types"]["cdf-workflows:index:Connection"]["properties"]
    assert _flagged(credentials, "secret") == {"clientSecret"}
    assert _flagged(connection, "secret") == {"clientSecret", "token"}


def test_the_provider_takes_every_stack_setting_the_dynamic_providers_read(schema: Any) -> None:
    variables = schema["config"]["variables"]
    assert set(variables) == {key.split(":", 1)[1] for key in STACK_CONFIG_KEYS}
    assert _flagged(variables, "secret") == {"clientSecret", "token"}
    assert schema["provider"]["inputProperties"] == variables
