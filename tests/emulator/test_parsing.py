"""CdfBackend request validation (run bodies, ids, definitions) and execution listing, driven without sockets."""

from __future__ import annotations

from typing import Any

import pytest

from pulumi_cdf_workflows.emulator.exceptions import BadRequest, NotFound
from pulumi_cdf_workflows.emulator.models import CdfBackend

from .conftest import P, nonce, run, wait_for

# ----- validation


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "authentication.nonce is required"),
        ({"authentication": {}}, "authentication.nonce is required"),
        ({"input": [1]}, "input must be a JSON object"),
        ({"input": {"x": "é" * 51200}}, "at most 102400 bytes"),
        ({"metadata": {f"k{i}": "v" for i in range(11)}}, "at most 10"),
        ({"metadata": {"k" * 33: "v"}}, "longer than 32"),
        ({"metadata": {"k": "v" * 256}}, "longer than 255"),
        ({"metadata": {"k": 1}}, "must be a string"),
    ],
)
def test_run_limits(backend: CdfBackend, body: dict[str, Any], message: str) -> None:
    if "authentication" not in body and message != "authentication.nonce is required":
        body = {"authentication": {"nonce": nonce(backend)}, **body}
    with pytest.raises(BadRequest, match=message):
        backend.run(P, "wf", "1", body)
    assert backend.executions() == []


def test_input_at_the_size_limit_is_accepted(backend: CdfBackend) -> None:
    overhead = len('{"x":""}')
    execution = run(backend, input={"x": "a" * (102400 - overhead)})
    assert execution.status == "RUNNING"


@pytest.mark.parametrize("xid", [" wf", "wf ", "a" * 256, "", "w\0f"])
def test_identifiers_are_validated(backend: CdfBackend, xid: str) -> None:
    with pytest.raises(BadRequest):
        backend.run(P, xid, "1", {"authentication": {"nonce": nonce(backend)}})


def test_unknown_version_is_not_found(backend: CdfBackend) -> None:
    with pytest.raises(NotFound, match="not found"):
        run(backend, "wf", "2")


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
def test_invalid_definitions_are_rejected(backend: CdfBackend, tasks: list[dict[str, Any]], message: str) -> None:
    with pytest.raises(BadRequest, match=message):
        backend.seed(P, "bad", "1", tasks)


# ----- listing


def test_list_is_newest_first_with_filters_and_stable_cursor(backend: CdfBackend) -> None:
    backend.seed(P, "wf", "2")
    first, second, third = run(backend), run(backend, "wf", "2"), run(backend)
    page, cursor = backend.list_executions(P, {"limit": 2})
    assert [e["id"] for e in page] == [third.id, second.id]
    run(backend)  # a new execution must not shift the next page
    page2, cursor2 = backend.list_executions(P, {"limit": 2, "cursor": cursor})
    assert [e["id"] for e in page2] == [first.id]
    assert cursor2 is None
    only_v2, _ = backend.list_executions(P, {"filter": {"workflowFilters": [{"externalId": "wf", "version": "2"}]}})
    assert [e["id"] for e in only_v2] == [second.id]
    all_wf, _ = backend.list_executions(P, {"filter": {"workflowFilters": [{"externalId": "wf"}]}})
    assert len(all_wf) == 4
    assert backend.list_executions("other-project", {})[0] == []


def test_list_created_time_bounds_are_inclusive_and_status_filters(backend: CdfBackend) -> None:
    execution = run(backend)
    t = execution.created_time
    assert backend.list_executions(P, {"filter": {"createdTimeStart": t, "createdTimeEnd": t}})[0]
    assert not backend.list_executions(P, {"filter": {"createdTimeStart": t + 1}})[0]
    assert not backend.list_executions(P, {"filter": {"createdTimeEnd": t - 1}})[0]
    wait_for(backend, execution, "COMPLETED")
    assert backend.list_executions(P, {"filter": {"status": ["COMPLETED"]}})[0]
    assert not backend.list_executions(P, {"filter": {"status": ["RUNNING", "FAILED"]}})[0]


@pytest.mark.parametrize("body", [{"limit": 0}, {"limit": 1001}, {"cursor": "garbage"}, {"filter": {"status": ["x"]}}])
def test_list_rejects_bad_parameters(backend: CdfBackend, body: dict[str, Any]) -> None:
    with pytest.raises(BadRequest):
        backend.list_executions(P, body)


def test_execution_ids_must_be_uuids(backend: CdfBackend) -> None:
    with pytest.raises(BadRequest, match="must be a UUID"):
        backend.get_execution(P, "not-a-uuid")
    with pytest.raises(NotFound):
        backend.get_execution(P, "00000000-0000-4000-8000-000000000000")
