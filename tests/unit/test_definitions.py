"""Check-time validation of Workflow and WorkflowVersion inputs: every refusal names the task and the problem."""

from __future__ import annotations

from typing import Any

import pytest
from pulumi.output import Unknown

from pulumi_cdf_workflows.resources.workflow import WorkflowArgs
from pulumi_cdf_workflows.resources.workflow_version import WorkflowVersionArgs
from pulumi_cdf_workflows.validation.definitions import (
    definition_problems,
)
from pulumi_cdf_workflows.validation.fields import UNKNOWN, validated

from .conftest import _task, _two_tasks


def _version_props(definition: Any, **overrides: Any) -> dict[str, Any]:
    props: dict[str, Any] = {"workflow_external_id": "etl", "version": "1", "workflow_definition": definition}
    props.update(overrides)
    return props


def _refusal(definition: dict[str, Any]) -> str:
    """The one failure check reports for a definition: on no property, with the path in the reason (the engine
    shows a failure on a named property after its whole value, which buries the reason)."""
    args, failures = validated(WorkflowVersionArgs, _version_props(definition))
    assert args is None
    assert len(failures) == 1, failures
    prop, reason = failures[0]
    assert prop == ""
    assert reason.startswith("workflow_definition"), reason
    return reason


# --- valid definitions ------------------------------------------------------------------------------------


def test_a_valid_two_task_definition_gives_a_model() -> None:
    args, failures = validated(WorkflowVersionArgs, _version_props(_two_tasks()))
    assert failures == []
    assert args is not None
    assert args.workflow_external_id == "etl"
    assert args.version == "1"
    assert [t["externalId"] for t in args.workflow_definition["tasks"]] == ["extract", "load"]
    assert definition_problems(_two_tasks()) == []


def test_a_version_number_from_the_engine_becomes_the_version_string() -> None:
    args, failures = validated(WorkflowVersionArgs, _version_props(_two_tasks(), version=1.0))
    assert failures == []
    assert args is not None
    assert args.version == "1"


def test_retries_and_timeout_sent_as_floats_by_the_engine_are_accepted() -> None:
    definition = _two_tasks(retries=3.0, timeout=3600.0, onFailure="skipTask", name="Load", description="loads")
    args, failures = validated(WorkflowVersionArgs, _version_props(definition))
    assert failures == []
    assert args is not None


@pytest.mark.parametrize(("retries", "timeout"), [(0.0, 60.0), (10.0, 86_400.0)])
def test_retries_and_timeout_at_their_limits_are_accepted(retries: float, timeout: float) -> None:
    # The Toolkit's task timeout range, 60-86400 s, is wider than the spec copy's 100-43200: the wider is taken.
    assert definition_problems(_two_tasks(retries=retries, timeout=timeout)) == []


def test_two_hundred_tasks_are_accepted() -> None:
    # The limits page allows 200 tasks per execution; the spec copy says 100 per definition: the wider is taken.
    assert definition_problems({"tasks": [_task(f"t{i}") for i in range(200)]}) == []


def test_every_task_type_is_accepted_functionapp_too() -> None:
    types = ("function", "transformation", "cdf", "dynamic", "subworkflow", "simulation", "functionApp")
    assert definition_problems({"tasks": [_task(f"t-{t}", t) for t in types]}) == []


# --- refusals, each naming the task -----------------------------------------------------------------------


def test_an_unknown_task_type_is_refused_listing_the_known_types() -> None:
    reason = _refusal({"tasks": [_task("load", "lambda")]})
    assert reason.startswith("workflow_definition.tasks[0] 'load': type must be one of")
    assert "'lambda'" in reason
    for known in ("function", "transformation", "cdf", "dynamic", "subworkflow", "simulation", "functionApp"):
        assert known in reason


def test_a_task_external_id_defined_twice_is_refused() -> None:
    reason = _refusal({"tasks": [_task("load"), _task("load", "cdf")]})
    assert reason == (
        "workflow_definition.tasks: task 'load' is defined 2 times (at [0], [1]); each task's externalId must be "
        "unique within the version"
    )


def test_a_dependency_on_a_task_not_in_the_version_is_refused() -> None:
    reason = _refusal({"tasks": [_task("load", dependsOn=[{"externalId": "extract"}])]})
    assert reason == "workflow_definition.tasks[0] 'load': depends on 'extract', which is not a task of this version"


