"""Toy dynamic provider: no external effects, behaviour steered by its inputs.

- ``check`` fails when ``name`` is empty; adds ``unknown_keys`` (inputs that arrived unknown).
- ``create`` returns id ``toy-<n>`` and echoes the inputs plus ``configured_project`` (from ``configure``),
  ``in_flight`` (concurrent creates when it started) and ``pid``; ``sleep`` (seconds) delays it,
  ``fail`` raises with that text, ``stderr_note`` is printed to stderr.
- ``diff`` ignores ``__provider``; a changed ``name`` requires a replacement (delete before replace).
- ``read`` returns the props (``gone`` true: no id); ``update`` echoes news plus ``updated``;
  ``delete`` is a no-op unless ``fail_delete``.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from typing import Any

import pulumi
from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    ConfigureRequest,
    CreateResult,
    DiffResult,
    ReadResult,
    Resource,
    ResourceProvider,
    UpdateResult,
)
from pulumi.output import Unknown

PROVIDER_KEY = "__provider"

# Module state lives in the plugin process; the provider instance itself stays empty (pickled by ref).
_LOCK = threading.Lock()
_STATE: dict[str, Any] = {"next_id": 0, "in_flight": 0, "project": None}


class ToyProvider(ResourceProvider):
    def configure(self, req: ConfigureRequest) -> None:
        _STATE["project"] = req.config.get("cdf:project")

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        failures: list[CheckFailure] = []
        name = news.get("name")
        if not isinstance(name, Unknown) and not name:
            failures.append(CheckFailure("name", "name must not be empty"))
        inputs = dict(news)
        inputs["unknown_keys"] = sorted(k for k, v in news.items() if isinstance(v, Unknown))
        return CheckResult(inputs, failures)

    def diff(self, _id: str, _olds: dict[str, Any], _news: dict[str, Any]) -> DiffResult:
        keys = (set(_olds) | set(_news)) - {PROVIDER_KEY, "unknown_keys"}
        changed = sorted(k for k in keys if k in _news and _olds.get(k) != _news.get(k))
        replaces = [k for k in changed if k == "name"]
        return DiffResult(changes=bool(changed), replaces=replaces, delete_before_replace=bool(replaces))

    def create(self, props: dict[str, Any]) -> CreateResult:
        with _LOCK:
            _STATE["in_flight"] += 1
            in_flight = _STATE["in_flight"]
            _STATE["next_id"] += 1
            n = _STATE["next_id"]
        try:
            if props.get("stderr_note"):
                print(props["stderr_note"], file=sys.stderr, flush=True)
            if props.get("sleep"):
                time.sleep(float(props["sleep"]))
            if props.get("fail"):
                raise RuntimeError(f"toy create failed: {props['fail']}")
            outs = {k: v for k, v in props.items() if k != PROVIDER_KEY}
            outs.update(configured_project=_STATE["project"], in_flight=in_flight, pid=os.getpid())
            return CreateResult(f"toy-{n}", outs)
        finally:
            with _LOCK:
                _STATE["in_flight"] -= 1

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        if props.get("gone"):
            return ReadResult(None, {})
        return ReadResult(id_, dict(props))

    def update(self, _id: str, _olds: dict[str, Any], _news: dict[str, Any]) -> UpdateResult:
        outs = {k: v for k, v in _news.items() if k != PROVIDER_KEY}
        outs["updated"] = True
        return UpdateResult(outs)

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        if _props.get("fail_delete"):
            raise RuntimeError("toy delete failed")


class Toy(Resource, module="toy", name="Toy"):
    """Type token ``pulumi-python:dynamic/toy:Toy``."""

    configured_project: pulumi.Output[Any]

    def __init__(self, name: str, props: dict[str, Any], opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(ToyProvider(), name, {**props, "configured_project": None}, opts)
