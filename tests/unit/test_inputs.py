"""Check-time validation: every failure names the property, the limit and what is wrong with the value."""

from __future__ import annotations

from typing import Any

import pytest
from pulumi.output import Unknown

from pulumi_cdf_workflows.resources.execution.args import ExecutionArgs
from pulumi_cdf_workflows.validation.fields import UNKNOWN, canonical_json, restore_integers, validated


def _props(**overrides: Any) -> dict[str, Any]:
    props: dict[str, Any] = {"workflow_external_id": "foo", "version": "1"}
    props.update(overrides)
    return props


def _only_failure(**overrides: Any) -> tuple[str, str]:
    args, failures = validated(ExecutionArgs, _props(**overrides))
    assert args is None
    assert len(failures) == 1, failures
    return failures[0]


def test_valid_inputs_give_a_model_with_defaults() -> None:
    args, failures = validated(ExecutionArgs, _props(input={"a": 1.0}, metadata={"k": "v"}))
    assert failures == []
    assert args is not None
    assert args.wait_for_completion is False
    assert args.timeout_seconds == 3600
    assert args.input == {"a": 1.0}


@pytest.mark.parametrize(
    ("overrides", "prop", "expected"),
    [
        ({"workflow_external_id": ""}, "workflow_external_id", "must not be empty"),
        ({"workflow_external_id": "x" * 256}, "workflow_external_id", "256 characters long; CDF allows at most 255"),
        ({"workflow_external_id": " foo"}, "workflow_external_id", "leading or trailing whitespace"),
        ({"version": "1 "}, "version", "leading or trailing whitespace"),
        ({"version": "v" * 300}, "version", "at most 255"),
        ({"input": [1, 2]}, "input", "must be a JSON object"),
        ({"input": {"blob": "x" * 102_400}}, "input", "CDF allows at most 102400 bytes"),
        ({"metadata": {f"k{i}": "v" for i in range(11)}}, "metadata", "11 pairs; CDF allows at most 10"),
        ({"metadata": {"k" * 33: "v"}}, "metadata", "33 characters long; CDF allows at most 32"),
        ({"metadata": {"k": "v" * 256}}, "metadata", "256 characters long; CDF allows at most 255"),
        ({"metadata": {"k": 5.0}}, "metadata", "must be a string, got float"),
        ({"timeout_seconds": 0.0}, "timeout_seconds", "must be greater than 0"),
        ({"timeout_seconds": -5.0}, "timeout_seconds", "must be greater than 0"),
        ({"timeout_seconds": 90_000.0}, "timeout_seconds", "24 h"),
        ({"wait_for_completion": "yes please"}, "wait_for_completion", "valid boolean"),
        ({"client_credentials": {"client_id": "id"}}, "client_credentials.client_secret", "required"),
        ({"client_credentials": {"client_id": "id", "client_secret": ""}}, "client_credentials.client_secret", "empty"),
    ],
)
def test_each_limit_fails_naming_property_and_limit(overrides: dict[str, Any], prop: str, expected: str) -> None:
    failed_prop, reason = _only_failure(**overrides)
    assert failed_prop == prop
    assert expected in reason


@pytest.mark.parametrize("nonce", ["", "  "])
def test_an_empty_nonce_fails_naming_nonce(nonce: str) -> None:
    prop, reason = _only_failure(nonce=nonce)
    assert prop == "nonce"
    assert "nonce must not be empty" in reason


@pytest.mark.parametrize("field", ["token", "client_secret", "project"])
@pytest.mark.parametrize("value", ["", "  "])
def test_an_empty_connection_string_fails_naming_the_field(field: str, value: str) -> None:
    # Accepting it would silently fall back to stack config or the environment.
    prop, reason = _only_failure(connection={field: value})
    assert prop == f"connection.{field}"
    assert f"connection.{field} must not be empty" in reason


def test_a_version_number_from_the_engine_becomes_the_version_string() -> None:
    args, failures = validated(ExecutionArgs, _props(version=1.0))
    assert failures == []
    assert args is not None
    assert args.version == "1"


def test_missing_required_properties_are_named() -> None:
    args, failures = validated(ExecutionArgs, {})
    assert args is None
    assert sorted(failures) == [
        ("version", "version is required"),
        ("workflow_external_id", "workflow_external_id is required"),
    ]


def test_nonce_with_client_credentials_is_refused() -> None:
    prop, reason = _only_failure(nonce="n-1", client_credentials={"client_id": "id", "client_secret": "s"})
    assert prop == "nonce"
    assert "both set" in reason


def test_failure_messages_never_echo_secrets() -> None:
    _, failures = validated(ExecutionArgs,
        _props(nonce="nonce-value", client_credentials={"client_id": "i", "client_secret": "s3cr3t"})
    )
    assert failures
    assert all("s3cr3t" not in reason and "nonce-value" not in reason for _, reason in failures)


def test_unknown_values_are_accepted_without_a_model() -> None:
    args, failures = validated(ExecutionArgs,
        _props(version=UNKNOWN, input={"a": UNKNOWN}, metadata={"k": UNKNOWN}, client_credentials=UNKNOWN)
    )
    assert failures == []
    assert args is None


def test_known_problems_are_reported_even_when_other_values_are_unknown() -> None:
    prop, _ = _only_failure(version=UNKNOWN, metadata={"k" * 40: "v"})
    assert prop == "metadata"


def test_integral_floats_become_integers_again() -> None:
    assert restore_integers({"a": 1.0, "b": [2.0, 2.5], "c": True, "d": {"e": 3.0}}) == {
        "a": 1,
        "b": [2, 2.5],
        "c": True,
        "d": {"e": 3},
    }
    assert isinstance(restore_integers(1.0), int)


def test_canonical_json_ignores_key_order_and_float_integers() -> None:
    assert canonical_json({"a": 1, "b": 2}) == canonical_json({"b": 2.0, "a": 1.0})
    assert canonical_json({"a": 1}) != canonical_json({"a": 1.5})


def test_unknown_objects_from_the_plugin_count_as_unknown() -> None:
    # The plugin deserializes preview unknowns in check and diff as pulumi.output.Unknown objects.
    args, failures = validated(ExecutionArgs, _props(version=Unknown(), input={"a": Unknown()}))  # type: ignore[no-untyped-call]
    assert failures == []
    assert args is None
