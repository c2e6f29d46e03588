"""Each task type's parameters are checked against a model of their own: keys CDF does not know are refused
with a likely fix, limits name the path and the value, and a subworkflow's inline tasks are checked as tasks."""

from __future__ import annotations

from typing import Any

import pytest

from pulumi_cdf_workflows.resources.workflow_version import WorkflowVersionArgs
from pulumi_cdf_workflows.validation.definitions import definition_problems
from pulumi_cdf_workflows.validation.fields import validated
from pulumi_cdf_workflows.validation.task_parameters import parameter_problems

from .conftest import _task


def _problems(task: dict[str, Any]) -> list[str]:
    """The definition's problems with one task, without the path prefix every one of them starts with."""
    problems = definition_problems({"tasks": [task]})
    prefix = f"workflow_definition.tasks[0] {task['externalId']!r}: "
    assert all(p.startswith(prefix) for p in problems), problems
    return [p[len(prefix) :] for p in problems]


# --- accepted ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("type_", "parameters"),
    [
        ("function", {"function": {"externalId": "fn", "data": {"days": 7.0}}, "isAsyncComplete": True}),
        ("function", {"function": {"externalId": "${plan.output.fn}", "data": "${workflow.input}"}}),
        (
            "transformation",
            {
                "transformation": {
                    "externalId": "tr",
                    "concurrencyPolicy": "waitForCurrent",
                    "useTransformationCredentials": True,
                }
            },
        ),
        (
            "cdf",
            {
                "cdfRequest": {
                    "resourcePath": "/timeseries/${plan.output.id}",
                    "method": "DELETE",
                    "queryParameters": {"limit": 10.0},
                    "body": {"items": []},
                    "requestTimeoutInMillis": 100.0,
                    "cdfVersionHeader": "beta",
                }
            },
        ),
        ("cdf", {"cdfRequest": {"resourcePath": "/a", "method": "${plan.output.method}", "queryParameters": "${x}"}}),
        ("cdf", {"cdfRequest": {"resourcePath": "/a", "method": "GET", "requestTimeoutInMillis": "${plan.output.ms}"}}),
        ("dynamic", {"dynamic": {"tasks": "${plan.output.tasks}"}}),
        ("subworkflow", {"subworkflow": {"workflowExternalId": "child", "version": "2"}}),
        (
            "simulation",
            {
                "simulation": {
                    "routineExternalId": "routine",
                    "runTime": 1_700_000_000_000.0,
                    "inputs": [
                        {"referenceId": "T", "value": 20.5, "unit": {"name": "C"}},
                        {"referenceId": "tags", "value": ["a", "b"]},
                    ],
                }
            },
        ),
        (
            "functionApp",
            {
                "functionApp": {
                    "externalId": "app",
                    "path": "/score",
                    "method": "PATCH",
                    "parameters": {"mode": "fast"},
                    "body": {"x": 1},
                }
            },
        ),
    ],
)
def test_parameters_as_the_sources_write_them_are_accepted(type_: str, parameters: dict[str, Any]) -> None:
    assert parameter_problems(type_, parameters) == []
    assert definition_problems({"tasks": [_task("t", type_, parameters=parameters)]}) == []


# --- unknown keys, at every level -------------------------------------------------------------------------


def test_a_misspelt_parameter_key_is_refused_with_the_key_meant() -> None:
    task = _task("load", parameters={"function": {"externalId": "fn"}, "isAsyncCompleted": True})
    assert _problems(task) == [
        "parameters: unknown key 'isAsyncCompleted' (parameters takes function, isAsyncComplete); "
        "did you mean 'isAsyncComplete'?"
    ]


def test_a_misspelt_nested_key_is_refused_once_not_also_as_missing() -> None:
    task = _task("load", parameters={"function": {"externalID": "fn"}})
    assert _problems(task) == [
        "parameters.function: unknown key 'externalID' (parameters.function takes externalId, data); "
        "did you mean 'externalId'?"
    ]


def test_a_function_task_with_transformation_parameters_is_refused_showing_the_shape() -> None:
    task = _task("load", "function", parameters={"transformation": {"externalId": "tr"}})
    assert _problems(task) == [
        "parameters holds 'transformation', the parameters of a transformation task; a function task takes "
        '{"function": {"externalId", "data"?}, "isAsyncComplete"?}'
    ]


