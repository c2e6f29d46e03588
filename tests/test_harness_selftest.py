"""Self-tests of the dynamic-provider test harness, against a toy provider and the real plugin."""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import grpc
import pulumi
import pytest
from harness import (
    PROVIDER_KEY,
    UNKNOWN,
    PluginError,
    PluginProcess,
    Registration,
    capture_registrations,
    is_secret,
    wait_until,
)
from harness.toy.provider import Toy

SECRET = "s3cr3t-value-7f3a"
TOY_TYPE = "pulumi-python:dynamic/toy:Toy"


def _program() -> None:
    cfg = pulumi.Config("cdf")
    Toy(
        "alpha",
        {
            "name": "alpha",
            "token": pulumi.Output.secret(SECRET),
            "count": 3,
            "project": cfg.get("project"),
            "nested": {"items": [1, "two"]},
        },
        opts=pulumi.ResourceOptions(additional_secret_outputs=["configured_project"]),
    )


@pytest.fixture(scope="module")
def reg() -> Registration:
    regs = capture_registrations(_program, config={"cdf:project": "proj-from-config"})
    assert len(regs) == 1
    return regs[0]


@pytest.fixture(scope="module")
def plugin() -> Iterator[PluginProcess]:
    with PluginProcess(env={"TOY_HARNESS_MARKER": "1"}) as proc:
        result = proc.configure({"cdf:project": "proj-from-config"})
        assert not result.accept_secrets
        yield proc


def _strip(props: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in props.items() if k != PROVIDER_KEY}


# -- capture_registrations -------------------------------------------------------------------------


def test_capture_records_type_name_urn_and_secrets(reg: Registration) -> None:
    assert reg.type == TOY_TYPE
    assert reg.name == "alpha"
    assert reg.urn == f"urn:pulumi:dev::proj::{TOY_TYPE}::alpha"
    assert reg.secret_keys == {"token", PROVIDER_KEY}
    assert is_secret(reg.inputs["token"])
    assert reg.inputs["token"]["value"] == SECRET
    assert reg.additional_secret_outputs == ("configured_project",)
    assert reg.state_secret_keys({"token": "x", "configured_project": "p", "count": 1.0}) == {
        "token",
        "configured_project",
    }


def test_capture_engine_inputs_are_stripped(reg: Registration) -> None:
    assert reg.engine_inputs["token"] == SECRET
    assert not any(is_secret(v) for v in reg.engine_inputs.values())
    assert isinstance(reg.provider_blob, str)
    base64.b64decode(reg.provider_blob)  # a plain base64 string, no wrapper
    assert _strip(reg.engine_inputs) == {
        "name": "alpha",
        "token": SECRET,
        "count": 3.0,  # numbers cross the wire as floats
        "project": "proj-from-config",
        "nested": {"items": [1.0, "two"]},
    }


def test_capture_twice_resets_state() -> None:
    def failing() -> None:
        raise ValueError("program failed")

    with pytest.raises(ValueError, match="program failed"):
        capture_registrations(failing)
    first = capture_registrations(_program, project="p1", stack="s1", config={"cdf:project": "one"})
    second = capture_registrations(_program, config={})
    assert [r.urn for r in first] == [f"urn:pulumi:s1::p1::{TOY_TYPE}::alpha"]
    assert first[0].engine_inputs["project"] == "one"
    assert len(second) == 1
    assert "project" not in second[0].engine_inputs


def test_capture_child_and_preview_unknowns() -> None:
    class Group(pulumi.ComponentResource):
        def __init__(self, name: str) -> None:
            super().__init__("test:index:Group", name)
            first = Toy("first", {"name": "first"}, opts=pulumi.ResourceOptions(parent=self))
            Toy("second", {"name": first.configured_project}, opts=pulumi.ResourceOptions(parent=self))

    def program() -> None:
        Group("g")

    regs = capture_registrations(program, preview=True)
    by_name = {r.name: r for r in regs}
    assert by_name["g"].urn == "urn:pulumi:dev::proj::test:index:Group::g"
    assert not by_name["g"].custom
    assert by_name["first"].urn == f"urn:pulumi:dev::proj::test:index:Group${TOY_TYPE}::first"
    assert by_name["second"].engine_inputs["name"] == UNKNOWN


# -- PluginProcess ------------------------------------------------------------------------------------


