"""The plugin's provider: each call runs the lifecycle method of the resource's dynamic provider.

Per call it builds that provider as the dynamic resource class would (named `<stack>/<name>` and the Pulumi
project, both read from the URN), configures it with the same `cdf:*` keys, converts the properties to the
snake_case plain dicts it takes, and converts its answer back. The lifecycle methods block (they call CDF and
may wait for an execution), so each runs in a thread of its own and the server keeps serving other calls:
there is no limit of 4 calls at once as in the dynamic-provider plugin. Each call's progress is logged
against its resource, and its customTimeouts bound an execution's wait (`lifecycle.plugin_host`).
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from pulumi.dynamic import Config
from pulumi.dynamic import ConfigureRequest as DynamicConfigureRequest
from pulumi.provider.experimental import provider as protocol
from pulumi.provider.experimental.property_value import PropertyValue

from pulumi_cdf_workflows.lifecycle import plugin_host
from pulumi_cdf_workflows.lifecycle.connection import STACK_CONFIG_KEYS
from pulumi_cdf_workflows.lifecycle.properties import user_arguments
from pulumi_cdf_workflows.lifecycle.provider import CdfResourceProvider, same
from pulumi_cdf_workflows.plugin.catalog import PACKAGE, RESOURCES, PluginOutputs, Served
from pulumi_cdf_workflows.plugin.engine import EngineLog
from pulumi_cdf_workflows.plugin.names import camel, camel_path, to_camel, to_snake
from pulumi_cdf_workflows.plugin.schema import config_name, package_schema
from pulumi_cdf_workflows.plugin.values import plain_map, property_map, secret_keys
from pulumi_cdf_workflows.plugin.words import in_plugin_words
from pulumi_cdf_workflows.resources.execution.provider import CREATE_FAILED
from pulumi_cdf_workflows.resources.execution.waiting import ExecutionNotCompleted
from pulumi_cdf_workflows.validation.fields import UNKNOWN

_T = TypeVar("_T")


class CreatedButFailed(Exception):
    """Create made the object but failed after: the servicer hands the engine its id and outputs with the error
    (`ErrorResourceInitFailed`), so the stack records it."""

    def __init__(self, resource_id: str, properties: dict[str, PropertyValue], message: str) -> None:
        super().__init__(message)
        self.resource_id = resource_id
        self.properties = properties


async def _in_thread(call: Callable[[], _T], progress: Callable[[str], None], timeout: float = 0.0) -> _T:
    """Run `call` in a new thread (not a pool's: `lifecycle.plugin_host` hooks into pools it finds, which suits
    only the dynamic-provider plugin), with its progress sent to `progress` and the engine's `timeout`."""
    loop = asyncio.get_running_loop()
    done: asyncio.Future[_T] = loop.create_future()

    def settle(result: _T | None, error: BaseException | None) -> None:
        if done.done():  # the engine gave up on the call
            return
        if error is not None:
            done.set_exception(error)
        else:
            done.set_result(result)  # type: ignore[arg-type]

    def work() -> None:
        # A new thread starts with a context of its own: these are this call's alone.
        plugin_host.progress_to.set(progress)
        plugin_host.engine_timeout.set(timeout or None)
        try:
            result = call()
        except BaseException as exc:
            loop.call_soon_threadsafe(settle, None, exc)
        else:
            loop.call_soon_threadsafe(settle, result, None)

    threading.Thread(target=work, name="cdf-workflows-call", daemon=True).start()
    return await done


def _urn_parts(urn: str) -> tuple[str, str, str, str]:
    """(stack, project, type, name) of `urn:pulumi:<stack>::<project>::<qualified type>::<name>`."""
    parts = urn.split("::")
    return parts[0].removeprefix("urn:pulumi:"), parts[1], parts[2].split("$")[-1], parts[-1]


