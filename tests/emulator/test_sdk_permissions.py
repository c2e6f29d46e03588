"""Fidelity: the official cognite-sdk against an emulator that gives its client capabilities: the emulator's 403s
reach it as CogniteAPIError with code 403, and its token inspection and capability check read the emulator's."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

pytest.importorskip("cognite.client")

from cognite.client import CogniteClient
from cognite.client.data_classes import WorkflowUpsert
from cognite.client.data_classes.capabilities import (
    AllProjectsScope,
    Capability,
    GroupsAcl,
    ProjectsAcl,
    ProjectsScope,
    SessionsAcl,
)
from cognite.client.exceptions import CogniteAPIError

from pulumi_cdf_workflows.emulator import CdfEmulator
from pulumi_cdf_workflows.emulator.exceptions import Forbidden

from .conftest import PROJECT, grant, in_data_set
from .test_sdk_fidelity import make_client

SDK_CLIENT = "sdk-client"  # make_client's OAuth client id


@pytest.fixture
def client(emu: CdfEmulator) -> Iterator[CogniteClient]:
    emu.set_capabilities(
        SDK_CLIENT,
        [
            grant("projectsAcl", "LIST"),
            grant("groupsAcl", "LIST"),
            grant("sessionsAcl", "CREATE"),
            grant("workflowOrchestrationAcl", "READ"),
            grant("workflowOrchestrationAcl", "WRITE", in_data_set(123), projects=[PROJECT]),
        ],
    )
    yield make_client(emu)


def test_a_refused_write_reaches_the_sdk_as_a_403_cognite_api_error(emu: CdfEmulator, client: CogniteClient) -> None:
    with pytest.raises(CogniteAPIError) as refused:
        client.workflows.upsert(WorkflowUpsert(external_id="elsewhere", data_set_id=456))
    assert refused.value.code == 403 and refused.value.message == Forbidden.MESSAGE
    assert refused.value.x_request_id
    assert client.workflows.retrieve("elsewhere") is None  # nothing was written
    assert client.workflows.upsert(WorkflowUpsert(external_id="mine", data_set_id=123)).data_set_id == 123


def test_a_refused_run_reaches_the_sdk_as_a_403(emu: CdfEmulator, client: CogniteClient) -> None:
    emu.upsert_workflow_version(PROJECT, "no-data-set", "1")  # in no data set: WRITE in data set 123 is not enough
    with pytest.raises(CogniteAPIError) as refused:
        client.workflows.executions.run("no-data-set", "1")
    assert refused.value.code == 403
    assert emu.executions(PROJECT) == []


def test_the_sdk_reads_the_emulator_s_token_inspection(client: CogniteClient) -> None:
    inspection = client.iam.token.inspect()
    assert inspection.subject == SDK_CLIENT
    assert [p.url_name for p in inspection.projects] == [PROJECT]
    scopes = {type(c.capability).__name__: c.project_scope for c in inspection.capabilities}
    assert isinstance(scopes["SessionsAcl"], AllProjectsScope)
    assert scopes["WorkflowOrchestrationAcl"] == ProjectsScope([PROJECT])


def test_the_sdk_s_capability_check_finds_what_is_missing(client: CogniteClient) -> None:
    # Loaded from CDF's JSON: the SDK's WorkflowOrchestrationAcl annotates its scope as AllScope only.
    wanted_here, wanted_there = (
        Capability.load({"workflowOrchestrationAcl": {"actions": ["WRITE"], "scope": in_data_set(data_set)}})
        for data_set in (123, 456)
    )
    session = SessionsAcl([SessionsAcl.Action.Create], SessionsAcl.Scope.All())
    assert client.iam.verify_capabilities([wanted_here, session]) == []
    assert client.iam.verify_capabilities([wanted_there]) == [wanted_there]


def test_inspection_without_projects_and_groups_list_reaches_the_sdk_as_a_403(
    emu: CdfEmulator, client: CogniteClient
) -> None:
    emu.set_capabilities(SDK_CLIENT, [grant("workflowOrchestrationAcl", "READ")])
    with pytest.raises(CogniteAPIError) as refused:
        client.iam.token.inspect()
    assert refused.value.code == 403
    needed = [
        ProjectsAcl([ProjectsAcl.Action.List], ProjectsAcl.Scope.All()),
        GroupsAcl([GroupsAcl.Action.List], GroupsAcl.Scope.All()),
    ]
    emu.set_capabilities(SDK_CLIENT, [c.dump() for c in needed])
    assert client.iam.token.inspect().subject == SDK_CLIENT
