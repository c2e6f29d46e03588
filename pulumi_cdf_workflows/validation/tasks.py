"""Check-time validation of a list of task definitions: each task's keys, limits and parameters, and the
dependencies among the tasks (unknown ids, duplicates, cycles). The same rules apply to a version's tasks and
to the tasks a subworkflow task defines inline, which depend only on each other.

Every failure starts with the path to the task, e.g. `workflow_definition.tasks[1] 'load': ...`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pulumi_cdf_workflows.validation.fields import check_identifier, restore_integers
from pulumi_cdf_workflows.validation.suggestions import closest, describe, did_you_mean, unknown_key
from pulumi_cdf_workflows.validation.task_parameters import SHAPES, inline_tasks, parameter_problems

TASK_TYPES = ("function", "transformation", "cdf", "dynamic", "subworkflow", "simulation", "functionApp")
NOT_IN_SUBWORKFLOW = ("subworkflow", "dynamic")  # DOCS limits: no nested subworkflows, no dynamic tasks inside
MAX_TASKS = 200  # DOCS limits: 200 tasks per execution (the spec copy says 100 per definition)
MAX_DESCRIPTION = 500
MAX_TASK_NAME = 255
MAX_DEPENDS_ON = 100
RETRIES = (0, 10)
TIMEOUT_SECONDS = (60, 86_400)  # Toolkit (the spec copy says 100-43200)
ON_FAILURE = ("abortWorkflow", "skipTask")
TASK_KEYS = ("externalId", "type", "name", "description", "parameters", "retries", "timeout", "onFailure", "dependsOn")


def _whole_number_in(value: Any, bounds: tuple[int, int]) -> bool:
    value = restore_integers(value)
    return isinstance(value, int) and not isinstance(value, bool) and bounds[0] <= value <= bounds[1]


def _label(task: Any, at: str) -> str:
    xid = task.get("externalId") if isinstance(task, Mapping) else None
    return f"{at} {xid!r}" if isinstance(xid, str) and xid else at


def _external_id_problems(xid: Any) -> list[str]:
    if not isinstance(xid, str):
        return [f"externalId is required and must be a string, got {describe(xid)}"]
    try:
        check_identifier("externalId", xid)
    except ValueError as exc:
        return [str(exc)]
    if xid == "workflow" or xid.startswith("__"):
        return [f"externalId {xid!r} is reserved: CDF refuses 'workflow' and ids that start with '__'"]
    return []


def _settings_problems(task: Mapping[str, Any]) -> list[str]:
    problems = []
    name, description = task.get("name"), task.get("description")
    if name is not None and (not isinstance(name, str) or len(name) > MAX_TASK_NAME):
        problems.append(f"name must be a string of at most {MAX_TASK_NAME} characters, got {describe(name)}")
    if description is not None and (not isinstance(description, str) or len(description) > MAX_DESCRIPTION):
        problems.append(
            f"description must be a string of at most {MAX_DESCRIPTION} characters, got {describe(description)}"
        )
    if task.get("retries") is not None and not _whole_number_in(task["retries"], RETRIES):
        problems.append(
            f"retries must be a whole number from {RETRIES[0]} to {RETRIES[1]}, got {describe(task['retries'])}"
        )
    if task.get("timeout") is not None and not _whole_number_in(task["timeout"], TIMEOUT_SECONDS):
        problems.append(
            f"timeout must be a whole number of seconds from {TIMEOUT_SECONDS[0]} to {TIMEOUT_SECONDS[1]}, "
            f"got {describe(restore_integers(task['timeout']))}"
        )
    if task.get("onFailure") is not None and task["onFailure"] not in ON_FAILURE:
        problems.append(
            f"onFailure must be one of {', '.join(ON_FAILURE)}, got {describe(task['onFailure'])}"
            + did_you_mean(task["onFailure"], ON_FAILURE)
        )
    return problems


def _depends_on_problems(depends: Any) -> list[str]:
    if depends is None:
        return []
    if not isinstance(depends, list):
        return [f'dependsOn must be a list of {{"externalId": ...}} objects, got {describe(depends)}']
    if any(isinstance(d, str) for d in depends):
        wanted = [{"externalId": d} if isinstance(d, str) else d for d in depends]
        return [
            "dependsOn lists objects, not task ids: write "
            f"{json.dumps(wanted, ensure_ascii=False)} instead of {json.dumps(depends, ensure_ascii=False)}"
        ]
    problems = []
    for index, entry in enumerate(depends):
        if not isinstance(entry, Mapping):
            problems.append(f'dependsOn[{index}] must be an object {{"externalId": ...}}, got {describe(entry)}')
            continue
        for key in entry:
            if key != "externalId":
                problems.append(f"dependsOn[{index}]: {unknown_key(key, ['externalId'], 'a dependency')}")
        if not isinstance(entry.get("externalId"), str):
            problems.append(
                f"dependsOn[{index}].externalId must be a task's external id, got {entry.get('externalId')!r}"
            )
    if len(depends) > MAX_DEPENDS_ON:
        problems.append(f"dependsOn has {len(depends)} entries; CDF allows at most {MAX_DEPENDS_ON}")
    return problems


def _task_problems(task: Any, at: str, inline: bool) -> list[str]:
    """Problems of one task, each starting with its path and external id."""
    label = _label(task, at)
    if not isinstance(task, Mapping):
        return [f"{at} must be an object with externalId, type and parameters, got {describe(task)}"]
    unknown = [key for key in task if key not in TASK_KEYS]
    problems = [unknown_key(key, TASK_KEYS, "a task") for key in unknown]
    # A misspelt key is also a missing one: say it once, as the misspelling.
    misspelt = {closest(key, TASK_KEYS) for key in unknown} - set(task)
    if "externalId" not in misspelt:
        problems += _external_id_problems(task.get("externalId"))
    kind, parameters = task.get("type"), task.get("parameters")
    if kind not in TASK_TYPES and "type" not in misspelt:
        problems.append(
            f"type must be one of {', '.join(TASK_TYPES)}, got {describe(kind)}{did_you_mean(kind, TASK_TYPES)}"
        )
    elif inline and kind in NOT_IN_SUBWORKFLOW:
        problems.append(
            f"a {kind} task cannot be inside a subworkflow (CDF allows no dynamic or nested subworkflow tasks there)"
        )
    if not isinstance(parameters, Mapping) and "parameters" not in misspelt:
        shape = f", e.g. {SHAPES[kind]}" if kind in SHAPES else ""
        problems.append(f"parameters is required and must be an object{shape}, got {describe(parameters)}")
    elif kind in TASK_TYPES and isinstance(parameters, Mapping):
        problems += parameter_problems(kind, parameters)
    problems += _settings_problems(task) + _depends_on_problems(task.get("dependsOn"))
    result = [f"{label}: {problem}" for problem in problems]
    inner = inline_tasks(kind, parameters)
    if inner is not None and not inline:
        result += task_list_problems(inner, f"{label}: parameters.subworkflow.tasks", inline=True)
    return result


def _edges(tasks: list[Any]) -> dict[str, list[str]]:
    """Each task's well-formed dependencies (malformed ones are reported by the task's own checks)."""
    edges: dict[str, list[str]] = {}
    for task in tasks:
        if isinstance(task, Mapping) and isinstance(task.get("externalId"), str):
            depends = task.get("dependsOn")
            entries = depends if isinstance(depends, list) else []
            found = [
                d["externalId"] for d in entries if isinstance(d, Mapping) and isinstance(d.get("externalId"), str)
            ]
            edges.setdefault(task["externalId"], []).extend(found)
    return edges


def _cycle(edges: dict[str, list[str]]) -> list[str] | None:
    # Depth-first search; a grey node met again closes a cycle, which is returned as its path.
    state: dict[str, str] = {}
    path: list[str] = []

    def visit(xid: str) -> list[str] | None:
        state[xid] = "grey"
        path.append(xid)
        for dep in edges[xid]:
            if dep not in edges:
                continue
            if state.get(dep) == "grey":
                return [*path[path.index(dep) :], dep]
            if dep not in state and (cycle := visit(dep)) is not None:
                return cycle
        state[xid] = "black"
        path.pop()
        return None

    for xid in edges:
        if xid not in state and (cycle := visit(xid)) is not None:
            return cycle
    return None


def _dependency_problems(tasks: list[Any], where: str, scope: str) -> list[str]:
    positions: dict[str, list[int]] = {}
    for index, task in enumerate(tasks):
        if isinstance(task, Mapping) and isinstance(task.get("externalId"), str):
            positions.setdefault(task["externalId"], []).append(index)
    problems = [
        f"{where}: task {xid!r} is defined {len(at)} times (at {', '.join(f'[{i}]' for i in at)}); "
        f"each task's externalId must be unique within the {scope}"
        for xid, at in positions.items()
        if len(at) > 1
    ]
    edges = _edges(tasks)
    for xid, depends in edges.items():
        label = f"{where}[{positions[xid][0]}] {xid!r}"
        for dep in depends:
            if dep not in edges:
                problems.append(
                    f"{label}: depends on {dep!r}, which is not a task of this {scope}{did_you_mean(dep, edges)}"
                )
    cycle = _cycle(edges)
    if cycle is not None:
        problems.append(f"{where}: tasks depend on each other in a cycle: {' -> '.join(cycle)}")
    return problems


def task_list_problems(tasks: list[Any], where: str, *, inline: bool = False) -> list[str]:
    """Everything CDF would refuse in a list of tasks at `where` (e.g. `workflow_definition.tasks`)."""
    problems = []
    for index, task in enumerate(tasks):
        problems += _task_problems(task, f"{where}[{index}]", inline)
    return problems + _dependency_problems(tasks, where, "subworkflow" if inline else "version")