def test_a_key_of_another_type_next_to_the_right_one_is_an_unknown_key() -> None:
    parameters = {"function": {"externalId": "fn"}, "transformation": {"externalId": "tr"}}
    (problem,) = _problems(_task("load", parameters=parameters))
    assert problem.startswith("parameters: unknown key 'transformation'")


# --- limits and values, each naming the path --------------------------------------------------------------


@pytest.mark.parametrize(
    ("type_", "parameters", "expected"),
    [
        ("function", {"function": {}}, "parameters.function.externalId is required"),
        ("function", {"function": "fn"}, "parameters.function must be an object, got 'fn'"),
        ("function", {"function": {"externalId": ""}}, "parameters.function.externalId must not be empty"),
        (
            "function",
            {"function": {"externalId": "fn"}, "isAsyncComplete": "yes"},
            "parameters.isAsyncComplete must be true or false, got 'yes'",
        ),
        (
            "function",
            {"function": {"externalId": "fn", "data": {"x": "y" * (100 * 1024)}}},
            "parameters.function.data is 102408 bytes as JSON; CDF allows at most 102400 bytes (100 KB)",
        ),
        (
            "transformation",
            {"transformation": {"externalId": "tr", "concurrencyPolicy": "wait"}},
            "parameters.transformation.concurrencyPolicy must be 'fail', 'waitForCurrent' or 'restartAfterCurrent', "
            "got 'wait'",
        ),
        (
            "cdf",
            {"cdfRequest": {"resourcePath": "/a", "method": "PATCH"}},
            "parameters.cdfRequest.method must be one of POST, GET, PUT, DELETE or a ${...} reference, got 'PATCH'",
        ),
        ("cdf", {"cdfRequest": {"method": "GET"}}, "parameters.cdfRequest.resourcePath is required"),
        (
            "cdf",
            {"cdfRequest": {"resourcePath": "/" + "a" * 128, "method": "GET"}},
            "parameters.cdfRequest.resourcePath has 129 characters; CDF allows at most 128",
        ),
        (
            "cdf",
            {"cdfRequest": {"resourcePath": "/a", "method": "GET", "queryParameters": {f"k{i}": i for i in range(6)}}},
            "parameters.cdfRequest.queryParameters has 6 entries; CDF allows at most 5",
        ),
        (
            "cdf",
            {"cdfRequest": {"resourcePath": "/a", "method": "GET", "requestTimeoutInMillis": 99.0}},
            "parameters.cdfRequest.requestTimeoutInMillis must be a whole number of milliseconds of at least 100",
        ),
        (
            "cdf",
            {"cdfRequest": {"resourcePath": "/a", "method": "GET", "cdfVersionHeader": "gamma"}},
            "parameters.cdfRequest.cdfVersionHeader must be one of alpha, beta or a ${...} reference, got 'gamma'",
        ),
        (
            "dynamic",
            {"dynamic": {"tasks": [{"externalId": "x"}]}},
            "parameters.dynamic.tasks must be a ${...} reference to a list of task definitions",
        ),
        (
            "subworkflow",
            {"subworkflow": {"workflowExternalId": "child"}},
            "parameters.subworkflow needs either tasks (defined inline) or workflowExternalId and version",
        ),
        ("subworkflow", {"subworkflow": {"tasks": []}}, "parameters.subworkflow.tasks must not be empty"),
        (
            "subworkflow",
            {"subworkflow": {"workflowExternalId": "child", "version": 1.0}},
            "parameters.subworkflow.version must be a string, got 1",
        ),
        ("simulation", {"simulation": {"runTime": 5}}, "parameters.simulation.routineExternalId is required"),
        (
            "simulation",
            {"simulation": {"routineExternalId": "r", "inputs": [{"referenceId": "a", "value": 1}] * 201}},
            "parameters.simulation.inputs has 201 entries; CDF allows at most 200",
        ),
        (
            "simulation",
            {"simulation": {"routineExternalId": "r", "inputs": [{"referenceId": "a", "value": {"x": 1}}]}},
            "parameters.simulation.inputs[0].value must be a string, a number or a list of them",
        ),
        (
            "functionApp",
            {"functionApp": {"externalId": "app", "path": "/" + "p" * 255}},
            "parameters.functionApp.path has 256 characters; CDF allows at most 255",
        ),
        (
            "functionApp",
            {"functionApp": {"externalId": "app", "path": "/", "parameters": {f"k{i}": "v" for i in range(11)}}},
            "parameters.functionApp.parameters has 11 entries; CDF allows at most 10",
        ),
        (
            "functionApp",
            {"functionApp": {"externalId": "app", "path": "/", "method": "HEAD"}},
            "parameters.functionApp.method must be one of GET, POST, PUT, DELETE, PATCH or a ${...} reference",
        ),
    ],
)
def test_each_parameter_limit_names_the_path_and_the_value(
    type_: str, parameters: dict[str, Any], expected: str
) -> None:
    problems = _problems(_task("t", type_, parameters=parameters))
    assert any(p.startswith(expected) for p in problems), problems