def test_a_misspelt_dependency_suggests_the_task_meant() -> None:
    reason = _refusal({"tasks": [_task("extract"), _task("load", dependsOn=[{"externalId": "extrct"}])]})
    assert reason == (
        "workflow_definition.tasks[1] 'load': depends on 'extrct', which is not a task of this version; "
        "did you mean 'extract'?"
    )


def test_dependencies_written_as_ids_give_one_failure_that_shows_the_fix() -> None:
    # Not also a false "depends on 'load', which is not a task" for the task that depends on the malformed one.
    tasks = [
        _task("extract"),
        _task("load", dependsOn=["extract"]),
        _task("publish", dependsOn=[{"externalId": "load"}]),
    ]
    reason = _refusal({"tasks": tasks})
    assert reason == (
        "workflow_definition.tasks[1] 'load': dependsOn lists objects, not task ids: write "
        '[{"externalId": "extract"}] instead of ["extract"]'
    )


def test_a_dependency_cycle_is_refused_showing_the_cycle() -> None:
    reason = _refusal(
        {
            "tasks": [
                _task("a", dependsOn=[{"externalId": "b"}]),
                _task("b", dependsOn=[{"externalId": "a"}]),
            ]
        }
    )
    assert reason == "workflow_definition.tasks: tasks depend on each other in a cycle: a -> b -> a"


def test_a_longer_cycle_behind_an_entry_task_shows_only_the_cycle() -> None:
    reason = _refusal(
        {
            "tasks": [
                _task("start", dependsOn=[{"externalId": "x"}]),
                _task("x", dependsOn=[{"externalId": "y"}]),
                _task("y", dependsOn=[{"externalId": "z"}]),
                _task("z", dependsOn=[{"externalId": "x"}]),
            ]
        }
    )
    assert "x -> y -> z -> x" in reason
    assert "start" not in reason


def test_a_task_depending_on_itself_is_refused() -> None:
    reason = _refusal({"tasks": [_task("load", dependsOn=[{"externalId": "load"}])]})
    assert "cycle" in reason
    assert "load -> load" in reason


@pytest.mark.parametrize("xid", ["workflow", "__internal"])
def test_reserved_task_external_ids_are_refused(xid: str) -> None:
    reason = _refusal({"tasks": [_task(xid)]})
    assert reason.startswith(f"workflow_definition.tasks[0] {xid!r}: externalId {xid!r} is reserved")
    assert "'workflow' and ids that start with '__'" in reason


@pytest.mark.parametrize(
    ("task", "expected"),
    [
        ({"externalId": "load", "type": "function"}, "parameters is required and must be an object, e.g. {"),
        ({"externalId": "load", "type": "function", "parameters": "fn"}, "parameters is required"),
        (_task("load", retries=11.0), "retries must be a whole number from 0 to 10, got 11"),
        (_task("load", retries=-1.0), "retries must be a whole number from 0 to 10, got -1"),
        (_task("load", retries=2.5), "retries must be a whole number from 0 to 10, got 2.5"),
        (_task("load", retries=True), "retries must be a whole number from 0 to 10, got True"),
        (_task("load", timeout=59.0), "timeout must be a whole number of seconds from 60 to 86400, got 59"),
        (_task("load", timeout=86_401.0), "timeout must be a whole number of seconds from 60 to 86400, got 86401"),
        (_task("load", timeout="1h"), "timeout must be a whole number of seconds from 60 to 86400, got '1h'"),
        (_task("load", onFailure="skip"), "onFailure must be one of abortWorkflow, skipTask, got 'skip'"),
        (_task("load", description="d" * 501), "description must be a string of at most 500 characters"),
        (_task("load", name="n" * 256), "name must be a string of at most 255 characters"),
        (_task("load", dependsOn={"externalId": "x"}), 'dependsOn must be a list of {"externalId": ...} objects'),
        (_task("load", dependsOn=[{"id": "x"}]), "dependsOn[0]: unknown key 'id' (a dependency takes externalId)"),
        (_task("load", dependsOn=[{"externalId": f"t{i}"} for i in range(101)]), "101 entries; CDF allows at most 100"),
    ],
)
def test_each_task_limit_is_refused_naming_the_task(task: dict[str, Any], expected: str) -> None:
    args, failures = validated(WorkflowVersionArgs, _version_props({"tasks": [task]}))
    assert args is None
    reasons = [reason for prop, reason in failures if prop == ""]
    assert all(r.startswith("workflow_definition.tasks[0] 'load': ") for r in reasons), reasons
    assert any(expected in r for r in reasons), reasons


