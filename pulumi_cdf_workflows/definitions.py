"""Validation of Workflow and WorkflowVersion inputs, before anything is sent to CDF.

Task definitions are given as CDF's API and the Cognite Toolkit write them (camelCase keys: `externalId`,
`type`, `parameters`, `dependsOn`, ...). Check refuses what CDF would refuse, with a message that names the
task and the problem; `normalized_definition` fills CDF's defaults so that a refresh adds no diff.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from pulumi_cdf_workflows.inputs import (
    ConnectionArgs,
    Identifier,
    check_identifier,
    contains_unknown,
    pydantic_failures,
    restore_integers,
)

TASK_TYPES = ("function", "transformation", "cdf", "dynamic", "subworkflow", "simulation")
MAX_TASKS = 100
MAX_DESCRIPTION = 500
MAX_TASK_NAME = 255
MAX_DEPENDS_ON = 100
RETRIES = (0, 10)
TIMEOUT_SECONDS = (100, 43_200)
ON_FAILURE = ("abortWorkflow", "skipTask")
MAX_CONCURRENT_EXECUTIONS = (1, 10_000)
# What CDF fills in when a task leaves these out (and returns on every read).
TASK_DEFAULTS: dict[str, Any] = {"retries": 3, "timeout": 3600, "onFailure": "abortWorkflow", "dependsOn": []}
_TASK_KEYS = ("externalId", "type", "name", "description", "parameters", "retries", "timeout", "onFailure", "dependsOn")


class WorkflowArgs(BaseModel):
    """A workflow: its external id and the settings CDF keeps on it."""

    model_config = ConfigDict(extra="ignore", hide_input_in_errors=True)

    external_id: Identifier
    description: str | None = Field(default=None, max_length=MAX_DESCRIPTION)
    data_set_id: int | None = None
    max_concurrent_executions: int | None = Field(
        default=None, ge=MAX_CONCURRENT_EXECUTIONS[0], le=MAX_CONCURRENT_EXECUTIONS[1]
    )
    connection: ConnectionArgs | None = None

    @field_validator("data_set_id", "max_concurrent_executions", mode="before")
    @classmethod
    def _whole_number(cls, value: Any) -> Any:
        return restore_integers(value)  # the engine sends every number as a float


class WorkflowVersionArgs(BaseModel):
    """A version of a workflow and its definition (description and tasks)."""

    model_config = ConfigDict(extra="ignore", hide_input_in_errors=True)

    workflow_external_id: Identifier
    version: Identifier
    workflow_definition: dict[str, Any]
    connection: ConnectionArgs | None = None

    @field_validator("workflow_definition", mode="before")
    @classmethod
    def _definition(cls, value: Any) -> Any:
        problems = definition_problems(value)
        if problems:
            raise ValueError("; ".join(problems))
        return value


def _task_label(task: Any, index: int) -> str:
    xid = task.get("externalId") if isinstance(task, Mapping) else None
    return f"task {xid!r}" if isinstance(xid, str) and xid else f"tasks[{index}]"


def _number_in(value: Any, bounds: tuple[int, int]) -> bool:
    value = restore_integers(value)
    return isinstance(value, int) and not isinstance(value, bool) and bounds[0] <= value <= bounds[1]


def _task_problems(task: Any, index: int) -> list[str]:
    label = _task_label(task, index)
    if not isinstance(task, Mapping):
        return [f"{label} must be an object with externalId, type and parameters"]
    problems = []
    unknown = sorted(set(task) - set(_TASK_KEYS))
    if unknown:
        problems.append(f"{label} has unknown keys {unknown}; CDF knows {', '.join(_TASK_KEYS)}")
    xid = task.get("externalId")
    if not isinstance(xid, str):
        problems.append(f"{label}: externalId is required and must be a string")
    else:
        try:
            check_identifier("externalId", xid)
        except ValueError as exc:
            problems.append(f"{label}: {exc}")
        if xid == "workflow" or xid.startswith("__"):
            problems.append(f"{label}: externalId must not be 'workflow' or start with '__' (CDF reserves them)")
    if task.get("type") not in TASK_TYPES:
        problems.append(f"{label}: type must be one of {', '.join(TASK_TYPES)}, got {task.get('type')!r}")
    if not isinstance(task.get("parameters"), Mapping):
        problems.append(f"{label}: parameters is required and must be an object")
    name, description = task.get("name"), task.get("description")
    if name is not None and (not isinstance(name, str) or len(name) > MAX_TASK_NAME):
        problems.append(f"{label}: name must be a string of at most {MAX_TASK_NAME} characters")
    if description is not None and (not isinstance(description, str) or len(description) > MAX_DESCRIPTION):
        problems.append(f"{label}: description must be a string of at most {MAX_DESCRIPTION} characters")
    if task.get("retries") is not None and not _number_in(task["retries"], RETRIES):
        problems.append(f"{label}: retries must be a whole number from {RETRIES[0]} to {RETRIES[1]}")
    if task.get("timeout") is not None and not _number_in(task["timeout"], TIMEOUT_SECONDS):
        problems.append(
            f"{label}: timeout must be a whole number of seconds from {TIMEOUT_SECONDS[0]} to {TIMEOUT_SECONDS[1]}"
        )
    if task.get("onFailure") is not None and task["onFailure"] not in ON_FAILURE:
        problems.append(f"{label}: onFailure must be one of {', '.join(ON_FAILURE)}, got {task['onFailure']!r}")
    depends = task.get("dependsOn")
    if depends is not None:
        if not isinstance(depends, list) or not all(
            isinstance(d, Mapping) and isinstance(d.get("externalId"), str) for d in depends
        ):
            problems.append(f"{label}: dependsOn must be a list of {{'externalId': ...}} objects")
        elif len(depends) > MAX_DEPENDS_ON:
            problems.append(f"{label}: dependsOn has {len(depends)} entries; CDF allows at most {MAX_DEPENDS_ON}")
    return problems


def _dependency_problems(tasks: list[Mapping[str, Any]]) -> list[str]:
    ids = [t["externalId"] for t in tasks]
    problems = [f"task {xid!r} is defined {ids.count(xid)} times" for xid in sorted(set(ids)) if ids.count(xid) > 1]
    edges = {t["externalId"]: [d["externalId"] for d in t.get("dependsOn") or []] for t in tasks}
    for xid, depends in edges.items():
        for dep in depends:
            if dep not in edges:
                problems.append(f"task {xid!r} depends on {dep!r}, which is not a task of this version")
    if problems:
        return problems
    # Depth-first search; a grey node met again closes a cycle, which is reported as its path.
    state: dict[str, str] = {}
    path: list[str] = []

    def visit(xid: str) -> list[str] | None:
        state[xid] = "grey"
        path.append(xid)
        for dep in edges[xid]:
            if state.get(dep) == "grey":
                return [*path[path.index(dep) :], dep]
            if dep not in state and (cycle := visit(dep)) is not None:
                return cycle
        state[xid] = "black"
        path.pop()
        return None

    for xid in edges:
        if xid not in state and (cycle := visit(xid)) is not None:
            return [f"tasks depend on each other in a cycle: {' -> '.join(cycle)}"]
    return []


def definition_problems(definition: Any) -> list[str]:
    """Everything CDF would refuse in a version's definition, each naming the task and the problem."""
    if contains_unknown(definition):
        return []  # checked again once the preview's unknowns are known
    if not isinstance(definition, Mapping):
        return ["workflow_definition must be an object with tasks (and an optional description)"]
    problems = []
    unknown = sorted(set(definition) - {"tasks", "description"})
    if unknown:
        problems.append(f"workflow_definition has unknown keys {unknown}; CDF knows tasks and description")
    description = definition.get("description")
    if description is not None and (not isinstance(description, str) or len(description) > MAX_DESCRIPTION):
        problems.append(f"workflow_definition.description must be a string of at most {MAX_DESCRIPTION} characters")
    tasks = definition.get("tasks")
    if not isinstance(tasks, list):
        return [*problems, "workflow_definition.tasks is required and must be a list of task definitions"]
    if len(tasks) > MAX_TASKS:
        problems.append(f"workflow_definition has {len(tasks)} tasks; CDF allows at most {MAX_TASKS}")
    for index, task in enumerate(tasks):
        problems.extend(_task_problems(task, index))
    # Dependencies are checked among the tasks well-formed enough to have them, so all problems show at once.
    linked = [
        t
        for t in tasks
        if isinstance(t, Mapping)
        and isinstance(t.get("externalId"), str)
        and isinstance(t.get("dependsOn") or [], list)
        and all(isinstance(d, Mapping) and isinstance(d.get("externalId"), str) for d in t.get("dependsOn") or [])
    ]
    problems.extend(_dependency_problems(linked))
    return problems


