"""The plugin's process: the SDK's gRPC server around `CdfWorkflowsProvider`, with the provider's own errors
shown as their message.

The SDK's servicer appends a Python traceback to every error. A `ProviderError` already says what went wrong
and what to do (as in the dynamic-provider plugin, see `lifecycle.plugin_errors`), so the servicer here sends
its message alone; anything else (a bug) keeps its traceback. A create that made its object but failed after
(`CreatedButFailed`) reaches the engine as partial state: the status's details pack `ErrorResourceInitFailed`,
and the engine records the resource with its outputs and the error (its `initErrors`).
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from typing import Any

import grpc
from pulumi.provider.experimental import server
from pulumi.provider.experimental.property_value import PropertyValue
from pulumi.runtime.proto import provider_pb2, status_pb2

from pulumi_cdf_workflows._version import __version__
from pulumi_cdf_workflows.lifecycle import plugin_host
from pulumi_cdf_workflows.lifecycle.provider import ProviderError
from pulumi_cdf_workflows.plugin.provider import CdfWorkflowsProvider, CreatedButFailed
from pulumi_cdf_workflows.plugin.words import in_plugin_words

_Handler = Callable[[Any, Any], Awaitable[Any]]


def _details(error: CreatedButFailed) -> bytes:
    """The `grpc-status-details-bin` the engine reads as "created, but failed": a `google.rpc.Status` whose
    details pack `ErrorResourceInitFailed` with the id and outputs to record."""
    failed = provider_pb2.ErrorResourceInitFailed(
        id=error.resource_id, properties=PropertyValue.marshal_map(error.properties), reasons=[_said(error)]
    )
    status = status_pb2.Status(code=grpc.StatusCode.UNKNOWN.value[0], message=_said(error))
    status.details.add().Pack(failed)
    serialized: bytes = status.SerializeToString()
    return serialized


def _said(error: Exception) -> str:
    return in_plugin_words(str(error))


async def _without_traceback(handler: _Handler, request: Any, context: Any) -> Any:
    try:
        return await handler(request, context)
    except Exception as wrapped:
        # The SDK raises a new exception with the traceback in its text; the provider's own is its context.
        error = wrapped.__context__ if not isinstance(wrapped, ProviderError | CreatedButFailed) else wrapped
        if isinstance(error, CreatedButFailed):
            await context.abort(
                grpc.StatusCode.UNKNOWN, _said(error), trailing_metadata=(("grpc-status-details-bin", _details(error)),)
            )
        if isinstance(error, ProviderError):
            await context.abort(grpc.StatusCode.UNKNOWN, _said(error))
        raise


class _Servicer(server.ProviderServicer):
    async def Check(self, request: Any, context: Any) -> Any:
        return await _without_traceback(super().Check, request, context)

    async def Diff(self, request: Any, context: Any) -> Any:
        return await _without_traceback(super().Diff, request, context)

    async def Create(self, request: Any, context: Any) -> Any:
        return await _without_traceback(super().Create, request, context)

    async def Read(self, request: Any, context: Any) -> Any:
        return await _without_traceback(super().Read, request, context)

    async def Update(self, request: Any, context: Any) -> Any:
        return await _without_traceback(super().Update, request, context)

    async def Delete(self, request: Any, context: Any) -> Any:
        return await _without_traceback(super().Delete, request, context)


def run() -> None:
    """`pulumi-resource-cdf-workflows <engine address>`: serve until the engine stops the plugin."""
    # `server.main` builds its servicer from this module-level name.
    server.ProviderServicer = _Servicer  # type: ignore[misc]
    plugin_host.watch_engine()  # waits end when the `pulumi` that started this plugin is killed
    engine = next((arg for arg in sys.argv[1:] if not arg.startswith("-")), "")
    server.main(sys.argv[1:], __version__, CdfWorkflowsProvider(engine))
