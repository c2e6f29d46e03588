"""A workflow version's definition: task-level rules, the defaults CDF fills in every task, and `dependsOn` order.

Sources as in task_parameters.py (OAS spec copy, cognite-sdk-python WorkflowTask, toolkit
`yaml_classes/workflow_version.py` TaskDefinition, docs.cognite.com task types and limits pages).
"""

from __future__ import annotations

from typing import Any

from pulumi_cdf_workflows.emulator.exceptions import BadRequest
from pulumi_cdf_workflows.emulator.task_parameters import check_parameters
from pulumi_cdf_workflows.emulator.validation import validate_identifier

# guess: `functionApp` is newer than the spec copy and behind a feature flag in the toolkit; it is accepted.
# guess: the toolkit's CDFTask names its type "cdfRequest" where the spec and the SDK say "cdf"; only "cdf" is taken.
TASK_TYPES = ("function", "transformation", "cdf", "dynamic", "subworkflow", "simulation", "functionApp")
# "Subworkflows cannot contain dynamic tasks or nested subworkflows" [DOCS limits_and_restrictions_workflows].
NOT_INLINE = ("subworkflow", "dynamic")
# guess: the spec copy allows 100 tasks per definition, the limits page (2026) 200 tasks per execution; the wider
# one is taken, for a version's list and for each inline subworkflow's list alike.
MAX_TASKS = 200
MAX_DEPENDS_ON = 100  # [OAS; TOOLKIT TaskDefinition.depends_on]
MAX_NAME = 255  # [OAS; TOOLKIT]
MAX_DESCRIPTION = 500  # [OAS; TOOLKIT]
# guess: the spec copy says timeout 100..43200 s, the toolkit 60..86400 s; the wider range is taken.
TIMEOUT_RANGE = range(60, 86401)
RETRIES_RANGE = range(0, 11)  # [OAS; DOCS task types: "any value from 0 to 10"]
# The defaults CDF fills and returns in every task [OAS; SDK WorkflowTask; DOCS task types; toolkit
# cruds/_resource_cruds/workflow.py WorkflowVersionCRUD.dump_resource (toolkit#1525, #1814), which ignores exactly
# retries 3, timeout 3600, onFailure abortWorkflow and dependsOn [] when they come back from CDF].
DEFAULT_RETRIES = 3
DEFAULT_TIMEOUT = 3600
DEFAULT_ON_FAILURE = "abortWorkflow"
ON_FAILURE = ("abortWorkflow", "skipTask")


def _label(xid: str, parent: str | None) -> str:
    return f"Task {xid!r}" if parent is None else f"Task {xid!r} (in subworkflow {parent!r})"


def _int_in(value: Any, default: int, allowed: range, label: str, name: str) -> int:
    if value is None:
        return default  # guess: null is taken as omitted (the SDK leaves None out; CDF's answer to null is unknown)
    if isinstance(value, bool) or not isinstance(value, int) or value not in allowed:
        raise BadRequest(f"{label}: {name} must be an integer between {allowed.start} and {allowed.stop - 1}")
    return value


def _text(raw: dict[str, Any], name: str, limit: int, label: str) -> str | None:
    value = raw.get(name)
    if value is not None and (not isinstance(value, str) or len(value) > limit):
        raise BadRequest(f"{label}: {name} must be a string of at most {limit} characters")
    return value


def _depends_on(value: Any, label: str) -> list[dict[str, str]]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(
        isinstance(d, dict) and isinstance(d.get("externalId"), str) for d in value
    ):
        raise BadRequest(f"{label}: dependsOn must be a list of {{externalId}} objects")
    if len(value) > MAX_DEPENDS_ON:
        raise BadRequest(f"{label}: dependsOn must list at most {MAX_DEPENDS_ON} tasks")
    return [{"externalId": d["externalId"]} for d in value]  # fmt: skip