class CdfWorkflowsProvider(protocol.Provider):
    """Serves the resources of `catalog.RESOURCES` with their dynamic providers' lifecycle."""

    def __init__(self, engine_address: str = "") -> None:
        self._config: dict[str, Any] = {}
        self._engine = EngineLog(engine_address)

    # --- the provider itself ---------------------------------------------------------------------------
    async def get_schema(self, request: protocol.GetSchemaRequest) -> protocol.GetSchemaResponse:
        return protocol.GetSchemaResponse(json.dumps(package_schema()))

    async def configure(self, request: protocol.ConfigureRequest) -> protocol.ConfigureResponse:
        """The provider's settings under the lifecycle's own keys (`cdf:project` ...): the engine sends stack config
        `cdf-workflows:project` as `project` in args (and `cdf-workflows:config:project` in variables); a full
        `cdf:*` key is taken too. Environment variables (CDF_*, IDP_*) stay the fallback, as with the dynamic
        providers, because the lifecycle reads them itself."""
        args = plain_map(request.args)
        config: dict[str, Any] = {}
        for key in STACK_CONFIG_KEYS:
            name = config_name(key)
            sources = (args.get(name), request.variables.get(f"{PACKAGE}:config:{name}"), args.get(key))
            value = next((v for v in (*sources, request.variables.get(key)) if v not in (None, "", UNKNOWN)), None)
            if value is not None:
                config[key] = value
        self._config = config
        # No resource references or output values: the engine then sends plain ids and values.
        return protocol.ConfigureResponse(accept_secrets=True, supports_preview=True)

    async def cancel(self) -> None:
        """The engine's Cancel (Ctrl-C, and the end of every run): waits end now, as in the dynamic-provider
        plugin, and say what became of their execution."""
        plugin_host.interrupt(plugin_host.Interruption.CANCELLED)

    async def _run(self, urn: str, call: Callable[[], _T], timeout: float = 0.0) -> _T:
        stack, _, _, name = _urn_parts(urn)
        return await _in_thread(call, self._engine.sink(urn, f"{stack}/{name}"), timeout)

    def _lifecycle(self, urn: str) -> tuple[Served, CdfResourceProvider]:
        stack, project, type_, name = _urn_parts(urn)
        served = RESOURCES.get(type_)
        if served is None:
            raise ValueError(f"the {PACKAGE} plugin serves no resource type {type_!r}")
        instance = served.provider(f"{stack}/{name}", project)
        instance.configure(DynamicConfigureRequest(Config(dict(self._config), project)))
        return served, instance

    @staticmethod
    def _props(served: Served, props: Mapping[str, PropertyValue]) -> dict[str, Any]:
        return to_snake(plain_map(props), served.provider.args_model, served.provider.outputs_model, PluginOutputs)

    @staticmethod
    def _answer(
        served: Served, props: Mapping[str, Any], *secret_from: Mapping[str, PropertyValue]
    ) -> dict[str, PropertyValue]:
        """Plain snake_case properties as the engine takes them: camelCase, the declared secrets and every
        property that arrived secret marked secret."""
        provider = served.provider
        secret = {camel(n) for n in provider.secret_inputs} | secret_keys(*secret_from)
        outs = {k: v for k, v in props.items() if k != "__provider"}
        return property_map(to_camel(outs, provider.args_model, provider.outputs_model, PluginOutputs), secret)

    # --- the resources ---------------------------------------------------------------------------------
    async def check(self, request: protocol.CheckRequest) -> protocol.CheckResponse:
        served, lifecycle = self._lifecycle(request.urn)
        olds, news = self._props(served, request.old_inputs), self._props(served, request.new_inputs)
        result = await self._run(request.urn, lambda: lifecycle.check(olds, news))
        args = served.provider.args_model
        failures = [
            protocol.CheckFailure(camel_path(f.property, args), in_plugin_words(f.reason))
            for f in result.failures or []
        ]
        inputs = self._answer(served, result.inputs or {}, request.new_inputs)
        return protocol.CheckResponse(inputs=inputs, failures=failures)

    async def diff(self, request: protocol.DiffRequest) -> protocol.DiffResponse:
        served, lifecycle = self._lifecycle(request.urn)
        olds, news = self._props(served, request.old_state), self._props(served, request.new_inputs)
        result = await self._run(request.urn, lambda: lifecycle.diff(request.resource_id, olds, news))
        replaces = [camel(p) for p in result.replaces or []]
        return protocol.DiffResponse(
            changes=result.changes,
            replaces=replaces,
            delete_before_replace=bool(result.delete_before_replace),
            detailed_diff=_detailed(served, olds, news, replaces) if result.changes else None,
        )

    async def create(self, request: protocol.CreateRequest) -> protocol.CreateResponse:
        served, lifecycle = self._lifecycle(request.urn)
        props = self._props(served, request.properties)
        if request.preview:  # nothing runs: what CDF will say is unknown; outputs check computed are known
            # Inputs stay unknown to dependents: an execution's check then knows not to look for a version this
            # program has yet to deploy (the Python face says so with `workflow_version=`).
            computed = {k: v for k, v in props.items() if k in served.provider.outputs}
            planned = {**dict.fromkeys(_output_names(served), UNKNOWN), **computed}
            return protocol.CreateResponse("", self._answer(served, planned, request.properties))
        try:
            result = await self._run(request.urn, lambda: lifecycle.create(props), request.timeout)
        except ExecutionNotCompleted as failed:
            said = {k: in_plugin_words(v) if k == CREATE_FAILED and isinstance(v, str) else v
                    for k, v in failed.outputs.items()}  # fmt: skip
            outs = self._answer(served, said, request.properties)
            raise CreatedButFailed(failed.execution_id, outs, failed.recorded_message) from None
        outs = self._answer(served, result.outs or {}, request.properties)
        return protocol.CreateResponse(str(result.id), outs)

    async def read(self, request: protocol.ReadRequest) -> protocol.ReadResponse:
        served, lifecycle = self._lifecycle(request.urn)
        props = self._props(served, request.properties)
        result = await self._run(request.urn, lambda: lifecycle.read(request.resource_id, props))
        if not result.id:  # gone: the engine forgets it
            return protocol.ReadResponse()
        secret_from = (request.properties, request.inputs)
        if result.inputs is not None:
            inputs = self._answer(served, result.inputs, *secret_from)
        elif not request.properties and not request.inputs:  # `pulumi import`: the inputs are what CDF holds
            inputs = self._answer(served, _imported_inputs(served, result.outs or {}), *secret_from)
        else:
            inputs = request.inputs
        outs = self._answer(served, result.outs or {}, *secret_from)
        return protocol.ReadResponse(str(result.id), outs, inputs)

    async def update(self, request: protocol.UpdateRequest) -> protocol.UpdateResponse:
        served, lifecycle = self._lifecycle(request.urn)
        olds, news = self._props(served, request.olds), self._props(served, request.news)
        if request.preview:  # nothing is written: the stored outputs with the new public inputs
            public = {**olds, **lifecycle._public(news)}
            return protocol.UpdateResponse(self._answer(served, public, request.olds, request.news))
        result = await self._run(request.urn, lambda: lifecycle.update(request.resource_id, olds, news))
        return protocol.UpdateResponse(self._answer(served, result.outs or {}, request.olds, request.news))

    async def delete(self, request: protocol.DeleteRequest) -> None:
        served, lifecycle = self._lifecycle(request.urn)
        props = self._props(served, request.properties)
        await self._run(request.urn, lambda: lifecycle.delete(request.resource_id, props))


