"""The plugin's process: the SDK's gRPC server around `CdfWorkflowsProvider`, with the provider's own errors
shown as their message.

The SDK's servicer appends a Python traceback to every error. A `ProviderError` already says what went wrong
and what to do (as in the dynamic-provider plugin, see `lifecycle.plugin_errors`), so the servicer here sends
its message alone; anything else (a bug) keeps its traceback. The servicer is also where a later increment
packs partial state into a failed Create (`ErrorResourceInitFailed`).
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from typing import Any

import grpc
from pulumi.provider.experimental import server

from pulumi_cdf_workflows._version import __version__
from pulumi_cdf_workflows.lifecycle.provider import ProviderError
from pulumi_cdf_workflows.plugin.provider import CdfWorkflowsProvider

_Handler = Callable[[Any, Any], Awaitable[Any]]


async def _without_traceback(handler: _Handler, request: Any, context: Any) -> Any:
    try:
        return await handler(request, context)
    except Exception as wrapped:
        # The SDK raises a new exception with the traceback in its text; the provider's own is its context.
        error = wrapped.__context__ if not isinstance(wrapped, ProviderError) else wrapped
        if isinstance(error, ProviderError):
            await context.abort(grpc.StatusCode.UNKNOWN, str(error))
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
    server.main(sys.argv[1:], __version__, CdfWorkflowsProvider())
