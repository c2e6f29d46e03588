"""Run a Pulumi program under ``pulumi.runtime.set_mocks`` and record every resource registration."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pulumi.runtime import config as runtime_config
from pulumi.runtime import settings as runtime_settings
from pulumi.runtime.mocks import MockCallArgs, MockMonitor, MockResourceArgs, Mocks, set_mocks
from pulumi.runtime.stack import run_pulumi_func

from ._values import is_secret, strip_secrets

PROVIDER_KEY = "__provider"


@dataclass(frozen=True)
class Registration:
    """One resource registration (``RegisterResource``, or ``ReadResource`` for ``Resource.get``)."""

    type: str
    """Type token, e.g. ``pulumi-python:dynamic/toy:Toy``."""
    name: str
    urn: str
    """``urn:pulumi:<stack>::<project>::<[parent-type$]type>::<name>`` as the engine builds it (the root
    stack's type is left out; ``MockMonitor`` puts it in, so the program's ``resource.urn`` differs)."""
    inputs: dict[str, Any]
    """Raw inputs as ``Mocks.new_resource`` received them: secret values still wrapped."""
    secret_keys: frozenset[str]
    """Top-level input keys whose value was secret (the RPC layer pushes nested secrets up to these)."""
    additional_secret_outputs: tuple[str, ...]
    """``ResourceOptions.additional_secret_outputs``. NOT exposed by ``MockResourceArgs``: read from the
    ``RegisterResourceRequest`` by a ``MockMonitor`` subclass."""
    engine_inputs: dict[str, Any]
    """``inputs`` with secret wrappers stripped recursively: what the engine sends a dynamic provider."""
    custom: bool = True
    parent: str = ""
    resource_id: str | None = None
    """``importId`` for a registration, the id for a read (``Resource.get`` / ``opts.id``)."""
    read: bool = False
    """True for a ``ReadResource`` (``Resource.get``), False for ``RegisterResource``."""
    request: Any = field(default=None, repr=False, compare=False)
    """The raw protobuf request (``protect``, ``ignoreChanges``, ``customTimeouts``, ...)."""

    @property
    def provider_blob(self) -> str:
        """The base64 dill blob of the provider (``__provider``), unwrapped."""
        value = self.engine_inputs[PROVIDER_KEY]
        if not isinstance(value, str):
            raise TypeError("__provider is not a string (unknown during a preview?)")
        return value

    def state_secret_keys(self, outs: Mapping[str, Any]) -> frozenset[str]:
        """Output keys the engine would store as secret: keys matching a secret input, plus
        ``additional_secret_outputs`` (top-level approximation of the engine's annotateSecrets)."""
        return frozenset(k for k in outs if k in self.secret_keys or k in self.additional_secret_outputs)


OutputsHook = Callable[[Registration], Mapping[str, Any]]


class _Recorder(Mocks):
    def __init__(self, outputs: OutputsHook | None) -> None:
        self.registrations: list[Registration] = []
        self.current = threading.local()
        self._lock = threading.Lock()
        self._outputs = outputs
        self.stack = "dev"
        self.project = "proj"
        self.preview = False

    def call(self, args: MockCallArgs) -> tuple[dict[Any, Any], list[tuple[str, str]] | None]:
        return {}, []

    def new_resource(self, args: MockResourceArgs) -> tuple[str | None, dict[Any, Any]]:
        request: Any = getattr(self.current, "request", None)
        parent = str(getattr(request, "parent", "") or "")
        read = bool(getattr(self.current, "read", False))
        urn = self._make_urn(parent, args.typ, args.name)
        inputs = dict(args.inputs)
        reg = Registration(
            type=args.typ,
            name=args.name,
            urn=urn,
            inputs=inputs,
            secret_keys=frozenset(k for k, v in inputs.items() if is_secret(v)),
            additional_secret_outputs=tuple(getattr(request, "additionalSecretOutputs", ()) or ()),
            engine_inputs=strip_secrets(inputs),
            custom=bool(args.custom) if not read else True,
            parent=parent,
            resource_id=args.resource_id or None,
            read=read,
            request=request,
        )
        with self._lock:
            self.registrations.append(reg)
        state = dict(inputs)
        if self._outputs is not None:
            state.update(self._outputs(reg))
        # In a preview the engine knows no id for a resource it would create: leave it unknown.
        rid = args.resource_id or (f"{args.name}_id" if reg.custom and not self.preview else None)
        return rid, state

    def _make_urn(self, parent: str, type_: str, name: str) -> str:
        # The engine leaves the root stack's type out of its children's URNs (MockMonitor does not).
        parent_type = parent.split("::")[2].split("$")[-1] if parent.count("::") >= 3 else ""
        if parent_type and parent_type != "pulumi:pulumi:Stack":
            type_ = f"{parent_type}${type_}"
        return f"urn:pulumi:{self.stack}::{self.project}::{type_}::{name}"


class _RecordingMonitor(MockMonitor):
    """Exposes the raw request to the mocks (for ``additionalSecretOutputs`` and ``parent``)."""

    recorder: _Recorder

    def __init__(self, recorder: _Recorder) -> None:
        super().__init__(recorder)
        self.recorder = recorder

    def RegisterResource(self, request: Any) -> Any:
        self.recorder.current.request = request
        self.recorder.current.read = False
        try:
            return super().RegisterResource(request)  # type: ignore[no-untyped-call]
        finally:
            self.recorder.current.request = None

    def ReadResource(self, request: Any) -> Any:
        self.recorder.current.request = request
        self.recorder.current.read = True
        try:
            return super().ReadResource(request)  # type: ignore[no-untyped-call]
        finally:
            self.recorder.current.request = None
            self.recorder.current.read = False


def capture_registrations(
    program: Callable[[], None],
    *,
    project: str = "proj",
    stack: str = "dev",
    config: dict[str, str] | None = None,
    secret_config_keys: list[str] | None = None,
    preview: bool = False,
    outputs: OutputsHook | None = None,
) -> list[Registration]:
    """Run ``program`` under ``pulumi.runtime.set_mocks`` and return its registrations in order.

    ``config`` keys are full names (``"cdf:project"``), so ``pulumi.Config("cdf").get("project")``
    works. The program runs in a fresh thread (fresh contextvars: settings, config, root stack) with a
    fresh event loop, so captures do not leak state into each other or into the caller. The mocks
    return ``(f"{name}_id", inputs + outputs(reg))`` for each resource (no id when ``preview``, so ids
    and outputs that are not inputs are unknown, as for a create in a real preview; unknown inputs then
    appear as ``UNKNOWN`` in ``engine_inputs``). Exceptions raised by the program propagate.
    """
    recorder = _Recorder(outputs)
    recorder.stack, recorder.project, recorder.preview = stack, project, preview
    box: dict[str, BaseException] = {}

    def run() -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        try:
            runtime_settings.reset_options(project=project, stack=stack, preview=preview)
            runtime_config.set_all_config(dict(config or {}), list(secret_config_keys or []))
            set_mocks(
                recorder,
                project=project,
                stack=stack,
                preview=preview,
                monitor=_RecordingMonitor(recorder),
            )

            async def main() -> None:
                await run_pulumi_func(program)

            loop.run_until_complete(main())
        except BaseException as exc:  # re-raised in the caller's thread
            box["error"] = exc
        finally:
            try:
                loop.run_until_complete(loop.shutdown_default_executor())
            finally:
                asyncio.set_event_loop(None)
                loop.close()

    thread = threading.Thread(target=run, name="pulumi-capture", daemon=True)
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    return list(recorder.registrations)