def normalized_definition(definition: Mapping[str, Any]) -> dict[str, Any]:
    """The definition as CDF stores it: integers restored and every default filled, in a stable order, so
    that the provider's diff and CDF's reply compare equal when they mean the same."""
    tasks = []
    for raw in definition.get("tasks") or []:
        task = {k: copy.deepcopy(v) for k, v in restore_integers(dict(raw)).items() if v is not None}
        for key, default in TASK_DEFAULTS.items():
            task.setdefault(key, copy.deepcopy(default))
        task["dependsOn"] = [{"externalId": d["externalId"]} for d in task["dependsOn"]]
        parameters = task.get("parameters")
        if task.get("type") == "function" and isinstance(parameters, dict):
            parameters["isAsyncComplete"] = parameters.get("isAsyncComplete") or False
        tasks.append(task)
    result: dict[str, Any] = {"tasks": tasks}
    if definition.get("description") is not None:
        result["description"] = definition["description"]
    return result


# Stand-ins for required values a preview does not know yet, so that everything else is still checked.
_PLACEHOLDERS: dict[str, Any] = {
    "external_id": "placeholder",
    "workflow_external_id": "placeholder",
    "version": "placeholder",
    "workflow_definition": {"tasks": []},
}


def validate_workflow(props: Mapping[str, Any]) -> tuple[WorkflowArgs | None, list[tuple[str, str]]]:
    """Validate Workflow inputs: the model (None while anything is unknown) and (property, reason) failures."""
    return pydantic_failures(WorkflowArgs, props, _PLACEHOLDERS)


def validate_version(props: Mapping[str, Any]) -> tuple[WorkflowVersionArgs | None, list[tuple[str, str]]]:
    """Validate WorkflowVersion inputs: the model (None while anything is unknown) and (property, reason) failures."""
    return pydantic_failures(WorkflowVersionArgs, props, _PLACEHOLDERS)
