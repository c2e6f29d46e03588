"""A WorkflowExecution through the plugin: the dynamic provider's rules, with the plugin protocol's names."""

from __future__ import annotations

import json
from typing import Any

import pytest
from harness import UNKNOWN, PluginError, PluginProcess, is_secret, strip_secrets, wait_until, wrap_secret

from pulumi_cdf_workflows.emulator import CdfEmulator
from pulumi_cdf_workflows.plugin.names import camel_path
from pulumi_cdf_workflows.plugin.words import in_plugin_words
from pulumi_cdf_workflows.resources.execution.args import ExecutionArgs
from pulumi_cdf_workflows.resources.execution.provider import WorkflowExecutionProvider

from .conftest import CDF_PROJECT, CLIENT_ID, CLIENT_SECRET, VERSION, WORKFLOW, start_plugin, urn

RUN = urn("WorkflowExecution")
RUN_SECRET = "run-secret-77"


def _inputs(**extra: Any) -> dict[str, Any]:
    return {"workflowExternalId": WORKFLOW, "version": 1.0, "input": {"days": 7.0}, **extra}


def _up(plugin: PluginProcess, **extra: Any) -> tuple[str, dict[str, Any], dict[str, Any]]:
    checked = plugin.check(RUN, {}, _inputs(**extra))
    assert checked.failures == []
    id_, outs = plugin.create(RUN, checked.inputs)
    return id_, outs, checked.inputs


def test_check_refuses_a_bad_input_with_the_dynamic_providers_message(plugin: PluginProcess) -> None:
    bad = {"timeout_seconds": -1.0, "metadata": {f"k{i}": "v" for i in range(11)}}
    expected = WorkflowExecutionProvider().check({}, {"workflow_external_id": WORKFLOW, "version": "1", **bad})

    checked = plugin.check(RUN, {}, _inputs(timeoutSeconds=-1.0, metadata=bad["metadata"]))

    assert sorted(checked.failures) == sorted(
        (camel_path(f.property, ExecutionArgs), in_plugin_words(f.reason)) for f in expected.failures
    )
    assert {prop for prop, _ in checked.failures} == {"timeoutSeconds", "metadata"}


def test_check_keeps_credentials_secret_and_fills_the_defaults(plugin: PluginProcess) -> None:
    credentials = {"clientId": "run-client", "clientSecret": RUN_SECRET}

    checked = plugin.check(RUN, {}, _inputs(clientCredentials=wrap_secret(credentials)))

    assert checked.failures == []
    assert is_secret(checked.inputs["clientCredentials"])
    assert checked.inputs["version"] == VERSION  # 1 means "1", as CDF names it
    assert checked.inputs["waitForCompletion"] is False
    assert checked.inputs["timeoutSeconds"] == 3600.0


def test_create_runs_the_workflow_once_and_returns_its_id(plugin: PluginProcess, emu: CdfEmulator) -> None:
    credentials = {"clientId": "run-client", "clientSecret": RUN_SECRET}

    id_, outs, _ = _up(plugin, clientCredentials=wrap_secret(credentials), waitForCompletion=True)

    runs = emu.executions(CDF_PROJECT)
    assert [run["id"] for run in runs] == [id_]
    assert runs[0]["input"] == {"days": 7}
    assert outs["executionId"] == id_
    assert outs["status"] == "COMPLETED"
    assert outs["workflowExternalId"] == WORKFLOW
    assert "clientCredentials" not in outs
    assert RUN_SECRET not in json.dumps(strip_secrets(outs))
    assert CLIENT_SECRET not in plugin.stderr_text()


def test_a_preview_create_runs_nothing_and_leaves_the_outputs_unknown(plugin: PluginProcess, emu: CdfEmulator) -> None:
    checked = plugin.check(RUN, {}, _inputs())

    id_, outs = plugin.create(RUN, checked.inputs, preview=True)

    assert emu.executions(CDF_PROJECT) == []
    assert id_ == ""
    assert outs["status"] == UNKNOWN
    assert outs["executionId"] == UNKNOWN
    assert outs["workflowExternalId"] == UNKNOWN  # dependents must not look for a version not deployed yet


