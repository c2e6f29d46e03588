"""The plugin shares the dynamic provider's permission check: the same refusal, before anything is written."""

from __future__ import annotations

from typing import Any

from harness import PluginProcess

from pulumi_cdf_workflows.emulator import CdfEmulator

from .conftest import CDF_PROJECT, CLIENT_ID, WORKFLOW, urn

ALL: dict[str, Any] = {"all": {}}
INSPECT = [{"projectsAcl": {"actions": ["LIST"], "scope": ALL}}, {"groupsAcl": {"actions": ["LIST"], "scope": ALL}}]


def writes(emu: CdfEmulator) -> list[str]:
    return [r["path"] for r in emu.requests("POST") if r["path"].startswith("/api/") and "/list" not in r["path"]]


def test_without_sessions_create_an_execution_fails_its_check(plugin: PluginProcess, emu: CdfEmulator) -> None:
    emu.set_capabilities(
        CLIENT_ID, [*INSPECT, {"workflowOrchestrationAcl": {"actions": ["READ", "WRITE"], "scope": ALL}}]
    )
    checked = plugin.check(urn("WorkflowExecution"), {}, {"workflowExternalId": WORKFLOW, "version": "1"})
    assert checked.failures == [
        ("", f"cannot run workflow execution '{WORKFLOW}': the deploying principal (client {CLIENT_ID}) lacks "
             f"sessionsAcl:CREATE in CDF project '{CDF_PROJECT}'"),
    ]  # fmt: skip
    assert writes(emu) == []


def test_write_scoped_to_another_data_set_fails_a_workflow_in_data_set_123(
    plugin: PluginProcess, emu: CdfEmulator
) -> None:
    scoped = {"actions": ["READ", "WRITE"], "scope": {"datasetScope": {"ids": [7]}}}
    emu.set_capabilities(CLIENT_ID, [*INSPECT, {"workflowOrchestrationAcl": scoped}])
    [(_, reason)] = plugin.check(urn("Workflow", "wf"), {}, {"externalId": "backfill", "dataSetId": 123}).failures
    assert reason.startswith("cannot create workflow 'backfill' in data set 123")
    assert plugin.check(urn("Workflow", "wf"), {}, {"externalId": "backfill", "dataSetId": 7}).failures == []
    assert writes(emu) == []
