"""What the plugin driver's calls return, as plain values."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pulumi.runtime.proto import provider_pb2

DiffChanges = Literal["SOME", "NONE", "UNKNOWN"]

CHANGES: dict[int, DiffChanges] = {
    provider_pb2.DiffResponse.DIFF_SOME: "SOME",
    provider_pb2.DiffResponse.DIFF_NONE: "NONE",
    provider_pb2.DiffResponse.DIFF_UNKNOWN: "UNKNOWN",
}


@dataclass(frozen=True)
class ConfigureResult:
    accept_secrets: bool
    accept_resources: bool
    supports_preview: bool


@dataclass(frozen=True)
class CheckResult:
    inputs: dict[str, Any]
    failures: list[tuple[str, str]]
    """``(property, reason)`` pairs."""


@dataclass(frozen=True)
class DiffResult:
    changes: DiffChanges
    replaces: list[str]
    delete_before_replace: bool


@dataclass(frozen=True)
class ReadResult:
    id: str | None
    """``None`` when the provider returned no id (the resource is gone)."""
    outs: dict[str, Any]
    inputs: dict[str, Any] | None
    """``None`` unless the provider returned ``ReadResult(inputs=...)``."""