def test_a_misspelt_task_key_suggests_the_key_meant_and_lists_the_keys() -> None:
    reason = _refusal({"tasks": [_task("load", dependOn=[{"externalId": "x"}])]})
    assert reason.startswith("workflow_definition.tasks[0] 'load': unknown key 'dependOn' (a task takes externalId,")
    assert reason.endswith("; did you mean 'dependsOn'?")


def test_a_misspelt_definition_key_suggests_the_key_meant() -> None:
    reason = _refusal({"tasks": [_task("load")], "descripton": "etl"})
    assert reason == (
        "workflow_definition: unknown key 'descripton' (a definition takes tasks, description); "
        "did you mean 'description'?"
    )


def test_a_task_external_id_with_leading_whitespace_is_refused() -> None:
    reason = _refusal({"tasks": [_task(" load")]})
    assert reason.startswith("workflow_definition.tasks[0] ' load': externalId ' load' has leading or trailing")


def test_a_task_external_id_over_255_characters_is_refused() -> None:
    reason = _refusal({"tasks": [_task("t" * 256)]})
    assert "256 characters long; CDF allows at most 255" in reason


def test_a_task_without_external_id_is_named_by_its_position() -> None:
    reason = _refusal({"tasks": [_task("extract"), {"type": "cdf", "parameters": _task("x", "cdf")["parameters"]}]})
    assert reason == "workflow_definition.tasks[1]: externalId is required and must be a string, got None"


def test_more_than_two_hundred_tasks_are_refused() -> None:
    reason = _refusal({"tasks": [_task(f"t{i}") for i in range(201)]})
    assert reason == "workflow_definition.tasks has 201 tasks; CDF allows at most 200 per version"


def test_a_definition_description_over_500_characters_is_refused() -> None:
    reason = _refusal({"description": "d" * 501, "tasks": [_task("load")]})
    assert "workflow_definition.description must be a string of at most 500 characters" in reason


@pytest.mark.parametrize(
    ("definition", "expected"),
    [
        ({"description": "no tasks"}, "workflow_definition.tasks is required"),
        ({"tasks": {"load": _task("load")}}, "workflow_definition.tasks is required"),
        ({"task": [_task("load")]}, "workflow_definition: unknown key 'task' (a definition takes tasks, description)"),
    ],
)
def test_a_malformed_definition_is_refused(definition: dict[str, Any], expected: str) -> None:
    assert expected in _refusal(definition)


def test_several_problems_are_reported_at_once() -> None:
    definition = {
        "description": "d" * 501,
        "tasks": [
            _task("extract", "lambda"),
            _task("load", retries=20.0, onFailure="ignore"),
            {"externalId": "publish", "type": "cdf"},
        ],
    }
    problems = definition_problems(definition)
    assert len(problems) == 5, problems
    args, failures = validated(WorkflowVersionArgs, _version_props(definition))
    assert args is None
    assert failures == [("", problem) for problem in problems]
    assert problems[0].startswith("workflow_definition.description must be a string of at most 500")
    assert problems[1].startswith("workflow_definition.tasks[0] 'extract': type must be one of")
    assert problems[2].startswith("workflow_definition.tasks[1] 'load': retries")
    assert problems[3].startswith("workflow_definition.tasks[1] 'load': onFailure")
    assert problems[4].startswith("workflow_definition.tasks[2] 'publish': parameters is required")


def test_duplicate_and_dangling_dependencies_are_reported_together() -> None:
    problems = definition_problems(
        {"tasks": [_task("load"), _task("load", "cdf"), _task("publish", dependsOn=[{"externalId": "nowhere"}])]}
    )
    assert any("task 'load' is defined 2 times" in p for p in problems)
    assert any(p.startswith("workflow_definition.tasks[2] 'publish': depends on 'nowhere'") for p in problems)


# --- unknown values during a preview ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "definition",
    [
        {"tasks": [_task("load", retries=UNKNOWN)]},
        {"tasks": [_task("load", parameters={"function": {"externalId": UNKNOWN}})]},
        {"tasks": [_task("load", dependsOn=[{"externalId": UNKNOWN}])]},
        {"tasks": [_task("load", type=UNKNOWN)]},
        {"tasks": UNKNOWN},
    ],
)
def test_a_definition_with_an_unknown_is_not_refused(definition: dict[str, Any]) -> None:
    assert definition_problems(definition) == []
    args, failures = validated(WorkflowVersionArgs, _version_props(definition))
    assert failures == []
    assert args is None