def test_lifecycle(plugin: PluginProcess, reg: Registration) -> None:
    checked = plugin.check(reg.urn, {}, reg.engine_inputs)
    assert checked.failures == []
    assert checked.inputs[PROVIDER_KEY] == reg.provider_blob
    assert checked.inputs["unknown_keys"] == []

    id_, outs = plugin.create(reg.urn, checked.inputs, timeout=30)
    assert id_.startswith("toy-")
    assert outs["configured_project"] == "proj-from-config"  # configure reached the provider
    assert outs["token"] == SECRET
    assert outs[PROVIDER_KEY] == reg.provider_blob

    same = plugin.diff(reg.urn, id_, outs, checked.inputs)
    assert same.changes == "NONE"
    assert same.replaces == []

    changed = plugin.diff(reg.urn, id_, outs, {**checked.inputs, "count": 4})
    assert (changed.changes, changed.replaces, changed.delete_before_replace) == ("SOME", [], False)
    renamed = plugin.diff(reg.urn, id_, outs, {**checked.inputs, "name": "beta"})
    assert (renamed.changes, renamed.replaces, renamed.delete_before_replace) == ("SOME", ["name"], True)
    # A different pickled provider in the old state (e.g. after an upgrade) is ignored by the toy.
    old_blob = base64.b64encode(b"older provider").decode()
    provider_only = plugin.diff(reg.urn, id_, {**outs, PROVIDER_KEY: old_blob}, checked.inputs)
    assert provider_only.changes == "NONE"

    refreshed = plugin.read(reg.urn, id_, outs)
    assert refreshed.id == id_
    assert refreshed.outs == outs
    assert refreshed.inputs is None

    got = plugin.read(reg.urn, id_, None, inputs=reg.engine_inputs)  # Resource.get passes inputs only
    assert got.id == id_
    assert got.outs["name"] == "alpha"

    gone = plugin.read(reg.urn, id_, {**outs, "gone": True})
    assert gone.id is None

    updated = plugin.update(reg.urn, id_, outs, {**checked.inputs, "count": 4})
    assert updated["updated"] is True
    assert updated["count"] == 4.0
    assert updated[PROVIDER_KEY] == reg.provider_blob

    plugin.delete(reg.urn, id_, updated)
    with pytest.raises(PluginError, match="toy delete failed"):
        plugin.delete(reg.urn, id_, {**updated, "fail_delete": True})


def test_check_failure(plugin: PluginProcess, reg: Registration) -> None:
    result = plugin.check(reg.urn, {}, {**reg.engine_inputs, "name": ""})
    assert result.failures == [("name", "name must not be empty")]


def test_check_receives_unknowns(plugin: PluginProcess, reg: Registration) -> None:
    result = plugin.check(reg.urn, reg.engine_inputs, {**reg.engine_inputs, "name": UNKNOWN, "count": UNKNOWN})
    assert result.failures == []  # unknown name is not "empty"
    assert result.inputs["unknown_keys"] == ["count", "name"]  # arrived as pulumi.output.Unknown
    assert result.inputs["name"] == UNKNOWN
    assert plugin.diff(reg.urn, "toy-x", reg.engine_inputs, {**reg.engine_inputs, "name": UNKNOWN}).replaces == ["name"]


def test_plugin_error_carries_traceback(plugin: PluginProcess, reg: Registration) -> None:
    with pytest.raises(PluginError) as info:
        plugin.create(reg.urn, {**reg.engine_inputs, "fail": "boom-4711"})
    err = info.value
    assert err.method == "Create"
    assert err.code == grpc.StatusCode.UNKNOWN
    assert "RuntimeError: toy create failed: boom-4711" in err.details
    assert "Traceback" in err.details


def test_secret_input_wrappers_are_stripped_on_the_wire(plugin: PluginProcess, reg: Registration) -> None:
    # Raw (wrapped) inputs are stripped by the harness as the engine strips them.
    _, outs = plugin.create(reg.urn, reg.inputs)
    assert outs["token"] == SECRET
    assert not is_secret(outs["token"])


def test_stderr_is_captured_and_holds_no_secret(plugin: PluginProcess, reg: Registration) -> None:
    plugin.create(reg.urn, {**reg.engine_inputs, "stderr_note": "note-from-toy-create"})
    wait_until(lambda: "note-from-toy-create" in plugin.stderr_text(), "the toy's note on stderr", 5)
    assert "note-from-toy-create" in plugin.stderr_text()
    assert SECRET not in plugin.stderr_text()
    assert SECRET not in plugin.stdout_text()


def test_concurrent_creates(plugin: PluginProcess, reg: Registration) -> None:
    sleep = 0.4
    barrier = threading.Barrier(8)

    def one(i: int) -> tuple[str, dict[str, Any]]:
        barrier.wait()
        return plugin.create(reg.urn, {**reg.engine_inputs, "name": f"c{i}", "sleep": sleep})

    start = time.monotonic()
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(one, range(8)))
    elapsed = time.monotonic() - start
    assert len({id_ for id_, _ in results}) == 8
    assert sorted(outs["name"] for _, outs in results) == [f"c{i}" for i in range(8)]
    in_flight = [outs["in_flight"] for _, outs in results]
    assert max(in_flight) <= 4  # the plugin's 4-thread pool
    assert elapsed >= 2 * sleep * 0.95  # 8 calls, at most 4 at a time


def test_plugin_stop_keeps_output(reg: Registration) -> None:
    proc = PluginProcess()
    with proc:
        assert proc.port is not None
        assert proc.get_plugin_info() == "0.1.0"
        proc.create(reg.urn, {**reg.engine_inputs, "stderr_note": "before-stop"})
    assert proc.returncode is None
    assert "before-stop" in proc.stderr_text()
    with pytest.raises(RuntimeError, match="not started"):
        proc.check(reg.urn, {}, reg.engine_inputs)
