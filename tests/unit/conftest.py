"""Builders shared by the unit tests: workflow tasks and definitions, schedule and dataModeling trigger rules."""

from __future__ import annotations

from typing import Any


def _parameters(xid: str, type_: str) -> dict[str, Any]:
    """Valid parameters of each task type (an unknown type gets the function shape under its own name)."""
    shapes: dict[str, dict[str, Any]] = {
        "cdf": {"cdfRequest": {"resourcePath": "/assets/list", "method": "POST"}},
        "dynamic": {"dynamic": {"tasks": "${plan.output.tasks}"}},
        "subworkflow": {"subworkflow": {"workflowExternalId": f"{xid}-child", "version": "1"}},
        "simulation": {"simulation": {"routineExternalId": f"{xid}-routine"}},
        "functionApp": {"functionApp": {"externalId": f"{xid}-app", "path": "/run"}},
    }
    return shapes.get(type_, {type_: {"externalId": f"{xid}-{type_}"}})


def _task(xid: str, type_: str = "function", **extra: Any) -> dict[str, Any]:
    task: dict[str, Any] = {"externalId": xid, "type": type_, "parameters": _parameters(xid, type_)}
    task.update(extra)
    return task


def _two_tasks(**load_extra: Any) -> dict[str, Any]:
    return {
        "description": "extract, then load",
        "tasks": [
            _task("extract", "transformation"),
            _task("load", dependsOn=[{"externalId": "extract"}], **load_extra),
        ],
    }


def _schedule(cron: str = "0 2 * * 1", **extra: Any) -> dict[str, Any]:
    rule: dict[str, Any] = {"triggerType": "schedule", "cronExpression": cron}
    rule.update(extra)
    return rule


def _data_modeling(**overrides: Any) -> dict[str, Any]:
    """A dataModeling rule as the engine sends it: every number a float."""
    rule: dict[str, Any] = {
        "triggerType": "dataModeling",
        "dataModelingQuery": {
            "with": {
                "pumps": {
                    "nodes": {"filter": {"equals": {"property": ["node", "space"], "value": "plant"}}},
                    "limit": 100.0,
                }
            },
            "select": {"pumps": {}},
        },
        "batchSize": 100.0,
        "batchTimeout": 60.0,
    }
    rule.update(overrides)
    if isinstance(rule.get("batchSize"), int | float) and "dataModelingQuery" not in overrides:
        rule["dataModelingQuery"]["with"]["pumps"]["limit"] = rule["batchSize"]  # CDF: fetched in batches
    return rule
