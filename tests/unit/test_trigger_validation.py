"""Check-time validation of a WorkflowTrigger's properties with validate_trigger: identifiers, rule, input, secrets."""

from __future__ import annotations

from typing import Any

import pytest
from pulumi.output import Unknown

from pulumi_cdf_workflows.resources.trigger import WorkflowTriggerArgs
from pulumi_cdf_workflows.validation.fields import UNKNOWN, validated

from .conftest import _data_modeling, _schedule


def _trigger_props(**overrides: Any) -> dict[str, Any]:
    props: dict[str, Any] = {
        "external_id": "nightly-etl",
        "workflow_external_id": "etl",
        "workflow_version": "1",
        "trigger_rule": _schedule(timezone="Europe/Oslo"),
    }
    props.update(overrides)
    return props


def _only_failure(**overrides: Any) -> tuple[str, str]:
    args, failures = validated(WorkflowTriggerArgs, _trigger_props(**overrides))
    assert args is None
    assert len(failures) == 1, failures
    return failures[0]


# --- validate_trigger -------------------------------------------------------------------------------------


def test_a_valid_trigger_gives_a_model() -> None:
    args, failures = validated(
        WorkflowTriggerArgs, _trigger_props(input={"day": "monday", "retries": 3.0}, metadata={"owner": "data-team"})
    )
    assert failures == []
    assert args is not None
    assert args.external_id == "nightly-etl"
    assert args.workflow_external_id == "etl"
    assert args.workflow_version == "1"
    assert args.trigger_rule == {"triggerType": "schedule", "cronExpression": "0 2 * * 1", "timezone": "Europe/Oslo"}
    assert args.input == {"day": "monday", "retries": 3.0}
    assert args.metadata == {"owner": "data-team"}
    assert args.client_credentials is None


def test_a_workflow_version_number_from_the_engine_becomes_the_version_string() -> None:
    args, failures = validated(WorkflowTriggerArgs, _trigger_props(workflow_version=1.0))
    assert failures == []
    assert args is not None
    assert args.workflow_version == "1"


def test_a_data_modeling_trigger_with_engine_floats_gives_a_model() -> None:
    args, failures = validated(WorkflowTriggerArgs, _trigger_props(trigger_rule=_data_modeling()))
    assert failures == []
    assert args is not None
    assert args.trigger_rule["batchSize"] == 100


def test_client_credentials_are_kept_secret_in_the_model() -> None:
    args, failures = validated(
        WorkflowTriggerArgs, _trigger_props(client_credentials={"client_id": "me", "client_secret": "s3"})
    )
    assert failures == []
    assert args is not None
    assert args.client_credentials is not None
    assert args.client_credentials.client_id == "me"
    assert args.client_credentials.client_secret.get_secret_value() == "s3"
    assert "s3" not in repr(args)


def test_a_rule_problem_is_reported_on_no_property_with_its_path() -> None:
    # The engine shows a failure on a named property after the property's whole value, burying the reason.
    prop, reason = _only_failure(trigger_rule=_schedule("0 25 * * *", timezone="Europe/Oslo"))
    assert prop == ""
    assert reason == "trigger_rule.cronExpression '0 25 * * *' is not a valid cron expression: Bad hour"


def test_several_rule_problems_are_one_failure_each() -> None:
    args, failures = validated(
        WorkflowTriggerArgs, _trigger_props(trigger_rule=_data_modeling(batchSize=0.0, batchTimeout=9.0))
    )
    assert args is None
    assert failures == [
        ("", "trigger_rule.batchSize must be a whole number from 1 to 1000, got 0"),
        ("", "trigger_rule.batchTimeout must be a whole number of seconds from 10 to 86400, got 9"),
    ]


def test_a_scalar_property_keeps_its_name_next_to_a_rule_problem() -> None:
    args, failures = validated(
        WorkflowTriggerArgs, _trigger_props(external_id="", trigger_rule=_schedule("61 * * * *"))
    )
    assert args is None
    assert [prop for prop, _ in failures] == ["external_id", ""]


