"""The plugin speaks its users' words: camelCase properties and `cdf-workflows:*` config, in check failures,
errors and the schema's descriptions, while the lifecycle keeps one text for both faces."""

from __future__ import annotations

import json
import re

import pytest
from harness import PluginError, PluginProcess

from pulumi_cdf_workflows.emulator import CdfEmulator
from pulumi_cdf_workflows.plugin.schema import package_schema
from pulumi_cdf_workflows.plugin.words import in_plugin_words

from .conftest import WORKFLOW, urn

RUN = urn("WorkflowExecution")


def test_a_check_failure_names_camel_case_properties_and_the_plugins_config(plugin: PluginProcess) -> None:
    checked = plugin.check(RUN, {}, {"workflowExternalId": WORKFLOW, "version": "missing"})
    [(prop, reason)] = checked.failures
    assert prop == "version"
    assert "Check workflowExternalId and version" in reason, reason
    assert "take workflowExternalId and version from its outputs" in reason, reason
    assert "workflow_external_id" not in reason


def test_an_error_at_up_is_in_the_plugins_words(plugin: PluginProcess, emu: CdfEmulator) -> None:
    emu.set_outcome(WORKFLOW, "1", "FAILED", reason="the task broke")
    inputs = plugin.check(RUN, {}, {"workflowExternalId": WORKFLOW, "version": "1", "waitForCompletion": True}).inputs
    with pytest.raises(PluginError) as caught:
        plugin.create(RUN, inputs)
    assert "FAILED" in caught.value.details
    assert not re.search(r"\b(wait_for_completion|timeout_seconds|cancel_on_delete)\b", caught.value.details)


def test_the_schema_has_no_python_examples_or_snake_case_property_names() -> None:
    text = json.dumps(package_schema())
    assert ">>>" not in text
    snake = {m for m in re.findall(r"\b[a-z]+(?:_[a-z]+)+\b", text)}
    assert not snake & {"workflow_external_id", "wait_for_completion", "timeout_seconds", "client_credentials"}


def test_words_that_only_look_like_config_keys_are_left_alone() -> None:
    assert in_plugin_words("set cdf:project, not cdf-workflows:project or abcdf:x") == (
        "set cdf-workflows:project, not cdf-workflows:project or abcdf:x"
    )
    assert in_plugin_words("connection.base_url and timeout_seconds") == "connection.baseUrl and timeoutSeconds"