def test_unknown_objects_from_the_plugin_count_as_unknown() -> None:
    # Even next to a problem that would be refused once the unknown is resolved.
    definition = {"tasks": [_task("load", "lambda", retries=Unknown())]}  # type: ignore[no-untyped-call]
    assert definition_problems(definition) == []
    args, failures = validated(WorkflowVersionArgs, _version_props(definition))
    assert failures == []
    assert args is None


@pytest.mark.parametrize(
    "overrides",
    [
        {"version": UNKNOWN},
        {"version": Unknown()},  # type: ignore[no-untyped-call]
        {"workflow_external_id": UNKNOWN},
        {"workflow_definition": UNKNOWN},
    ],
)
def test_an_unknown_required_property_is_not_refused(overrides: dict[str, Any]) -> None:
    args, failures = validated(WorkflowVersionArgs, _version_props(_two_tasks(), **overrides))
    assert failures == []
    assert args is None


def test_an_unknown_workflow_external_id_is_not_refused() -> None:
    args, failures = validated(WorkflowArgs, {"external_id": UNKNOWN, "description": "nightly"})
    assert failures == []
    assert args is None


def test_problems_in_tasks_and_in_dependencies_are_reported_together() -> None:
    tasks = [_task("a", "nope"), _task("b", "cdf", dependsOn=[{"externalId": "zz"}])]
    _, failures = validated(WorkflowVersionArgs, _version_props({"tasks": tasks}))
    reasons = [r for p, r in failures if p == ""]
    assert any(r.startswith("workflow_definition.tasks[0] 'a': type must be one of") for r in reasons)
    assert any(r.startswith("workflow_definition.tasks[1] 'b': depends on 'zz'") for r in reasons)


def test_known_definition_problems_are_reported_while_the_version_is_unknown() -> None:
    _, failures = validated(WorkflowVersionArgs, _version_props({"tasks": [_task("load", "lambda")]}, version=UNKNOWN))
    assert [(prop, reason.split(":")[0]) for prop, reason in failures] == [("", "workflow_definition.tasks[0] 'load'")]


def test_scalar_properties_keep_their_name_next_to_a_definition_problem() -> None:
    _, failures = validated(WorkflowVersionArgs, _version_props({"tasks": [_task("load", "lambda")]}, version=" 1"))
    assert [prop for prop, _ in failures] == ["version", ""]


# --- validate_workflow ------------------------------------------------------------------------------------


def test_a_valid_workflow_gives_a_model_with_whole_numbers() -> None:
    args, failures = validated(WorkflowArgs,
        {"external_id": "etl", "description": "nightly", "data_set_id": 123.0, "max_concurrent_executions": 5.0}
    )
    assert failures == []
    assert args is not None
    assert args.data_set_id == 123 and isinstance(args.data_set_id, int)
    assert args.max_concurrent_executions == 5


@pytest.mark.parametrize(
    ("props", "prop", "expected"),
    [
        ({}, "external_id", "external_id is required"),
        ({"external_id": ""}, "external_id", "must not be empty"),
        ({"external_id": " etl"}, "external_id", "leading or trailing whitespace"),
        ({"external_id": "x" * 256}, "external_id", "256 characters long; CDF allows at most 255"),
        ({"external_id": 5.0}, "external_id", "must be a string, got float"),
        ({"external_id": "etl", "description": "d" * 501}, "description", "500"),
        ({"external_id": "etl", "max_concurrent_executions": 0.0}, "max_concurrent_executions", "1"),
        ({"external_id": "etl", "max_concurrent_executions": 10_001.0}, "max_concurrent_executions", "10000"),
        ({"external_id": "etl", "max_concurrent_executions": 2.5}, "max_concurrent_executions", "integer"),
    ],
)
def test_each_workflow_limit_fails_naming_the_property(props: dict[str, Any], prop: str, expected: str) -> None:
    args, failures = validated(WorkflowArgs, props)
    assert args is None
    assert len(failures) == 1, failures
    failed_prop, reason = failures[0]
    assert failed_prop == prop
    assert expected in reason


@pytest.mark.parametrize("value", [1.0, 10_000.0])
def test_max_concurrent_executions_at_its_limits_is_accepted(value: float) -> None:
    args, failures = validated(WorkflowArgs, {"external_id": "etl", "max_concurrent_executions": value})
    assert failures == []
    assert args is not None
