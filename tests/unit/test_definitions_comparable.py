"""No perpetual diffs: every default CDF fills is filled for every task type (inline subworkflow tasks too), and
comparable_definition ignores the order of tasks and of dependencies, but not a real change."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from pulumi.output import Unknown

from pulumi_cdf_workflows.lifecycle.provider import same
from pulumi_cdf_workflows.validation.definitions import comparable_definition, normalized_definition
from pulumi_cdf_workflows.validation.fields import UNKNOWN, canonical_json, contains_unknown, restore_integers

from .conftest import _task

TASK_DEFAULTS = {"retries": 3, "timeout": 3600, "onFailure": "abortWorkflow", "dependsOn": []}


def _as_written() -> dict[str, Any]:
    """A definition as a user writes it: no defaults, and numbers as the engine sends them (floats)."""
    stage_tasks = [_task("inner-a", "cdf"), _task("inner-b", "transformation", dependsOn=[{"externalId": "inner-a"}])]
    return {
        "description": "nightly",
        "tasks": [
            _task("extract", "transformation"),
            _task("fetch", "cdf"),
            _task(
                "load",
                dependsOn=[{"externalId": "fetch"}, {"externalId": "extract"}],
                parameters={"function": {"externalId": "loader", "data": {"days": 7.0}}},
            ),
            _task("stage", "subworkflow", parameters={"subworkflow": {"tasks": stage_tasks}}, retries=1.0),
        ],
    }


def _as_cdf_returns_it() -> dict[str, Any]:
    """The same definition as CDF returns it: every default filled, tasks and dependencies in another order."""
    returned = copy.deepcopy(_as_written())
    parameters = {
        "transformation": lambda p: p["transformation"].update(
            concurrencyPolicy="fail", useTransformationCredentials=False
        ),
        "cdf": lambda p: p["cdfRequest"].update(requestTimeoutInMillis=10000),
        "function": lambda p: p.update(isAsyncComplete=False),
    }

    def fill(task: dict[str, Any]) -> None:
        for key, value in TASK_DEFAULTS.items():
            task.setdefault(key, copy.deepcopy(value))
        if task["type"] in parameters:
            parameters[task["type"]](task["parameters"])

    for task in returned["tasks"]:
        fill(task)
        task["dependsOn"].reverse()
    for task in returned["tasks"][3]["parameters"]["subworkflow"]["tasks"]:
        fill(task)
    returned["tasks"][3]["parameters"]["subworkflow"]["tasks"].reverse()
    returned["tasks"].reverse()
    restored: dict[str, Any] = restore_integers(returned)  # CDF's JSON has integers
    return restored


def _same(a: Any, b: Any) -> bool:
    return canonical_json(comparable_definition(a)) == canonical_json(comparable_definition(b))


# --- every default CDF fills ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("type_", "root", "defaults"),
    [
        ("function", None, {"isAsyncComplete": False}),
        ("transformation", "transformation", {"concurrencyPolicy": "fail", "useTransformationCredentials": False}),
        ("cdf", "cdfRequest", {"requestTimeoutInMillis": 10000}),
    ],
)
def test_each_task_types_parameter_defaults_are_filled(type_: str, root: str | None, defaults: dict[str, Any]) -> None:
    (task,) = normalized_definition({"tasks": [_task("t", type_)]})["tasks"]
    filled = task["parameters"][root] if root else task["parameters"]
    assert {k: filled[k] for k in defaults} == defaults
    assert {k: task[k] for k in TASK_DEFAULTS} == TASK_DEFAULTS


def test_inline_subworkflow_tasks_get_every_default_too() -> None:
    stage = _as_written()["tasks"][3]
    inner_a, inner_b = normalized_definition({"tasks": [stage]})["tasks"][0]["parameters"]["subworkflow"]["tasks"]
    assert {k: inner_a[k] for k in TASK_DEFAULTS} == TASK_DEFAULTS
    assert inner_a["parameters"]["cdfRequest"]["requestTimeoutInMillis"] == 10000
    assert inner_b["parameters"]["transformation"]["concurrencyPolicy"] == "fail"
    assert inner_b["dependsOn"] == [{"externalId": "inner-a"}]


def test_values_given_are_kept_and_nulls_in_parameters_dropped() -> None:
    task = _task(
        "t",
        "transformation",
        parameters={
            "transformation": {
                "externalId": "tr",
                "concurrencyPolicy": "waitForCurrent",
                "useTransformationCredentials": None,
            }
        },
    )
    (normalized,) = normalized_definition({"tasks": [task]})["tasks"]
    assert normalized["parameters"] == {
        "transformation": {
            "externalId": "tr",
            "concurrencyPolicy": "waitForCurrent",
            "useTransformationCredentials": False,
        }
    }


def test_normalizing_keeps_the_order_the_tasks_are_written_in() -> None:
    normalized = normalized_definition(_as_written())
    assert [t["externalId"] for t in normalized["tasks"]] == ["extract", "fetch", "load", "stage"]


# --- comparable_definition --------------------------------------------------------------------------------


def test_a_definition_as_written_and_as_cdf_returns_it_compare_equal() -> None:
    assert _same(_as_written(), _as_cdf_returns_it())
    assert comparable_definition(_as_written()) == comparable_definition(_as_cdf_returns_it())


def test_the_order_of_tasks_and_of_dependencies_does_not_count() -> None:
    comparable = comparable_definition(_as_cdf_returns_it())
    assert [t["externalId"] for t in comparable["tasks"]] == ["extract", "fetch", "load", "stage"]
    assert comparable["tasks"][2]["dependsOn"] == [{"externalId": "extract"}, {"externalId": "fetch"}]
    inner = comparable["tasks"][3]["parameters"]["subworkflow"]["tasks"]
    assert [t["externalId"] for t in inner] == ["inner-a", "inner-b"]


@pytest.mark.parametrize(
    "change",
    [
        lambda d: d["tasks"][2]["parameters"]["function"]["data"].update(days=30),
        lambda d: d["tasks"][2]["dependsOn"].pop(),
        lambda d: d["tasks"][0]["parameters"]["transformation"].update(concurrencyPolicy="waitForCurrent"),
        lambda d: d["tasks"][1]["parameters"]["cdfRequest"].update(requestTimeoutInMillis=20000),
        lambda d: d["tasks"][3]["parameters"]["subworkflow"]["tasks"][1].update(dependsOn=[]),
        lambda d: d["tasks"][3].update(retries=3),
        lambda d: d.update(description="weekly"),
    ],
)
def test_a_real_change_does_not_compare_equal(change: Any) -> None:
    changed = _as_written()
    change(changed)
    assert not _same(changed, _as_cdf_returns_it())


def test_comparing_does_not_change_the_definition() -> None:
    written = _as_written()
    before = copy.deepcopy(written)
    comparable_definition(written)
    assert written == before


@pytest.mark.parametrize(
    "definition",
    [
        UNKNOWN,
        None,
        {"tasks": UNKNOWN},
        {"tasks": [_task("a", dependsOn=["b"]), "not a task", _task("b", dependsOn={"externalId": "a"})]},
        {"tasks": [_task("a", parameters=None), _task("b", "subworkflow", parameters={"subworkflow": "x"})]},
        {"tasks": [_task("a", retries=Unknown()), {"externalId": Unknown(), "type": "function"}]},  # type: ignore[no-untyped-call]
    ],
)
def test_anything_diff_may_be_given_is_compared_without_failing(definition: Any) -> None:
    # Diff must never raise on what a preview or a malformed program hands it, and must compare it stably.
    assert same(comparable_definition(definition), comparable_definition(copy.deepcopy(definition))) == (
        not contains_unknown(definition)
    )
