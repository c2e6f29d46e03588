"""The paths that could run a workflow twice or lose track of one, through the real plugin: where an execution
ran is where it is read and cancelled, an accepted run is never reported as "nothing started", a lost reply
finds the right execution, and waits end when they cannot learn anything."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from harness import PluginError, wait_until

from pulumi_cdf_workflows import CdfConnection
from pulumi_cdf_workflows.cdf import CdfClient, ConnectionSettings
from pulumi_cdf_workflows.emulator import CdfEmulator

from .conftest import CDF_PROJECT, CLIENT_ID, CLIENT_SECRET, VERSION, WORKFLOW, Stack, stack_config, start_stack

OTHER_PROJECT = "other-project"
RUN_PATH = rf"/workflows/{WORKFLOW}/versions/{VERSION}/run$"


def cdf(emu: CdfEmulator, project: str = CDF_PROJECT) -> CdfClient:
    return CdfClient(ConnectionSettings(project=project, base_url=emu.base_url, token="static-test"))


def restarted(emu: CdfEmulator, config: dict[str, str], env: dict[str, str] | None = None) -> Iterator[Stack]:
    """A new plugin process, as the next `pulumi` command starts, with this config and environment."""
    return start_stack(emu, config, env)


# --- where it ran is where it is read and cancelled ---------------------------------------------------------


def test_refresh_and_delete_use_the_project_the_execution_ran_in(emu: CdfEmulator, stack: Stack) -> None:
    stack.emu.set_outcome(WORKFLOW, VERSION, "RUN_UNTIL_CANCELLED")
    run = stack.up(cancel_on_delete=True)
    emu.upsert_workflow_version(OTHER_PROJECT, WORKFLOW, VERSION)

    for moved in restarted(emu, stack_config(emu, **{"cdf:project": OTHER_PROJECT})):
        read = moved.plugin.read(run.registration.urn, run.id, run.outs)
        assert read.id == run.id and read.outs["found_in_cdf"] is True
        assert read.outs["project"] == CDF_PROJECT
        moved.plugin.delete(run.registration.urn, run.id, read.outs)

    cancels = emu.requests("POST", r"/cancel$")
    assert [c["path"] for c in cancels] == [f"/api/v1/projects/{CDF_PROJECT}/workflows/executions/{run.id}/cancel"]
    assert emu.requests("GET", rf"/projects/{OTHER_PROJECT}/") == []


def test_credentials_that_cannot_read_that_project_fail_refresh_and_keep_the_execution(stack: Stack) -> None:
    run = stack.up()
    stack.emu.inject_fault("GET", rf"/executions/{run.id}$", status=403, times=5)

    with pytest.raises(PluginError) as info:
        stack.plugin.read(run.registration.urn, run.id, run.outs)

    assert f"Could not read execution {run.id} in CDF project '{CDF_PROJECT}'" in info.value.details
    assert "the current credentials were refused" in info.value.details
    assert "The stack keeps the execution" in info.value.details
    assert "Traceback" not in info.value.details


def test_a_project_changed_only_in_the_environment_keeps_the_execution(emu: CdfEmulator) -> None:
    config = stack_config(emu)
    del config["cdf:project"]
    for stack in start_stack(emu, config, env={"CDF_PROJECT": CDF_PROJECT}):
        run = stack.up()
    emu.upsert_workflow_version(OTHER_PROJECT, WORKFLOW, VERSION)

    for moved in restarted(emu, config, env={"CDF_PROJECT": OTHER_PROJECT}):
        registration = moved.register()
        inputs = moved.check(registration, run.inputs)
        diff = moved.plugin.diff(registration.urn, run.id, run.outs, inputs)
        assert diff.changes == "NONE", diff
        read = moved.plugin.read(run.registration.urn, run.id, run.outs)
        assert read.outs["found_in_cdf"] is True
    assert "the environment now points at CDF project 'other-project'" in moved.plugin.stderr_text()
    assert len(emu.requests("POST", RUN_PATH)) == 1


def test_a_project_changed_in_stack_config_runs_the_workflow_there(emu: CdfEmulator, stack: Stack) -> None:
    run = stack.up()
    emu.upsert_workflow_version(OTHER_PROJECT, WORKFLOW, VERSION)

    for moved in restarted(emu, stack_config(emu, **{"cdf:project": OTHER_PROJECT})):
        registration = moved.register()
        inputs = moved.check(registration, run.inputs)
        diff = moved.plugin.diff(registration.urn, run.id, run.outs, inputs)
    assert diff.changes == "SOME" and diff.replaces == ["connection"]


# --- an accepted run is an execution -------------------------------------------------------------------------


def test_a_2xx_run_reply_that_is_not_json_is_found_by_its_marker(stack: Stack) -> None:
    stack.emu.inject_fault("POST", RUN_PATH, when="after", status=None, body="<html>proxy says hello</html>")

    run = stack.up()

    (execution,) = stack.executions()
    assert run.id == execution["id"]
    assert len(stack.api_requests("POST", RUN_PATH)) == 1


def test_a_2xx_run_reply_missing_fields_is_read_back_by_its_id(stack: Stack) -> None:
    stack.emu.inject_fault("POST", RUN_PATH, when="after", status=None, body=lambda real: {"id": real["id"]})

    run = stack.up()

    (execution,) = stack.executions()
    assert run.id == execution["id"]
    assert run.outs["status"] in ("RUNNING", "COMPLETED")
    # Found by id: the only list is the look-up before the run.
    assert len(stack.api_requests("POST", r"/executions/list$")) == 1


def test_an_unreadable_2xx_without_a_marker_never_says_nothing_started(stack: Stack) -> None:
    metadata = {f"k{i}": "v" for i in range(10)}  # no pair left for the run marker
    stack.emu.inject_fault("POST", RUN_PATH, when="after", status=None, body="<html>bad gateway</html>")
    registration = stack.register(metadata=metadata)
    inputs = stack.check(registration)

    with pytest.raises(PluginError) as info:
        stack.plugin.create(registration.urn, inputs)

    assert "No execution was started" not in info.value.details
    assert f"Check the executions of workflow '{WORKFLOW}' version '{VERSION}'" in info.value.details
    assert len(stack.executions()) == 1


def test_a_lost_reply_adopts_the_tagged_execution_not_the_newest(stack: Stack) -> None:
    # The reply is lost after CDF started the run; meanwhile someone else runs the same version. The other run
    # starts once ours is in CDF, so the one-shot fault has been spent on ours whatever the machine's load.
    stack.emu.inject_fault("POST", RUN_PATH, when="after", status=None, drop=True, delay=3.0)
    other: dict[str, Any] = {}

    def someone_else() -> None:
        wait_until(stack.executions, "our run to reach CDF", 30)
        other["id"] = cdf(stack.emu).run(WORKFLOW, VERSION, input={"by": "someone else"}).id

    thread = threading.Thread(target=someone_else)
    thread.start()
    run = stack.up(input={"by": "pulumi"})
    thread.join()

    assert len(stack.executions()) == 2
    assert run.id != other["id"]
    (ours,) = [e for e in stack.executions() if e["id"] == run.id]
    assert ours["input"] == {"by": "pulumi"}


# --- waits end when they cannot learn anything ---------------------------------------------------------------


@pytest.mark.timeout(30)
@pytest.mark.parametrize(
    ("status", "meaning"), [(403, "workflowOrchestration:read"), (401, "credentials were refused")]
)
def test_a_refused_status_read_ends_the_wait_at_once(stack: Stack, status: int, meaning: str) -> None:
    stack.emu.set_outcome(WORKFLOW, VERSION, "RUN_UNTIL_CANCELLED")
    stack.emu.inject_fault("GET", r"/workflows/executions/[^/]+$", status=status, times=10)
    registration = stack.register(wait_for_completion=True, timeout_seconds=600)
    inputs = stack.check(registration)

    started = time.monotonic()
    with pytest.raises(PluginError) as info:
        stack.plugin.create(registration.urn, inputs)

    assert time.monotonic() - started < 15
    assert f"reading its status failed with HTTP {status}" in info.value.details
    assert meaning in info.value.details
    assert "and was not cancelled" in info.value.details
    assert [e["status"] for e in stack.executions()] == ["RUNNING"]


@pytest.mark.timeout(30)
def test_a_wait_that_gives_up_cancels_first_with_cancel_on_delete(stack: Stack) -> None:
    stack.emu.set_outcome(WORKFLOW, VERSION, "RUN_UNTIL_CANCELLED")
    registration = stack.register(wait_for_completion=True, timeout_seconds=2, cancel_on_delete=True)
    inputs = stack.check(registration)

    with pytest.raises(PluginError) as info:
        stack.plugin.create(registration.urn, inputs)

    assert "Because cancel_on_delete is set, the provider tried to cancel it: cancelled execution" in (
        info.value.details
    )
    (execution,) = stack.executions()
    assert len(stack.api_requests("POST", rf"/executions/{execution['id']}/cancel$")) == 1


@pytest.mark.timeout(60)
def test_a_transient_5xx_on_the_status_read_keeps_waiting(stack: Stack) -> None:
    stack.emu.set_outcome(WORKFLOW, VERSION, "COMPLETED", task_duration=2.0)
    stack.emu.inject_fault("GET", r"/workflows/executions/[^/]+$", status=503, times=2)

    run = stack.up(wait_for_completion=True, timeout_seconds=60)

    assert run.outs["status"] == "COMPLETED"


# --- secrets and types in what read and create return -------------------------------------------------------


def test_get_with_a_connection_token_returns_no_secret(stack: Stack) -> None:
    other = stack.up()
    connection = CdfConnection(token="static-get-token-3c9e", project=CDF_PROJECT, base_url=stack.emu.base_url)
    registration = stack.register("adopted", connection=connection)

    read = stack.plugin.read(registration.urn, other.id, registration.engine_inputs)

    assert read.id == other.id
    assert "static-get-token-3c9e" not in repr(read.outs)
    assert "static-get-token-3c9e" not in repr(read.inputs)


def test_get_of_an_id_that_never_existed_fails(stack: Stack) -> None:
    registration = stack.register("adopted")
    missing = "00000000-0000-4000-8000-000000000000"

    with pytest.raises(PluginError) as info:
        stack.plugin.read(registration.urn, missing, registration.engine_inputs)

    assert f"Execution {missing} does not exist in CDF project '{CDF_PROJECT}'" in info.value.details


def test_a_numeric_version_is_stored_as_a_string(stack: Stack) -> None:
    run = stack.up(version=1)
    assert run.outs["version"] == "1"


def test_credentials_are_fingerprinted_only_when_given(stack: Stack) -> None:
    plain = stack.up("plain")
    with_nonce = stack.up("with-nonce", nonce=cdf(stack.emu).create_session().nonce.get_secret_value())

    assert set(plain.outs["credentials_fingerprint"]) == {"scheme", "salt"}
    assert set(with_nonce.outs["credentials_fingerprint"]) == {"scheme", "salt", "nonce"}
    assert CLIENT_ID and CLIENT_SECRET  # the connection's own secret lives in stack config, never here
