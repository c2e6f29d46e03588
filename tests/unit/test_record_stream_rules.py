"""Check-time validation of recordStream trigger rules, by the Toolkit's `RecordStreamTriggerRule`: the stream's
external id pattern, batches of 1-100 records, a timeout of 10-86400 s, and the shape of filter and sources."""

from __future__ import annotations

from typing import Any

import pytest

from pulumi_cdf_workflows.resources.trigger import WorkflowTriggerArgs
from pulumi_cdf_workflows.validation.fields import validated
from pulumi_cdf_workflows.validation.suggestions import describe
from pulumi_cdf_workflows.validation.trigger_rules import rule_problems


def _stream(**overrides: Any) -> dict[str, Any]:
    """A recordStream rule as the engine sends it: every number a float."""
    rule: dict[str, Any] = {
        "triggerType": "recordStream",
        "streamExternalId": "readings",
        "batchSize": 100.0,
        "batchTimeout": 60.0,
    }
    rule.update(overrides)
    return rule


SOURCES = [{"source": {"type": "container", "space": "plant", "externalId": "Reading"}, "properties": ["*"]}]


@pytest.mark.parametrize(
    "rule",
    [
        _stream(),
        _stream(
            filter={"equals": {"property": ["space"], "value": "plant"}}, sources=SOURCES, initializeCursor="6h-ago"
        ),
        _stream(streamExternalId="a"),
        _stream(streamExternalId="a" + "b" * 98 + "9"),
        _stream(streamExternalId="plant_1-readings"),
        _stream(batchSize=1.0, batchTimeout=10.0),
        _stream(batchSize=100.0, batchTimeout=86_400.0),
    ],
)
def test_a_valid_record_stream_rule_passes(rule: dict[str, Any]) -> None:
    assert rule_problems(rule) == []


@pytest.mark.parametrize(
    ("size", "shown"), [(0.0, "0"), (101.0, "101"), (1000.0, "1000"), (2.5, "2.5"), (None, "None")]
)
def test_a_batch_size_outside_1_to_100_is_refused(size: Any, shown: str) -> None:
    assert rule_problems(_stream(batchSize=size)) == [
        f"trigger_rule.batchSize must be a whole number from 1 to 100, got {shown}"
    ]


@pytest.mark.parametrize(("seconds", "shown"), [(9.0, "9"), (86_401.0, "86401"), (None, "None")])
def test_a_batch_timeout_outside_10_to_86400_seconds_is_refused(seconds: Any, shown: str) -> None:
    assert rule_problems(_stream(batchTimeout=seconds)) == [
        f"trigger_rule.batchTimeout must be a whole number of seconds from 10 to 86400, got {shown}"
    ]


@pytest.mark.parametrize(
    "stream",
    ["Readings", "1readings", "readings-", "readings_", "read ings", "a" * 101, "", "plant.readings", 5],
)
def test_a_stream_external_id_outside_the_toolkits_pattern_is_refused(stream: Any) -> None:
    (problem,) = rule_problems(_stream(streamExternalId=stream))
    assert problem.startswith("trigger_rule: a recordStream rule needs streamExternalId, the external id of a stream:")
    assert "1 to 100 characters" in problem
    assert problem.endswith(f", got {describe(stream)}")


def test_a_record_stream_rule_names_each_problem() -> None:
    rule = {"triggerType": "recordStream", "batchSize": 0, "batchTimeout": 5, "sources": {"not": "a list"}}
    assert rule_problems(rule) == [
        "trigger_rule: a recordStream rule needs streamExternalId, the external id of a stream: 1 to 100 characters, "
        "lower-case letters, digits, '_' and '-', starting with a letter and not ending with '_' or '-'",
        "trigger_rule.sources must be a list of {source, properties} objects, got {'not': 'a list'}",
        "trigger_rule.batchSize must be a whole number from 1 to 100, got 0",
        "trigger_rule.batchTimeout must be a whole number of seconds from 10 to 86400, got 5",
    ]


@pytest.mark.parametrize(
    ("sources", "expected"),
    [
        (["Reading"], "trigger_rule.sources[0] must be an object {source, properties}, got 'Reading'"),
        (
            [{"source": {"space": "plant", "externalId": "Reading"}}],
            'trigger_rule.sources[0].properties must list 1 to 1000 property names ("*" for all), got None',
        ),
        (
            [{"source": {"space": "plant", "externalId": "Reading"}, "properties": []}],
            'trigger_rule.sources[0].properties must list 1 to 1000 property names ("*" for all), got 0 entries',
        ),
        (
            [{"source": {"space": "plant", "externalId": "R"}, "properties": ["p"] * 1001}],
            'trigger_rule.sources[0].properties must list 1 to 1000 property names ("*" for all), got 1001 entries',
        ),
        (
            [{"container": {"space": "plant", "externalId": "R"}, "properties": ["*"]}],
            "trigger_rule.sources[0]: unknown key 'container' (a source takes source, properties)",
        ),
    ],
)
def test_each_source_is_a_container_and_its_properties(sources: list[Any], expected: str) -> None:
    assert expected in rule_problems(_stream(sources=sources))


def test_a_misspelt_record_stream_key_is_refused_with_the_key_meant() -> None:
    assert rule_problems(_stream(initialiseCursor="6h-ago")) == [
        "trigger_rule: unknown key 'initialiseCursor' (a recordStream rule takes streamExternalId, filter, sources, "
        "initializeCursor, batchSize, batchTimeout); did you mean 'initializeCursor'?"
    ]


def test_record_stream_problems_are_failures_on_no_property_with_the_path() -> None:
    props = {
        "external_id": "on-readings",
        "workflow_external_id": "etl",
        "workflow_version": "1",
        "trigger_rule": _stream(batchSize=500.0),
    }
    args, failures = validated(WorkflowTriggerArgs, props)
    assert args is None
    assert failures == [("", "trigger_rule.batchSize must be a whole number from 1 to 100, got 500")]
