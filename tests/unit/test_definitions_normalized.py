"""normalized_definition: CDF's defaults filled in, engine floats made whole, a canonical form for comparisons."""

from __future__ import annotations

import copy

from pulumi_cdf_workflows.validation.definitions import normalized_definition
from pulumi_cdf_workflows.validation.fields import canonical_json

from .conftest import _task, _two_tasks

# --- normalized_definition --------------------------------------------------------------------------------


def test_normalizing_fills_cdf_defaults() -> None:
    normalized = normalized_definition({"tasks": [_task("load"), _task("extract", "transformation")]})
    load, extract = normalized["tasks"]
    assert load == {
        "externalId": "load",
        "type": "function",
        "parameters": {"function": {"externalId": "load-function"}, "isAsyncComplete": False},
        "retries": 3,
        "timeout": 3600,
        "onFailure": "abortWorkflow",
        "dependsOn": [],
    }
    assert "isAsyncComplete" not in extract["parameters"]
    assert (extract["retries"], extract["timeout"], extract["onFailure"], extract["dependsOn"]) == (
        3,
        3600,
        "abortWorkflow",
        [],
    )
    assert "description" not in normalized


def test_normalizing_keeps_the_values_given_and_restores_integers() -> None:
    task = _task("load", retries=0.0, timeout=7200.0, onFailure="skipTask", dependsOn=[{"externalId": "extract"}])
    task["parameters"]["isAsyncComplete"] = True
    task["parameters"]["function"]["data"] = {"batch": 500.0, "ratio": 0.5}
    normalized = normalized_definition({"description": "etl", "tasks": [_task("extract"), task]})
    load = normalized["tasks"][1]
    assert load["retries"] == 0 and isinstance(load["retries"], int)
    assert load["timeout"] == 7200 and isinstance(load["timeout"], int)
    assert load["onFailure"] == "skipTask"
    assert load["dependsOn"] == [{"externalId": "extract"}]
    assert load["parameters"]["isAsyncComplete"] is True
    assert load["parameters"]["function"]["data"] == {"batch": 500, "ratio": 0.5}
    assert isinstance(load["parameters"]["function"]["data"]["batch"], int)
    assert normalized["description"] == "etl"


def test_normalizing_drops_none_values() -> None:
    task = _task("load", name=None, description=None, retries=None, timeout=None, onFailure=None, dependsOn=None)
    normalized = normalized_definition({"description": None, "tasks": [task]})
    (load,) = normalized["tasks"]
    assert "name" not in load and "description" not in load
    assert (load["retries"], load["timeout"], load["onFailure"], load["dependsOn"]) == (3, 3600, "abortWorkflow", [])
    assert "description" not in normalized


def test_normalizing_does_not_change_the_input() -> None:
    definition = _two_tasks(retries=2.0)
    before = copy.deepcopy(definition)
    normalized_definition(definition)
    assert definition == before


def test_normalizing_is_idempotent() -> None:
    once = normalized_definition(_two_tasks(retries=2.0, name=None))
    assert normalized_definition(once) == once
    assert canonical_json(normalized_definition(once)) == canonical_json(once)


def test_key_order_and_explicit_defaults_do_not_change_the_canonical_form() -> None:
    terse = {"tasks": [_task("extract", "cdf"), _task("load", dependsOn=[{"externalId": "extract"}])]}
    explicit = {
        "tasks": [
            {
                "timeout": 3600.0,
                "dependsOn": [],
                "onFailure": "abortWorkflow",
                "retries": 3.0,
                "parameters": {"cdfRequest": {"resourcePath": "/assets/list", "method": "POST"}},
                "type": "cdf",
                "externalId": "extract",
            },
            {
                "dependsOn": [{"externalId": "extract"}],
                "parameters": {"isAsyncComplete": False, "function": {"externalId": "load-function"}},
                "type": "function",
                "externalId": "load",
                "retries": 3,
            },
        ]
    }
    assert canonical_json(normalized_definition(terse)) == canonical_json(normalized_definition(explicit))
    changed = copy.deepcopy(explicit)
    changed["tasks"][1]["retries"] = 4.0
    assert canonical_json(normalized_definition(terse)) != canonical_json(normalized_definition(changed))


def test_an_explicit_null_is_async_complete_normalizes_to_false() -> None:
    task = _task("f", "function", parameters={"function": {"externalId": "fn"}, "isAsyncComplete": None})
    assert normalized_definition({"tasks": [task]})["tasks"][0]["parameters"]["isAsyncComplete"] is False
