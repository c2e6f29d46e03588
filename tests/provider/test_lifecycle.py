"""Every row of the lifecycle table, through the real plugin process, against the emulator."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from harness import UNKNOWN, PluginError, wait_until

from pulumi_cdf_workflows import CdfConnection, ClientCredentials
from pulumi_cdf_workflows.cdf import CdfClient, ConnectionSettings
from pulumi_cdf_workflows.emulator import CdfEmulator

from .conftest import CDF_PROJECT, CLIENT_ID, CLIENT_SECRET, VERSION, WORKFLOW, Stack, stack_config, start_stack


def _run_bodies(stack: Stack) -> list[dict[str, object]]:
    return [r["body"] for r in stack.api_requests("POST", r"/run$")]


# --- create ------------------------------------------------------------------------------------------


def test_create_runs_the_workflow_once_with_the_integers_the_user_wrote(stack: Stack) -> None:
    run = stack.up(input={"a": 1, "b": 2.5, "nested": {"n": [1, 2]}}, metadata={"deployedBy": "pulumi"})

    executions = stack.executions()
    assert [e["id"] for e in executions] == [run.id]
    assert run.outs["execution_id"] == run.id
    assert run.outs["status"] == "RUNNING"
    assert run.outs["project"] == CDF_PROJECT
    (body,) = _run_bodies(stack)
    raw = json.dumps(body["input"], sort_keys=True)
    assert raw == '{"a": 1, "b": 2.5, "nested": {"n": [1, 2]}}'  # not 1.0: the workflow sees ints
    metadata = body["metadata"]
    assert isinstance(metadata, dict)
    assert metadata["deployedBy"] == "pulumi"
    assert re.fullmatch(r"[0-9a-f]{32}\.[0-9a-f]{12}", metadata["pulumiRunMarker"])  # resource+inputs . attempt


def test_one_token_per_process_and_three_requests_per_execution(stack: Stack) -> None:
    before = len(stack.api_requests())
    for i in range(3):
        stack.up(f"run-{i}")
    made = stack.api_requests()[before:]
    calls = [(r["method"], r["path"].rsplit("/", 1)[-1]) for r in made]
    token_calls = [c for c in calls if c[1] == "token"]
    api_calls = [c for c in calls if c[1] != "token" and c[0] != "GET"]
    assert len(token_calls) == 1
    # The look-up for an interrupted deploy's run, the session, the run.
    assert api_calls == [("POST", "list"), ("POST", "sessions"), ("POST", "run")] * 3


def test_a_nonce_binds_the_execution_without_creating_a_session(stack: Stack) -> None:
    client = CdfClient(
        ConnectionSettings(
            project=CDF_PROJECT,
            base_url=stack.emu.base_url,
            token_url=stack.emu.token_url,
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
        )
    )
    nonce = client.create_session().nonce.get_secret_value()
    sessions_before = len(stack.emu.sessions(CDF_PROJECT))
    before = len(stack.api_requests(path=r"/api/"))
    run = stack.up(nonce=nonce)
    api = stack.api_requests(path=r"/api/")[before:]
    posts = [(r["method"], r["path"].rsplit("/", 1)[-1]) for r in api if r["method"] == "POST"]
    assert posts == [("POST", "list"), ("POST", "run")]  # no session
    assert len(stack.emu.sessions(CDF_PROJECT)) == sessions_before
    assert nonce not in json.dumps(run.outs)


def test_client_credentials_create_the_session_with_those_credentials(stack: Stack) -> None:
    stack.up(client_credentials=ClientCredentials(client_id="run-client", client_secret="run-secret-77"))
    (session_request,) = stack.api_requests("POST", r"/sessions$")
    assert session_request["body"]["items"][0]["clientId"] == "run-client"
    sessions = stack.emu.sessions(CDF_PROJECT)
    assert [s["clientId"] for s in sessions] == ["run-client"]
    assert sessions[0]["status"] == "ACTIVE"


def test_without_credentials_the_connections_own_client_is_used(stack: Stack) -> None:
    stack.up()
    (session_request,) = stack.api_requests("POST", r"/sessions$")
    assert session_request["body"]["items"][0]["clientId"] == CLIENT_ID


def test_a_static_token_connection_uses_a_token_exchange_session(emu: CdfEmulator) -> None:
    config = {"cdf:project": CDF_PROJECT, "cdf:baseUrl": emu.base_url, "cdf:token": "static-deploy-token"}
    for stack in start_stack(emu, config):
        run = stack.up()
        (session_request,) = stack.api_requests("POST", r"/sessions$")
        assert session_request["body"]["items"][0] == {"tokenExchange": True}
        assert "static-deploy-token" not in stack.plugin.stderr_text()
        assert "static-deploy-token" not in json.dumps(run.outs)


def test_the_resource_connection_overrides_stack_config(emu: CdfEmulator) -> None:
    emu.upsert_workflow_version("other-project", WORKFLOW, VERSION)
    for stack in start_stack(emu, stack_config(emu)):
        run = stack.up(connection=CdfConnection(project="other-project"))
        assert run.outs["project"] == "other-project"
        assert [e["project"] for e in emu.executions()] == ["other-project"]


def test_a_failed_run_starts_nothing_and_says_the_next_up_tries_again(emu: CdfEmulator) -> None:
    for stack in start_stack(emu, stack_config(emu, **{"cdf:validateOnPreview": "false"})):
        registration = stack.register(version="does-not-exist")
        inputs = stack.check(registration)
        with pytest.raises(PluginError) as caught:
            stack.plugin.create(registration.urn, inputs)
        details = caught.value.details
        assert "workflow 'wf' version 'does-not-exist'" in details
        assert "next `pulumi up` tries again" in details
        assert "Traceback" not in details  # the user sees the message, not Python internals
        assert stack.executions() == []


def test_missing_connection_settings_fail_check_naming_the_config_key_and_env_var(emu: CdfEmulator) -> None:
    for stack in start_stack(emu, {}):
        registration = stack.register()
        failures = stack.plugin.check(registration.urn, {}, registration.engine_inputs).failures
        assert len(failures) == 1
        prop, reason = failures[0]
        assert prop == "connection"
        assert "cdf:project" in reason and "CDF_PROJECT" in reason


def test_connection_from_the_environment_works(emu: CdfEmulator) -> None:
    env = {
        "CDF_PROJECT": CDF_PROJECT,
        "CDF_URL": emu.base_url,
        "IDP_TOKEN_URL": emu.token_url,
        "IDP_CLIENT_ID": CLIENT_ID,
        "IDP_CLIENT_SECRET": CLIENT_SECRET,
    }
    for stack in start_stack(emu, {}, env):
        run = stack.up()
        assert run.outs["base_url"] == emu.base_url
        assert len(stack.executions()) == 1


# --- diff --------------------------------------------------------------------------------------------


@pytest.fixture
def deployed(stack: Stack) -> Iterator[tuple[Stack, object]]:
    yield stack, stack.up(input={"a": 1, "b": {"c": 2}}, metadata={"team": "data"}, triggers=["v1"])


def _diff(stack: Stack, outs: dict[str, Any], **kwargs: Any) -> tuple[str, list[str]]:
    base: dict[str, Any] = {"input": {"a": 1, "b": {"c": 2}}, "metadata": {"team": "data"}, "triggers": ["v1"]}
    base.update(kwargs)
    registration = stack.register(**base)
    result = stack.plugin.diff(registration.urn, str(outs["execution_id"]), outs, registration.engine_inputs)
    return result.changes, result.replaces


def test_no_change_means_nothing_runs(stack: Stack) -> None:
    run = stack.up(input={"a": 1, "b": {"c": 2}}, metadata={"team": "data"}, triggers=["v1"])
    assert _diff(stack, run.outs) == ("NONE", [])


def test_key_order_and_integral_floats_are_not_changes(stack: Stack) -> None:
    run = stack.up(input={"a": 1, "b": {"c": 2}}, metadata={"team": "data"}, triggers=["v1"])
    assert _diff(stack, run.outs, input={"b": {"c": 2.0}, "a": 1.0}) == ("NONE", [])


def test_a_new_provider_blob_alone_is_not_a_change(stack: Stack) -> None:
    run = stack.up(input={"a": 1, "b": {"c": 2}}, metadata={"team": "data"}, triggers=["v1"])
    outs = dict(run.outs)
    outs["__provider"] = "b2xkZXIgcGFja2FnZSB2ZXJzaW9u"  # what a package upgrade looks like in state
    assert _diff(stack, outs) == ("NONE", [])


@pytest.mark.parametrize(
    ("change", "replaced"),
    [
        ({"input": {"a": 2, "b": {"c": 2}}}, ["input"]),
        ({"metadata": {"team": "ops"}}, ["metadata"]),
        ({"triggers": ["v2"]}, ["triggers"]),
        ({"version": "2"}, ["version"]),
        ({"workflow_external_id": "other"}, ["workflow_external_id"]),
        ({"connection": {"project": "elsewhere"}}, ["connection"]),
    ],
)
def test_changes_that_run_the_workflow_again_are_replacements_named_by_property(
    stack: Stack, change: dict[str, Any], replaced: list[str]
) -> None:
    run = stack.up(input={"a": 1, "b": {"c": 2}}, metadata={"team": "data"}, triggers=["v1"])
    assert _diff(stack, run.outs, **change) == ("SOME", replaced)


@pytest.mark.parametrize(
    "change",
    [
        {"wait_for_completion": True},
        {"timeout_seconds": 60},
        {"cancel_on_delete": True},
        {"client_credentials": ClientCredentials(client_id="run-client", client_secret="rotated")},
        {"nonce": "a-new-nonce"},
        {"connection": {"audience": "https://example.com"}},
    ],
)
def test_settings_and_credentials_update_in_place(stack: Stack, change: dict[str, Any]) -> None:
    run = stack.up(input={"a": 1, "b": {"c": 2}}, metadata={"team": "data"}, triggers=["v1"])
    assert _diff(stack, run.outs, **change) == ("SOME", [])


def test_a_rotated_client_secret_is_detected_without_being_stored(stack: Stack) -> None:
    creds = ClientCredentials(client_id="run-client", client_secret="run-secret-77")
    run = stack.up(input={"a": 1, "b": {"c": 2}}, metadata={"team": "data"}, triggers=["v1"], client_credentials=creds)
    assert "run-secret-77" not in json.dumps(run.outs)
    assert _diff(stack, run.outs, client_credentials=creds) == ("NONE", [])
    rotated = ClientCredentials(client_id="run-client", client_secret="run-secret-78")
    assert _diff(stack, run.outs, client_credentials=rotated) == ("SOME", [])


def test_values_unknown_in_a_preview_are_reported_as_replacements(stack: Stack) -> None:
    run = stack.up(input={"a": 1, "b": {"c": 2}}, metadata={"team": "data"}, triggers=["v1"])
    registration = stack.register(input={"a": 1, "b": {"c": 2}}, metadata={"team": "data"}, triggers=["v1"])
    news = dict(registration.engine_inputs)
    news["triggers"] = [UNKNOWN]
    result = stack.plugin.diff(registration.urn, run.id, run.outs, news)
    assert (result.changes, result.replaces) == ("SOME", ["triggers"])


# --- check in a preview -------------------------------------------------------------------------------


def test_check_accepts_unknown_values_and_touches_nothing(stack: Stack) -> None:
    registration = stack.register()
    news = dict(registration.engine_inputs)
    news["version"] = UNKNOWN
    news["input"] = {"a": UNKNOWN}
    before = len(stack.api_requests())
    result = stack.plugin.check(registration.urn, {}, news)
    assert result.failures == []
    assert len(stack.api_requests()) == before


def test_check_fails_a_typo_in_the_version_in_preview_with_one_cached_get(stack: Stack) -> None:
    registration = stack.register(version="11")
    failures = stack.plugin.check(registration.urn, {}, registration.engine_inputs).failures
    [(prop, reason)] = failures
    assert prop == "version"
    assert reason.startswith(f"workflow '{WORKFLOW}' version '11' in CDF project '{CDF_PROJECT}' does not exist.")
    # The ways out that fit: link the version, or refresh; not "turn validation off".
    assert "workflow_version=" in reason and "`pulumi refresh`" in reason
    assert "validateOnPreview" not in reason
    good = stack.register()
    for _ in range(3):
        stack.check(good)
    assert len(stack.api_requests("GET", rf"/workflows/{WORKFLOW}/versions/{VERSION}$")) == 1
    assert stack.executions() == []


def test_validate_on_preview_false_makes_check_offline(emu: CdfEmulator) -> None:
    for stack in start_stack(emu, stack_config(emu, **{"cdf:validateOnPreview": "false"})):
        registration = stack.register(version="no-such-version")
        assert stack.plugin.check(registration.urn, {}, registration.engine_inputs).failures == []
        assert stack.api_requests() == []


CHECK_FAILURES = [
    ({"metadata": {f"k{i}": "v" for i in range(11)}}, "metadata", "11 pairs; CDF allows at most 10"),
    ({"metadata": {"k" * 33: "v"}}, "metadata", "CDF allows at most 32"),
    ({"metadata": {"k": "v" * 256}}, "metadata", "CDF allows at most 255"),
    ({"metadata": {"k": 3}}, "metadata", "must be a string, got float"),
    ({"workflow_external_id": ""}, "workflow_external_id", "must not be empty"),
    ({"workflow_external_id": "w" * 256}, "workflow_external_id", "CDF allows at most 255"),
    ({"workflow_external_id": "wf "}, "workflow_external_id", "leading or trailing whitespace"),
    ({"version": " 1"}, "version", "leading or trailing whitespace"),
    ({"version": ""}, "version", "must not be empty"),
    ({"input": {"blob": "x" * 110_000}}, "input", "CDF allows at most 102400 bytes"),
    ({"input": "not an object"}, "input", "must be a JSON object"),
    ({"timeout_seconds": 0}, "timeout_seconds", "must be greater than 0"),
    ({"timeout_seconds": -1}, "timeout_seconds", "must be greater than 0"),
    ({"nonce": "n", "client_credentials": ClientCredentials(client_id="i", client_secret="s")}, "nonce", "both set"),
]


@pytest.mark.parametrize(("kwargs", "prop", "expected"), CHECK_FAILURES)
def test_every_check_failure_names_property_and_limit(
    stack: Stack, kwargs: dict[str, Any], prop: str, expected: str
) -> None:
    registration = stack.register(**kwargs)
    failures = stack.plugin.check(registration.urn, {}, registration.engine_inputs).failures
    assert len(failures) == 1, failures
    assert failures[0][0] == prop
    assert expected in failures[0][1]
    assert stack.executions() == []


# --- read (refresh) -------------------------------------------------------------------------------------


def test_refresh_reads_live_status_and_causes_no_false_diff(stack: Stack) -> None:
    run = stack.up(input={"a": 1, "b": {"c": 2}}, metadata={"team": "data"}, triggers=["v1"])
    _wait_for_status(stack, run.id, "COMPLETED")
    read = stack.plugin.read(run.registration.urn, run.id, run.outs)
    assert read.id == run.id
    assert read.outs["status"] == "COMPLETED"
    assert read.outs["end_time"]
    assert [t["external_id"] for t in read.outs["executed_tasks"]] == ["task-1"]
    assert read.inputs is not None
    assert read.inputs["input"] == {"a": 1, "b": {"c": 2}}
    assert _diff(stack, read.outs) == ("NONE", [])
    assert len(stack.executions()) == 1


def test_refresh_of_an_execution_cdf_no_longer_keeps_keeps_it_in_state(stack: Stack) -> None:
    # CDF drops execution data after about three months: the stack must not forget a run-once execution,
    # or the next `up` would run the workflow again.
    run = stack.up()
    stack.emu.reset()

    read = stack.plugin.read(run.registration.urn, run.id, run.outs)

    assert read.id == run.id
    assert read.outs["found_in_cdf"] is False
    assert read.outs["status"] == run.outs["status"]
    assert read.outs["execution_id"] == run.id
    assert read.inputs is not None
    diff = stack.plugin.diff(run.registration.urn, run.id, read.outs, run.inputs)
    assert diff.changes == "NONE"


def test_refresh_that_gets_a_400_fails_and_keeps_the_execution(stack: Stack) -> None:
    run = stack.up()
    stack.emu.inject_fault("GET", rf"/workflows/executions/{run.id}$", status=400)

    with pytest.raises(PluginError) as info:
        stack.plugin.read(run.registration.urn, run.id, run.outs)

    assert f"Could not read execution {run.id}" in info.value.details
    assert "CDF answered 400" in info.value.details


def _wait_for_status(stack: Stack, execution_id: str, status: str, timeout: float = 10.0) -> None:
    wait_until(
        lambda: any(e["id"] == execution_id and e["status"] == status for e in stack.executions()),
        f"execution {execution_id} to reach {status}",
        timeout,
    )


# --- update and delete ---------------------------------------------------------------------------------


def test_update_stores_new_settings_and_runs_nothing(stack: Stack) -> None:
    run = stack.up()
    registration = stack.register(cancel_on_delete=True, timeout_seconds=60)
    news = stack.check(registration, run.inputs)
    before = len(stack.api_requests(path=r"/api/"))
    outs = stack.plugin.update(registration.urn, run.id, run.outs, news)
    assert outs["cancel_on_delete"] is True
    assert outs["timeout_seconds"] == 60
    assert outs["execution_id"] == run.id
    assert len(stack.executions()) == 1
    assert stack.api_requests(path=r"/api/")[before:] == []


def test_delete_calls_nothing_by_default(stack: Stack) -> None:
    run = stack.up()
    before = len(stack.api_requests())
    stack.plugin.delete(run.registration.urn, run.id, run.outs)
    assert stack.api_requests()[before:] == []


def test_replacement_with_cancel_on_delete_cancels_the_old_run_before_starting_the_new(stack: Stack) -> None:
    run = stack.up(input={"a": 1, "b": {"c": 2}}, metadata={"team": "data"}, triggers=["v1"], cancel_on_delete=True)
    registration = stack.register(input={"a": 2}, metadata={"team": "data"}, triggers=["v1"], cancel_on_delete=True)
    result = stack.plugin.diff(registration.urn, run.id, run.outs, registration.engine_inputs)
    assert (result.changes, result.replaces, result.delete_before_replace) == ("SOME", ["input"], True)
    without = stack.register(input={"a": 2}, metadata={"team": "data"}, triggers=["v1"])
    plain = stack.up("plain", input={"a": 1, "b": {"c": 2}}, metadata={"team": "data"}, triggers=["v1"])
    result = stack.plugin.diff(without.urn, plain.id, plain.outs, without.engine_inputs)
    assert result.delete_before_replace is False