def test_diff_of_the_same_inputs_is_no_change_and_of_a_new_input_a_replacement(plugin: PluginProcess) -> None:
    id_, outs, inputs = _up(plugin)

    unchanged = plugin.diff(RUN, id_, outs, inputs)
    changed = plugin.diff(RUN, id_, outs, plugin.check(RUN, inputs, _inputs(input={"days": 8.0})).inputs)

    assert unchanged.changes == "NONE"
    assert changed.changes == "SOME"
    assert changed.replaces == ["input"]


def test_a_changed_setting_is_an_update_that_runs_nothing(plugin: PluginProcess, emu: CdfEmulator) -> None:
    id_, outs, inputs = _up(plugin)
    news = plugin.check(RUN, inputs, _inputs(cancelOnDelete=True)).inputs

    diff = plugin.diff(RUN, id_, outs, news)
    updated = plugin.update(RUN, id_, outs, news)

    assert (diff.changes, diff.replaces) == ("SOME", [])
    assert updated["cancelOnDelete"] is True
    assert len(emu.executions(CDF_PROJECT)) == 1


def test_read_refreshes_the_status_from_cdf(plugin: PluginProcess, emu: CdfEmulator) -> None:
    id_, outs, inputs = _up(plugin)
    wait_until(lambda: emu.executions(CDF_PROJECT)[0]["status"] == "COMPLETED", "the execution to complete")

    read = plugin.read(RUN, id_, outs, inputs)

    assert read.id == id_
    assert read.outs["status"] == "COMPLETED"
    assert read.outs["executedTasks"]


def test_delete_with_cancel_on_delete_cancels_a_running_execution() -> None:
    with CdfEmulator(clients={CLIENT_ID: CLIENT_SECRET}, task_duration=60) as slow:
        slow.upsert_workflow_version(CDF_PROJECT, WORKFLOW, VERSION)
        plugin = start_plugin({"project": CDF_PROJECT, "baseUrl": slow.base_url, "tokenUrl": slow.token_url,
                               "clientId": CLIENT_ID, "clientSecret": CLIENT_SECRET})  # fmt: skip
        try:
            id_, outs, _ = _up(plugin, cancelOnDelete=True)
            plugin.delete(RUN, id_, outs)
        finally:
            plugin.stop()
        assert slow.executions(CDF_PROJECT)[0]["status"] == "TERMINATED"


def test_the_environment_connects_when_the_stack_sets_nothing(emu: CdfEmulator) -> None:
    env = {"CDF_PROJECT": CDF_PROJECT, "CDF_URL": emu.base_url, "IDP_TOKEN_URL": emu.token_url,
           "IDP_CLIENT_ID": CLIENT_ID, "IDP_CLIENT_SECRET": CLIENT_SECRET}  # fmt: skip
    plugin = start_plugin({}, env)
    try:
        id_, _, _ = _up(plugin)
    finally:
        plugin.stop()
    assert [run["id"] for run in emu.executions(CDF_PROJECT)] == [id_]


def test_a_failed_run_says_why_without_a_traceback(plugin: PluginProcess, emu: CdfEmulator) -> None:
    missing = {"workflowExternalId": "nope", "version": "9"}
    checked = plugin.check(RUN, {}, missing)
    assert checked.failures and "does not exist" in checked.failures[0][1]  # check says so first

    with pytest.raises(PluginError) as failed:
        plugin.create(RUN, missing)  # as after a check with cdf:validateOnPreview false

    assert failed.value.details.startswith("Could not run workflow 'nope' version '9'")
    assert "Traceback" not in failed.value.details and 'File "' not in failed.value.details
    assert emu.executions(CDF_PROJECT) == []
