"""Validation of a workflow version's definition, before anything is sent to CDF, and the definition in the
form CDF stores it.

Task definitions are given as CDF's API and the Cognite Toolkit write them (camelCase keys: `externalId`,
`type`, `parameters`, `dependsOn`, ...). Check refuses what CDF would refuse, with a message that starts with
the path to the problem (`workflow_definition.tasks[1] 'load': ...`); `normalized_definition` fills CDF's
defaults so that a refresh adds no diff, and `comparable_definition` also ignores the order of tasks and of
dependencies. docs/validation.md lists every rule and its source.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from pulumi_cdf_workflows.validation.fields import contains_unknown, restore_integers
from pulumi_cdf_workflows.validation.suggestions import closest, describe, unknown_key
from pulumi_cdf_workflows.validation.task_parameters import inline_tasks, with_defaults
from pulumi_cdf_workflows.validation.tasks import (
    MAX_DEPENDS_ON,
    MAX_TASK_NAME,
    MAX_TASKS,
    ON_FAILURE,
    RETRIES,
    TASK_KEYS,
    TASK_TYPES,
    TIMEOUT_SECONDS,
    task_list_problems,
)

__all__ = [
    "MAX_DEPENDS_ON",
    "MAX_TASKS",
    "MAX_TASK_NAME",
    "ON_FAILURE",
    "RETRIES",
    "TASK_KEYS",
    "TASK_TYPES",
    "TIMEOUT_SECONDS",
    "comparable_definition",
    "definition_problems",
    "normalized_definition",
]

MAX_DESCRIPTION = 500
# What CDF fills in when a task leaves these out (and returns on every read).
TASK_DEFAULTS: dict[str, Any] = {"retries": 3, "timeout": 3600, "onFailure": "abortWorkflow", "dependsOn": []}
DEFINITION_KEYS = ("tasks", "description")


def definition_problems(definition: Any) -> list[str]:
    """Everything CDF would refuse in a version's definition, each starting with its path
    (`workflow_definition.tasks[1] 'load': depends on 'extrct', ...`)."""
    if contains_unknown(definition):
        return []  # checked again once the preview's unknowns are known
    if not isinstance(definition, Mapping):
        return [
            "workflow_definition must be an object with tasks (and an optional description), "
            f"got {describe(definition)}"
        ]
    problems = [
        f"workflow_definition: {unknown_key(key, DEFINITION_KEYS, 'a definition')}"
        for key in definition
        if key not in DEFINITION_KEYS
    ]
    description = definition.get("description")
    if description is not None and (not isinstance(description, str) or len(description) > MAX_DESCRIPTION):
        problems.append(
            f"workflow_definition.description must be a string of at most {MAX_DESCRIPTION} characters, "
            f"got {describe(description)}"
        )
    tasks = definition.get("tasks")
    if tasks is None and any(closest(key, DEFINITION_KEYS) == "tasks" for key in definition):
        return problems  # the misspelt key says it
    if not isinstance(tasks, list):
        return [
            *problems,
            f"workflow_definition.tasks is required and must be a list of task definitions, got {describe(tasks)}",
        ]
    if len(tasks) > MAX_TASKS:
        problems.append(f"workflow_definition.tasks has {len(tasks)} tasks; CDF allows at most {MAX_TASKS} per version")
    return problems + task_list_problems(tasks, "workflow_definition.tasks")


def _normalized_task(raw: Any) -> Any:
    if not isinstance(raw, Mapping):
        return copy.deepcopy(raw)
    task = {k: copy.deepcopy(v) for k, v in restore_integers(dict(raw)).items() if v is not None}
    for key, default in TASK_DEFAULTS.items():
        task.setdefault(key, copy.deepcopy(default))
    if isinstance(task["dependsOn"], list):
        task["dependsOn"] = [
            {"externalId": d["externalId"]} if isinstance(d, Mapping) and "externalId" in d else d
            for d in task["dependsOn"]
        ]
    task["parameters"] = with_defaults(task.get("type"), task.get("parameters"))
    inner = inline_tasks(task.get("type"), task["parameters"])
    if inner is not None:
        task["parameters"]["subworkflow"]["tasks"] = [_normalized_task(t) for t in inner]
    if task["parameters"] is None:
        del task["parameters"]
    return task


def normalized_definition(definition: Mapping[str, Any]) -> dict[str, Any]:
    """The definition as CDF stores it: integers restored, nulls dropped and every default CDF fills filled in
    (in each task, inline subworkflow tasks too), tasks in the order given. What is upserted, and what state
    keeps; malformed parts (check refuses them) are kept as they are."""
    raw = definition.get("tasks")
    tasks = [_normalized_task(t) for t in raw] if isinstance(raw, list) else ([] if raw is None else raw)
    result: dict[str, Any] = {"tasks": tasks}
    if definition.get("description") is not None:
        result["description"] = definition["description"]
    return result


def _order_key(item: Any) -> tuple[int, str]:
    xid = item.get("externalId") if isinstance(item, Mapping) else None
    return (0, xid) if isinstance(xid, str) else (1, repr(item))


def _sorted_tasks(tasks: Any) -> Any:
    if not isinstance(tasks, list):
        return tasks
    result = []
    for task in tasks:
        if isinstance(task, dict):
            if isinstance(task.get("dependsOn"), list):
                task["dependsOn"] = sorted(task["dependsOn"], key=_order_key)
            inner = inline_tasks(task.get("type"), task.get("parameters"))
            if inner is not None:
                task["parameters"]["subworkflow"]["tasks"] = _sorted_tasks(inner)
        result.append(task)
    return sorted(result, key=_order_key)


def comparable_definition(definition: Any) -> Any:
    """The definition for comparison: `normalized_definition`, with tasks (also inline ones) and each task's
    dependsOn sorted by external id. CDF may return tasks in another order (the Toolkit re-sorts before it
    compares), and the order means nothing to CDF: dependencies decide when a task runs. Anything that is not a
    definition (an unknown during a preview) is returned as it is."""
    if not isinstance(definition, Mapping):
        return definition
    normalized = normalized_definition(definition)
    normalized["tasks"] = _sorted_tasks(normalized["tasks"])
    return normalized