def _task(raw: Any, index: int, parent: str | None) -> dict[str, Any]:
    where = "workflowDefinition.tasks" if parent is None else f"subworkflow {parent!r} tasks"
    if not isinstance(raw, dict):
        raise BadRequest(f"{where}[{index}] must be an object")
    xid = validate_identifier(raw.get("externalId"), f"{where}[{index}].externalId")
    if xid == "workflow" or xid.startswith("__"):
        # Reserved [OAS, as summarised in the project's CDF API notes]: `${workflow.input}` names the workflow.
        raise BadRequest(f"{where}[{index}].externalId must not be 'workflow' or start with '__', got {xid!r}")
    label = _label(xid, parent)
    task_type = raw.get("type")
    if task_type not in TASK_TYPES:
        raise BadRequest(f"{label}: type must be one of {', '.join(TASK_TYPES)}, got {task_type!r}")
    if parent is not None and task_type in NOT_INLINE:
        raise BadRequest(f"{label}: a subworkflow cannot contain {task_type} tasks (no dynamic or nested subworkflow)")
    # guess: unknown keys at the task level (beside parameters) are dropped, not refused: no source says which.
    task: dict[str, Any] = {
        "externalId": xid,
        "type": task_type,
        "retries": _int_in(raw.get("retries"), DEFAULT_RETRIES, RETRIES_RANGE, label, "retries"),
        "timeout": _int_in(raw.get("timeout"), DEFAULT_TIMEOUT, TIMEOUT_RANGE, label, "timeout"),
        "onFailure": DEFAULT_ON_FAILURE if raw.get("onFailure") is None else raw["onFailure"],
        "dependsOn": _depends_on(raw.get("dependsOn"), label),
    }
    if task["onFailure"] not in ON_FAILURE:
        raise BadRequest(f"{label}: onFailure must be abortWorkflow or skipTask, got {task['onFailure']!r}")
    for name, limit in (("name", MAX_NAME), ("description", MAX_DESCRIPTION)):
        text = _text(raw, name, limit, label)
        if text is not None:
            task[name] = text
    task["parameters"] = check_parameters(task_type, raw.get("parameters"), xid, label, _inline_tasks)
    # guess: the key order of a returned task is unknown (JSON objects are unordered); this one is the SDK's dump
    # order with parameters third.
    return {key: task[key] for key in _KEY_ORDER if key in task}


_KEY_ORDER = ("externalId", "type", "parameters", "name", "description", "retries", "timeout", "onFailure", "dependsOn")


def check_tasks(raw_tasks: Any, parent: str | None = None) -> list[dict[str, Any]]:
    """A task list as CDF stores it (defaults filled, order kept) or 400; `parent` names an inline subworkflow."""
    # guess: no source says whether CDF keeps the tasks' order (the toolkit re-sorts what CDF returns into its local
    # order before comparing, which hints that it may not); the emulator keeps the order given.
    where = "workflowDefinition.tasks" if parent is None else f"{_label(parent, None)}: parameters.subworkflow.tasks"
    if not isinstance(raw_tasks, list):
        raise BadRequest(f"{where} must be a list")
    if parent is not None and not raw_tasks:
        raise BadRequest(f"{where} must hold at least one task")  # "tasks:[1-100]" [OAS]
    if len(raw_tasks) > MAX_TASKS:
        raise BadRequest(f"{where} must hold at most {MAX_TASKS} tasks, got {len(raw_tasks)}")
    tasks = [_task(raw, i, parent) for i, raw in enumerate(raw_tasks)]
    seen: set[str] = set()
    for task in tasks:
        # guess: ids must be unique within each list (a version's, an inline subworkflow's); whether CDF also
        # refuses an id reused across the two levels is unknown.
        if task["externalId"] in seen:
            raise BadRequest(
                f"Duplicate task externalId {task['externalId']!r}", duplicated=[{"externalId": task["externalId"]}]
            )
        seen.add(task["externalId"])
    topological_order(tasks)
    return tasks


def _inline_tasks(raw_tasks: Any, parent: str) -> list[dict[str, Any]]:
    return check_tasks(raw_tasks, parent)


def topological_order(tasks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Tasks in `dependsOn` order (definition order among ready tasks); 400 on unknown ids or cycles."""
    # guess: CDF's answer to a dependsOn on a missing task or to a cycle is undocumented (the toolkit only warns
    # client-side); a 400 is assumed.
    by_id = {t["externalId"]: t for t in tasks}
    for t in tasks:
        for dep in t["dependsOn"]:
            if dep["externalId"] not in by_id:
                raise BadRequest(f"Task {t['externalId']!r} depends on unknown task {dep['externalId']!r}")
    ordered: list[dict[str, Any]] = []
    done: set[str] = set()
    while len(ordered) < len(tasks):
        ready = [
            t for t in tasks if t["externalId"] not in done and all(d["externalId"] in done for d in t["dependsOn"])
        ]
        if not ready:
            raise BadRequest("Task dependencies form a cycle")
        for t in ready:
            ordered.append(t)
            done.add(t["externalId"])
    return ordered


def validate_definition(definition: Any) -> tuple[str | None, list[dict[str, Any]]]:
    """(description, tasks as stored) of a version's workflowDefinition, or 400."""
    if not isinstance(definition, dict):
        raise BadRequest("workflowDefinition must be an object")
    tasks = check_tasks(definition.get("tasks"))
    description = definition.get("description")
    if description is not None and (not isinstance(description, str) or len(description) > MAX_DESCRIPTION):
        raise BadRequest(f"workflowDefinition.description must be a string of at most {MAX_DESCRIPTION} characters")
    return description, tasks
