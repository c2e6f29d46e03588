"""Value helpers shared by the mocks capture and the plugin driver.

They reproduce what the Pulumi engine does to property values on their way to a dynamic provider.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from google.protobuf import struct_pb2
from pulumi.output import Unknown
from pulumi.runtime import rpc

UNKNOWN: str = rpc.UNKNOWN
"""The engine's unknown sentinel (a preview-time computed value) as it crosses the wire."""

SECRET_SIG_KEY: str = rpc._special_sig_key
SECRET_SIG: str = rpc._special_secret_sig


def is_secret(value: Any) -> bool:
    """True when ``value`` is an RPC secret wrapper ``{SIG_KEY: SECRET_SIG, "value": ...}``."""
    return bool(rpc.is_rpc_secret(value))


def wrap_secret(value: Any) -> dict[str, Any]:
    """Wrap ``value`` as the RPC layer wraps a secret (what the engine would receive)."""
    return {SECRET_SIG_KEY: SECRET_SIG, "value": value}


def strip_secrets(value: Any) -> Any:
    """Remove every secret wrapper, recursively, as the engine does for a provider that answered
    ``acceptSecrets: false`` (every dynamic provider). ``pulumi.output.Unknown`` instances become the
    wire sentinel :data:`UNKNOWN`."""
    if is_secret(value):
        return strip_secrets(value["value"])
    if isinstance(value, Unknown):
        return UNKNOWN
    if isinstance(value, Mapping):
        return {k: strip_secrets(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [strip_secrets(v) for v in value]
    return value


def normalize_unknowns(value: Any) -> Any:
    """Replace ``pulumi.output.Unknown`` instances (what ``deserialize_properties(keep_unknowns=True)``
    yields) by the :data:`UNKNOWN` string, recursively, so results compare with ``== UNKNOWN``."""
    if isinstance(value, Unknown):
        return UNKNOWN
    if isinstance(value, dict):
        return {k: normalize_unknowns(v) for k, v in value.items()}
    if isinstance(value, list):
        return [normalize_unknowns(v) for v in value]
    return value


def serialize(props: Mapping[str, Any], *, keep_secrets: bool = False) -> struct_pb2.Struct:
    """Serialize a property map with ``rpc.serialize_properties`` in a fresh event loop (thread-safe:
    every call has its own loop). Secret wrappers are stripped first, as the engine does for a provider
    that does not accept secrets, unless ``keep_secrets``."""
    plain = dict(props) if keep_secrets else strip_secrets(dict(props))
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(rpc.serialize_properties(plain, {}))
    finally:
        loop.close()


def deserialize(struct: struct_pb2.Struct) -> dict[str, Any]:
    """Deserialize a property struct keeping unknowns (returned as the :data:`UNKNOWN` string)."""
    result = rpc.deserialize_properties(struct, keep_unknowns=True)
    if not isinstance(result, dict):
        raise TypeError(f"expected a property map, got {type(result).__name__}")
    normalized: dict[str, Any] = normalize_unknowns(result)
    return normalized
