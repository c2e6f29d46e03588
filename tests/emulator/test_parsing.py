"""The wire layer's parsers: request bodies and parameters become typed arguments, or a 400 with the rule."""

from __future__ import annotations

from typing import Any

import pytest

from pulumi_cdf_workflows.emulator import parsing
from pulumi_cdf_workflows.emulator.exceptions import BadRequest
from pulumi_cdf_workflows.emulator.queries import WorkflowFilter
from pulumi_cdf_workflows.emulator.validation import single_item, validate_identifier

NONCE = {"authentication": {"nonce": "n"}}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (None, "must be a JSON object"),
        ({}, "authentication.nonce is required"),
        ({"authentication": {}}, "authentication.nonce is required"),
        ({**NONCE, "input": [1]}, "input must be a JSON object"),
        ({**NONCE, "input": {"x": "é" * 51200}}, "at most 102400 bytes"),
        ({**NONCE, "metadata": {f"k{i}": "v" for i in range(11)}}, "at most 10"),
        ({**NONCE, "metadata": {"k" * 33: "v"}}, "longer than 32"),
        ({**NONCE, "metadata": {"k": "v" * 256}}, "longer than 255"),
        ({**NONCE, "metadata": {"k": 1}}, "must be a string"),
    ],
)
def test_run_limits(body: Any, message: str) -> None:
    with pytest.raises(BadRequest, match=message):
        parsing.run(body)


def test_a_run_body_becomes_nonce_input_and_metadata() -> None:
    overhead = len('{"x":""}')
    at_limit = {"x": "a" * (102400 - overhead)}
    assert parsing.run({**NONCE, "input": at_limit}) == parsing.RunRequest("n", at_limit, {})
    assert parsing.run({**NONCE, "metadata": {"by": "me"}}) == parsing.RunRequest("n", None, {"by": "me"})


@pytest.mark.parametrize("xid", [" wf", "wf ", "a" * 256, "", "w\0f", None, 3])
def test_identifiers_are_validated(xid: Any) -> None:
    with pytest.raises(BadRequest):
        validate_identifier(xid, "workflowExternalId")


def _cdf(xid: str, *depends: str, **fields: Any) -> dict[str, Any]:
    parameters = {"cdfRequest": {"resourcePath": "/x", "method": "GET"}}
    return {"externalId": xid, "type": "cdf", "parameters": parameters,
            "dependsOn": [{"externalId": d} for d in depends], **fields}  # fmt: skip


@pytest.mark.parametrize(
    ("tasks", "message"),
    [
        ([_cdf("a", "b")], "unknown task"),
        ([_cdf("a", "b"), _cdf("b", "a")], "cycle"),
        ([_cdf("a"), _cdf("a")], "Duplicate"),
        ([{**_cdf("a"), "type": "nope"}], "type must be one of"),
        ([_cdf("a", retries=11)], "retries"),
        ([{"externalId": "a", "type": "cdf"}], "parameters is required"),
    ],
)
def test_invalid_definitions_are_rejected(tasks: list[dict[str, Any]], message: str) -> None:
    item = {"workflowExternalId": "bad", "version": "1", "workflowDefinition": {"tasks": tasks}}
    with pytest.raises(BadRequest, match=message):
        parsing.version(item)


@pytest.mark.parametrize(
    "body",
    [
        {"limit": 0},
        {"limit": 1001},
        {"limit": "10"},
        {"cursor": 7},
        {"filter": "x"},
        {"filter": {"status": ["x"]}},
        {"filter": {"createdTimeStart": "yesterday"}},
        {"filter": {"workflowFilters": [{"version": "1"}]}},
    ],
)
def test_the_executions_list_rejects_bad_parameters(body: dict[str, Any]) -> None:
    with pytest.raises(BadRequest):
        parsing.executions_list(body)


def test_the_executions_list_filter_and_page() -> None:
    body = {"filter": {"workflowFilters": [{"externalId": "wf"}], "status": ["RUNNING"]}, "limit": 5, "cursor": "c"}
    wanted, page = parsing.executions_list(body)
    assert wanted.workflows == WorkflowFilter((("wf", None),)) and wanted.statuses == frozenset({"RUNNING"})
    assert (page.limit, page.cursor) == (5, "c")
    assert parsing.executions_list({})[1].limit == 100


def test_execution_ids_must_be_uuids() -> None:
    with pytest.raises(BadRequest, match="must be a UUID"):
        parsing.execution_id("not-a-uuid")
    assert parsing.execution_id("00000000-0000-4000-8000-000000000000")


def test_cancel_reason_defaults_to_cancelled_and_is_at_most_500_characters() -> None:
    assert parsing.cancel_reason(None) == parsing.cancel_reason({"reason": ""}) == "cancelled"
    assert parsing.cancel_reason({"reason": "operator"}) == "operator"
    with pytest.raises(BadRequest, match="500"):
        parsing.cancel_reason({"reason": "r" * 501})


def test_retry_needs_a_nonce() -> None:
    with pytest.raises(BadRequest, match="nonce is required"):
        parsing.retry_nonce({})
    assert parsing.retry_nonce(NONCE) == "n"


def test_task_update_takes_a_final_status_and_an_object() -> None:
    with pytest.raises(BadRequest, match="status must be one of"):
        parsing.task_update({"status": "IN_PROGRESS"})
    with pytest.raises(BadRequest, match="output must be an object"):
        parsing.task_update({"status": "COMPLETED", "output": [1]})
    assert parsing.task_update({"status": "FAILED"}) == ("FAILED", None)


@pytest.mark.parametrize(
    "items",
    [[], [{"tokenExchange": True}, {"tokenExchange": True}], [{}], [{"tokenExchange": False}]],
)
def test_a_session_request_needs_exactly_one_valid_item(items: list[dict[str, Any]]) -> None:
    with pytest.raises(BadRequest):
        parsing.session(single_item(items, "session"))


def test_a_session_request_names_its_type() -> None:
    assert parsing.session({"clientId": "c"}) == ("CLIENT_CREDENTIALS", "c", None)  # the backend checks the pair
    assert parsing.session({"tokenExchange": True}) == ("TOKEN_EXCHANGE", None, None)
    assert parsing.session({"oneshotTokenExchange": True}) == ("ONESHOT_TOKEN_EXCHANGE", None, None)
