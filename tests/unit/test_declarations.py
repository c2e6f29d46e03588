"""Each resource's argument and output models are the one place its properties are declared: the resource class's
signature and declared outputs, the provider's lists and the README's tables must all agree with them, so that a
property cannot be half-added."""

from __future__ import annotations

import inspect
import re
from pathlib import Path
from typing import Any

import pytest

from pulumi_cdf_workflows import Workflow, WorkflowExecution, WorkflowTrigger, WorkflowVersion
from pulumi_cdf_workflows.lifecycle.properties import OnChange, arguments, secret_arguments, user_arguments
from pulumi_cdf_workflows.lifecycle.provider import CdfResourceProvider
from pulumi_cdf_workflows.resources.execution.provider import WorkflowExecutionProvider
from pulumi_cdf_workflows.resources.trigger import WorkflowTriggerProvider
from pulumi_cdf_workflows.resources.workflow import WorkflowProvider
from pulumi_cdf_workflows.resources.workflow_version import WorkflowVersionProvider

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()
# Arguments a class takes besides the model's: a resource of this program that stands for two of them.
CONVENIENCE = {WorkflowExecution: {"workflow_version"}, WorkflowTrigger: {"version"}}
RESOURCES: list[tuple[type[Any], type[CdfResourceProvider]]] = [
    (WorkflowExecution, WorkflowExecutionProvider),
    (Workflow, WorkflowProvider),
    (WorkflowVersion, WorkflowVersionProvider),
    (WorkflowTrigger, WorkflowTriggerProvider),
]
IDS = [cls.__name__ for cls, _ in RESOURCES]


@pytest.mark.parametrize(("cls", "provider"), RESOURCES, ids=IDS)
def test_the_class_takes_exactly_the_arguments_its_model_declares(cls: type[Any], provider: Any) -> None:
    taken = set(inspect.signature(cls.__init__).parameters) - {"self", "resource_name", "opts"}
    assert taken - CONVENIENCE.get(cls, set()) == set(user_arguments(provider.args_model))


@pytest.mark.parametrize(("cls", "provider"), RESOURCES, ids=IDS)
def test_the_class_declares_every_output_and_every_argument_that_is_not_secret(cls: type[Any], provider: Any) -> None:
    hints = {
        name: hint for klass in reversed(cls.__mro__) for name, hint in vars(klass).get("__annotations__", {}).items()
    }
    declared = {name for name, hint in hints.items() if "Output[" in str(hint)}
    shown = set(arguments(provider.args_model)) - set(secret_arguments(provider.args_model))
    assert declared == shown | set(provider.outputs)


@pytest.mark.parametrize(("cls", "provider"), RESOURCES, ids=IDS)
def test_the_providers_lists_come_from_the_model(cls: type[Any], provider: Any) -> None:
    model = provider.args_model
    secret = set(secret_arguments(model))
    assert set(provider.secret_inputs) == secret
    assert provider.replace_properties == arguments(model, OnChange.REPLACE)
    assert set(provider.update_properties) == set(arguments(model, OnChange.UPDATE)) - secret
    assert set(provider.setting_properties) == set(arguments(model, OnChange.STORE)) - secret
    assert provider.outputs == tuple(provider.outputs_model.model_fields)


def _readme_row(name: str) -> str:
    found = re.search(rf"^\| `{name}` \|.*$", README, re.M)
    assert found is not None, f"the README has no table row for {name}"
    return found.group(0)


@pytest.mark.parametrize(("cls", "provider"), RESOURCES[1:], ids=IDS[1:])
def test_the_readme_row_of_a_deployed_resource_names_every_argument_and_output(cls: type[Any], provider: Any) -> None:
    row = _readme_row(cls.__name__)
    internal = {"claim_id", "credentials_fingerprint"}  # described under the table
    for name in [*user_arguments(provider.args_model), *provider.outputs]:
        if name not in internal:
            assert f"`{name}`" in row, f"the README's row for {cls.__name__} does not name {name}"
    assert "`claim_id`" in README and "`credentials_fingerprint`" in README


def test_the_readme_tables_of_an_execution_name_every_argument_and_output() -> None:
    arguments_table = README.split("### Arguments", 1)[1].split("###", 1)[0]
    outputs_text = README.split("### Outputs", 1)[1].split("###", 1)[0]
    for name in user_arguments(WorkflowExecutionProvider.args_model):
        assert re.search(rf"^\| `{name}` \|", arguments_table, re.M), f"the README's arguments table lacks {name}"
    for name in WorkflowExecutionProvider.outputs:
        assert f"`{name}`" in outputs_text, f"the README's outputs of an execution do not name {name}"
