"""Check-time validation of Workflow and WorkflowVersion inputs: every refusal names the task and the problem."""

from __future__ import annotations

from typing import Any

import pytest
from pulumi.output import Unknown

from pulumi_cdf_workflows.definitions import (
    definition_problems,
    validate_version,
    validate_workflow,
)
from pulumi_cdf_workflows.inputs import UNKNOWN

from .conftest import _task, _two_tasks


def _version_props(definition: Any, **overrides: Any) -> dict[str, Any]:
    props: dict[str, Any] = {"workflow_external_id": "etl", "version": "1", "workflow_definition": definition}
    props.update(overrides)
    return props


def _refusal(definition: dict[str, Any]) -> str:
    """The one failure check reports for a definition; it is always about `workflow_definition`."""
    args, failures = validate_version(_version_props(definition))
    assert args is None
    assert len(failures) == 1, failures
    prop, reason = failures[0]
    assert prop == "workflow_definition"
    return reason


# --- valid definitions ------------------------------------------------------------------------------------


def test_a_valid_two_task_definition_gives_a_model() -> None:
    args, failures = validate_version(_version_props(_two_tasks()))
    assert failures == []
    assert args is not None
    assert args.workflow_external_id == "etl"
    assert args.version == "1"
    assert [t["externalId"] for t in args.workflow_definition["tasks"]] == ["extract", "load"]
    assert definition_problems(_two_tasks()) == []


def test_a_version_number_from_the_engine_becomes_the_version_string() -> None:
    args, failures = validate_version(_version_props(_two_tasks(), version=1.0))
    assert failures == []
    assert args is not None
    assert args.version == "1"


def test_retries_and_timeout_sent_as_floats_by_the_engine_are_accepted() -> None:
    definition = _two_tasks(retries=3.0, timeout=3600.0, onFailure="skipTask", name="Load", description="loads")
    args, failures = validate_version(_version_props(definition))
    assert failures == []
    assert args is not None


@pytest.mark.parametrize(("retries", "timeout"), [(0.0, 100.0), (10.0, 43_200.0)])
def test_retries_and_timeout_at_their_limits_are_accepted(retries: float, timeout: float) -> None:
    assert definition_problems(_two_tasks(retries=retries, timeout=timeout)) == []


def test_one_hundred_tasks_are_accepted() -> None:
    assert definition_problems({"tasks": [_task(f"t{i}") for i in range(100)]}) == []


def test_every_task_type_is_accepted() -> None:
    types = ("function", "transformation", "cdf", "dynamic", "subworkflow", "simulation")
    assert definition_problems({"tasks": [_task(f"t-{t}", t) for t in types]}) == []


# --- refusals, each naming the task -----------------------------------------------------------------------


def test_an_unknown_task_type_is_refused_listing_the_known_types() -> None:
    reason = _refusal({"tasks": [_task("load", "lambda")]})
    assert "task 'load'" in reason
    assert "'lambda'" in reason
    for known in ("function", "transformation", "cdf", "dynamic", "subworkflow", "simulation"):
        assert known in reason


def test_a_task_external_id_defined_twice_is_refused() -> None:
    reason = _refusal({"tasks": [_task("load"), _task("load", "cdf")]})
    assert "task 'load' is defined 2 times" in reason


def test_a_dependency_on_a_task_not_in_the_version_is_refused() -> None:
    reason = _refusal({"tasks": [_task("load", dependsOn=[{"externalId": "extract"}])]})
    assert "task 'load' depends on 'extract'" in reason
    assert "not a task of this version" in reason


def test_a_dependency_cycle_is_refused_showing_the_cycle() -> None:
    reason = _refusal(
        {
            "tasks": [
                _task("a", dependsOn=[{"externalId": "b"}]),
                _task("b", dependsOn=[{"externalId": "a"}]),
            ]
        }
    )
    assert "cycle" in reason
    assert "a -> b -> a" in reason


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
    assert f"task {xid!r}" in reason
    assert "must not be 'workflow' or start with '__'" in reason


@pytest.mark.parametrize(
    ("task", "expected"),
    [
        ({"externalId": "load", "type": "function"}, "parameters is required"),
        ({"externalId": "load", "type": "function", "parameters": "fn"}, "parameters is required"),
        (_task("load", retries=11.0), "retries must be a whole number from 0 to 10"),
        (_task("load", retries=-1.0), "retries must be a whole number from 0 to 10"),
        (_task("load", retries=2.5), "retries must be a whole number from 0 to 10"),
        (_task("load", retries=True), "retries must be a whole number from 0 to 10"),
        (_task("load", timeout=99.0), "timeout must be a whole number of seconds from 100 to 43200"),
        (_task("load", timeout=43_201.0), "timeout must be a whole number of seconds from 100 to 43200"),
        (_task("load", timeout="1h"), "timeout must be a whole number of seconds from 100 to 43200"),
        (_task("load", onFailure="ignore"), "onFailure must be one of abortWorkflow, skipTask, got 'ignore'"),
        (_task("load", dependOn=[{"externalId": "x"}]), "unknown keys ['dependOn']"),
        (_task("load", description="d" * 501), "description must be a string of at most 500 characters"),
        (_task("load", name="n" * 256), "name must be a string of at most 255 characters"),
        (_task("load", dependsOn=["extract"]), "dependsOn must be a list of {'externalId': ...} objects"),
    ],
)
def test_each_task_limit_is_refused_naming_the_task(task: dict[str, Any], expected: str) -> None:
    reason = _refusal({"tasks": [task]})
    assert reason.startswith("task 'load'"), reason
    assert expected in reason