def _public_arguments(served: Served) -> list[str]:
    """The arguments a user gives that are not secret: the ones outputs, imports and diffs may show."""
    provider = served.provider
    return [n for n in user_arguments(provider.args_model) if n not in provider.secret_inputs]


def _imported_inputs(served: Served, outs: Mapping[str, Any]) -> dict[str, Any]:
    """An imported object's inputs: its public arguments as read from CDF, so the program that declares the same
    plans no change (secret ones CDF never shows; the program's connection is its own)."""
    return {n: outs[n] for n in _public_arguments(served) if outs.get(n) is not None}


def _output_names(served: Served) -> list[str]:
    return [*_public_arguments(served), *served.provider.outputs]


def _detailed(
    served: Served, olds: Mapping[str, Any], news: Mapping[str, Any], replaces: list[str]
) -> dict[str, protocol.PropertyDiff]:
    """What `preview --diff` shows: the replacing properties, and the other public inputs whose value changed."""
    kinds = {p: protocol.PropertyDiff(protocol.PropertyDiffKind.UPDATE_REPLACE, True) for p in replaces}
    for name in _public_arguments(served):
        key = camel(name)
        if key not in kinds and not same(olds.get(name), news.get(name)):
            kinds[key] = protocol.PropertyDiff(protocol.PropertyDiffKind.UPDATE, True)
    return kinds