def test_parameter_problems_are_failures_on_no_property_with_the_whole_path() -> None:
    task = _task("load", "cdf", parameters={"cdfRequest": {"resourcePath": "/a", "method": "PATCH"}})
    args, failures = validated(WorkflowVersionArgs,
        {"workflow_external_id": "etl", "version": "1", "workflow_definition": {"tasks": [_task("x"), task]}}
    )
    assert args is None
    assert failures == [
        (
            "",
            "workflow_definition.tasks[1] 'load': parameters.cdfRequest.method must be one of POST, GET, PUT, "
            "DELETE or a ${...} reference, got 'PATCH'",
        )
    ]


# --- inline subworkflow tasks -----------------------------------------------------------------------------


def _stage(*tasks: dict[str, Any]) -> dict[str, Any]:
    return _task("stage", "subworkflow", parameters={"subworkflow": {"tasks": list(tasks)}})


def test_inline_tasks_that_depend_on_each_other_are_accepted() -> None:
    stage = _stage(_task("a", "cdf"), _task("b", dependsOn=[{"externalId": "a"}]))
    assert definition_problems({"tasks": [_task("first"), stage]}) == []


def test_inline_tasks_are_checked_like_top_level_tasks_with_the_whole_path() -> None:
    stage = _stage(_task("a", timeout=30.0), _task("b", dependsOn=[{"externalId": "first"}]))
    problems = definition_problems({"tasks": [_task("first"), stage]})
    assert problems == [
        "workflow_definition.tasks[1] 'stage': parameters.subworkflow.tasks[0] 'a': timeout must be a whole number "
        "of seconds from 60 to 86400, got 30",
        # Inline tasks depend on each other only: a top-level task is not among them.
        "workflow_definition.tasks[1] 'stage': parameters.subworkflow.tasks[1] 'b': depends on 'first', which is "
        "not a task of this subworkflow",
    ]


def test_inline_tasks_may_not_be_subworkflow_or_dynamic_tasks() -> None:
    stage = _stage(_task("inner", "subworkflow"), _task("gen", "dynamic"))
    problems = definition_problems({"tasks": [stage]})
    assert len(problems) == 2, problems
    assert problems[0].endswith(
        "tasks[0] 'inner': a subworkflow task cannot be inside a subworkflow (CDF allows no "
        "dynamic or nested subworkflow tasks there)"
    )
    assert "tasks[1] 'gen': a dynamic task cannot be inside a subworkflow" in problems[1]


def test_a_cycle_among_inline_tasks_is_refused() -> None:
    stage = _stage(_task("a", dependsOn=[{"externalId": "b"}]), _task("b", dependsOn=[{"externalId": "a"}]))
    assert definition_problems({"tasks": [stage]}) == [
        "workflow_definition.tasks[0] 'stage': parameters.subworkflow.tasks: tasks depend on each other in a cycle: "
        "a -> b -> a"
    ]


def test_an_inline_task_with_unknown_parameters_is_refused() -> None:
    stage = _stage(_task("a", parameters={"function": {"externalId": "fn", "dta": {}}}))
    assert definition_problems({"tasks": [stage]}) == [
        "workflow_definition.tasks[0] 'stage': parameters.subworkflow.tasks[0] 'a': parameters.function: unknown key "
        "'dta' (parameters.function takes externalId, data); did you mean 'data'?"
    ]