def test_a_misspelt_key_message_lists_the_keys_cdf_knows() -> None:
    reason = _refusal({"tasks": [_task("load", dependOn=[{"externalId": "x"}])]})
    assert "dependsOn" in reason.split("CDF knows", 1)[1]


def test_a_task_external_id_with_leading_whitespace_is_refused() -> None:
    reason = _refusal({"tasks": [_task(" load")]})
    assert "task ' load'" in reason
    assert "leading or trailing whitespace" in reason


def test_a_task_external_id_over_255_characters_is_refused() -> None:
    reason = _refusal({"tasks": [_task("t" * 256)]})
    assert "256 characters long; CDF allows at most 255" in reason


def test_a_task_without_external_id_is_named_by_its_position() -> None:
    reason = _refusal({"tasks": [_task("extract"), {"type": "cdf", "parameters": {}}]})
    assert "tasks[1]: externalId is required" in reason


def test_more_than_one_hundred_tasks_are_refused() -> None:
    reason = _refusal({"tasks": [_task(f"t{i}") for i in range(101)]})
    assert "101 tasks; CDF allows at most 100" in reason


def test_a_definition_description_over_500_characters_is_refused() -> None:
    reason = _refusal({"description": "d" * 501, "tasks": [_task("load")]})
    assert "workflow_definition.description must be a string of at most 500 characters" in reason


@pytest.mark.parametrize(
    ("definition", "expected"),
    [
        ({"description": "no tasks"}, "workflow_definition.tasks is required"),
        ({"tasks": {"load": _task("load")}}, "workflow_definition.tasks is required"),
        ({"task": [_task("load")]}, "unknown keys ['task']"),
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
    reason = _refusal(definition)
    for problem in problems:
        assert problem in reason
    assert "workflow_definition.description" in reason
    assert "task 'extract': type must be one of" in reason
    assert "task 'load': retries" in reason
    assert "task 'load': onFailure" in reason
    assert "task 'publish': parameters is required" in reason


def test_duplicate_and_dangling_dependencies_are_reported_together() -> None:
    problems = definition_problems(
        {"tasks": [_task("load"), _task("load", "cdf"), _task("publish", dependsOn=[{"externalId": "nowhere"}])]}
    )
    assert any("task 'load' is defined 2 times" in p for p in problems)
    assert any("task 'publish' depends on 'nowhere'" in p for p in problems)


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
    args, failures = validate_version(_version_props(definition))
    assert failures == []
    assert args is None


def test_unknown_objects_from_the_plugin_count_as_unknown() -> None:
    # Even next to a problem that would be refused once the unknown is resolved.
    definition = {"tasks": [_task("load", "lambda", retries=Unknown())]}  # type: ignore[no-untyped-call]
    assert definition_problems(definition) == []
    args, failures = validate_version(_version_props(definition))
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
    args, failures = validate_version(_version_props(_two_tasks(), **overrides))
    assert failures == []
    assert args is None


def test_an_unknown_workflow_external_id_is_not_refused() -> None:
    args, failures = validate_workflow({"external_id": UNKNOWN, "description": "nightly"})
    assert failures == []
    assert args is None


def test_problems_in_tasks_and_in_dependencies_are_reported_together() -> None:
    tasks = [_task("a", "nope"), _task("b", "cdf", dependsOn=[{"externalId": "zz"}])]
    _, failures = validate_version(_version_props({"tasks": tasks}))
    (reason,) = [r for p, r in failures if p == "workflow_definition"]
    assert "task 'a': type must be one of" in reason
    assert "task 'b' depends on 'zz'" in reason


def test_known_definition_problems_are_reported_while_the_version_is_unknown() -> None:
    _, failures = validate_version(_version_props({"tasks": [_task("load", "lambda")]}, version=UNKNOWN))
    assert any(prop == "workflow_definition" and "task 'load'" in reason for prop, reason in failures), failures


# --- validate_workflow ------------------------------------------------------------------------------------


def test_a_valid_workflow_gives_a_model_with_whole_numbers() -> None:
    args, failures = validate_workflow(
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
    args, failures = validate_workflow(props)
    assert args is None
    assert len(failures) == 1, failures
    failed_prop, reason = failures[0]
    assert failed_prop == prop
    assert expected in reason


@pytest.mark.parametrize("value", [1.0, 10_000.0])
def test_max_concurrent_executions_at_its_limits_is_accepted(value: float) -> None:
    args, failures = validate_workflow({"external_id": "etl", "max_concurrent_executions": value})
    assert failures == []
    assert args is not None
