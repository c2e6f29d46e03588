"""A Workflow through the plugin: deployed, updated in place, replaced on a new id and deleted, as in Python."""

from __future__ import annotations

from typing import Any

import pytest
from harness import PluginError, PluginProcess

from pulumi_cdf_workflows.emulator import CdfEmulator

from .conftest import CDF_PROJECT, urn

WORKFLOW = urn("Workflow", "backfill")


def _in_cdf(emu: CdfEmulator) -> dict[str, Any]:
    return {w.external_id: w for w in emu.backend.list_workflows(CDF_PROJECT, None, None)[0]}


def test_a_workflow_is_created_updated_in_place_and_deleted(plugin: PluginProcess, emu: CdfEmulator) -> None:
    inputs = plugin.check(WORKFLOW, {}, {"externalId": "backfill", "description": "nightly"}).inputs
    id_, outs = plugin.create(WORKFLOW, inputs)
    assert id_ == "backfill"
    assert _in_cdf(emu)["backfill"].description == "nightly"
    assert outs["project"] == CDF_PROJECT and outs["claimId"]

    news = plugin.check(WORKFLOW, inputs, {"externalId": "backfill", "description": "weekly"}).inputs
    diff = plugin.diff(WORKFLOW, id_, outs, news)
    assert (diff.changes, diff.replaces) == ("SOME", [])
    outs = plugin.update(WORKFLOW, id_, outs, news)
    assert outs["description"] == "weekly"
    assert _in_cdf(emu)["backfill"].description == "weekly"
    assert plugin.diff(WORKFLOW, id_, outs, news).changes == "NONE"

    plugin.delete(WORKFLOW, id_, outs)
    assert "backfill" not in _in_cdf(emu)


def test_a_new_external_id_replaces_the_workflow(plugin: PluginProcess) -> None:
    inputs = plugin.check(WORKFLOW, {}, {"externalId": "backfill"}).inputs
    id_, outs = plugin.create(WORKFLOW, inputs)
    news = plugin.check(WORKFLOW, inputs, {"externalId": "backfill-2"}).inputs

    diff = plugin.diff(WORKFLOW, id_, outs, news)

    assert diff.replaces == ["externalId"]


def test_a_workflow_that_differs_in_cdf_is_not_overwritten_and_the_message_says_so(
    plugin: PluginProcess, emu: CdfEmulator
) -> None:
    first = plugin.check(WORKFLOW, {}, {"externalId": "backfill", "description": "theirs"}).inputs
    plugin.create(urn("Workflow", "theirs"), first)
    ours = plugin.check(WORKFLOW, {}, {"externalId": "backfill", "description": "ours"}).inputs

    with pytest.raises(PluginError) as refused:
        plugin.create(WORKFLOW, ours)

    message = refused.value.details
    assert "already exists in CDF project 'test-project' and differs from this program" in message
    assert "Traceback" not in message
    assert _in_cdf(emu)["backfill"].description == "theirs"


def test_a_triggers_preview_shows_its_schedule_as_the_python_resource_does(
    plugin: PluginProcess, emu: CdfEmulator
) -> None:
    trigger = urn("WorkflowTrigger", "nightly")
    rule = {"triggerType": "schedule", "cronExpression": "0 2 * * *"}
    inputs = plugin.check(trigger, {}, {"externalId": "nightly", "workflowExternalId": "wf", "workflowVersion": "1",
                                        "triggerRule": rule}).inputs  # fmt: skip
    id_, outs = plugin.create(trigger, inputs, preview=True)
    assert (id_, outs["schedule"]) == ("", "At 02:00 (UTC)")
    assert emu.backend.list_triggers(CDF_PROJECT, None, None)[0] == []