def test_a_missing_trigger_rule_is_refused() -> None:
    props = _trigger_props()
    del props["trigger_rule"]
    args, failures = validated(WorkflowTriggerArgs, props)
    assert args is None
    assert failures == [("trigger_rule", "trigger_rule is required")]


@pytest.mark.parametrize("prop", ["external_id", "workflow_external_id", "workflow_version"])
def test_an_empty_identifier_is_refused(prop: str) -> None:
    assert _only_failure(**{prop: ""}) == (prop, f"{prop} must not be empty")


@pytest.mark.parametrize("prop", ["external_id", "workflow_external_id", "workflow_version"])
def test_an_identifier_with_leading_whitespace_is_refused(prop: str) -> None:
    failed, reason = _only_failure(**{prop: " etl"})
    assert failed == prop
    assert reason == f"{prop} ' etl' has leading or trailing whitespace, which CDF rejects"


def test_an_external_id_over_255_characters_is_refused() -> None:
    assert _only_failure(external_id="t" * 256) == (
        "external_id",
        "external_id is 256 characters long; CDF allows at most 255",
    )


def test_an_input_of_exactly_100_kb_is_accepted() -> None:
    # {"x":"..."} is 8 bytes besides the string.
    args, failures = validated(WorkflowTriggerArgs, _trigger_props(input={"x": "y" * (100 * 1024 - 8)}))
    assert failures == []
    assert args is not None


def test_an_input_over_100_kb_is_refused() -> None:
    assert _only_failure(input={"x": "y" * (100 * 1024 - 7)}) == (
        "input",
        "input is 102401 bytes as JSON; CDF allows at most 102400 bytes (100 KB)",
    )


def test_ten_metadata_pairs_are_accepted() -> None:
    args, failures = validated(WorkflowTriggerArgs, _trigger_props(metadata={f"k{i}": "v" for i in range(10)}))
    assert failures == []
    assert args is not None


def test_more_than_ten_metadata_pairs_are_refused() -> None:
    assert _only_failure(metadata={f"k{i}": "v" for i in range(11)}) == (
        "metadata",
        "metadata has 11 pairs; CDF allows at most 10",
    )


def test_an_empty_client_secret_is_refused() -> None:
    prop, reason = _only_failure(client_credentials={"client_id": "me", "client_secret": ""})
    assert prop == "client_credentials.client_secret"
    assert reason == "client_secret must not be empty"


@pytest.mark.parametrize(
    "overrides",
    [
        {"trigger_rule": UNKNOWN},
        {"trigger_rule": Unknown()},  # type: ignore[no-untyped-call]
        {"trigger_rule": _schedule(UNKNOWN, timezone="Europe/Oslo")},
        {"client_credentials": UNKNOWN},
        {"client_credentials": Unknown()},  # type: ignore[no-untyped-call]
        {"external_id": UNKNOWN},
        {"workflow_version": UNKNOWN},
        {"input": {"day": UNKNOWN}},
        {"metadata": {"owner": UNKNOWN}},
    ],
)
def test_an_unknown_value_is_not_refused_and_gives_no_model(overrides: dict[str, Any]) -> None:
    args, failures = validated(WorkflowTriggerArgs, _trigger_props(**overrides))
    assert failures == []
    assert args is None


def test_a_known_problem_is_still_refused_while_the_rule_is_unknown() -> None:
    assert _only_failure(trigger_rule=UNKNOWN, external_id="") == ("external_id", "external_id must not be empty")


def test_a_rule_problem_is_still_refused_while_the_external_id_is_unknown() -> None:
    prop, reason = _only_failure(external_id=UNKNOWN, trigger_rule=_schedule("61 * * * *"))
    assert prop == ""
    assert reason.startswith("trigger_rule.cronExpression '61 * * * *'")


# --- found by these tests, fixed ------------------------------------------------------------------------


def test_client_credentials_with_an_unknown_secret_give_no_model() -> None:
    args, failures = validated(
        WorkflowTriggerArgs, _trigger_props(client_credentials={"client_id": "me", "client_secret": UNKNOWN})
    )
    assert failures == []
    assert args is None
