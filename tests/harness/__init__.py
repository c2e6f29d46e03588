"""Test harness: capture a Pulumi program's registrations under mocks, then drive the real Python
dynamic-provider plugin (``python -u -m pulumi.dynamic``), or this package's own provider plugin, over gRPC
with what the engine would send."""

from ._values import UNKNOWN, is_secret, normalize_unknowns, strip_secrets, wrap_secret
from .capture import PROVIDER_KEY, Registration, capture_registrations
from .plugin import PluginError, PluginProcess, PluginStartError, plugin_env
from .polling import wait_until
from .results import CheckResult, ConfigureResult, DiffChanges, DiffResult, ReadResult

__all__ = [
    "PROVIDER_KEY",
    "UNKNOWN",
    "CheckResult",
    "ConfigureResult",
    "DiffChanges",
    "DiffResult",
    "PluginError",
    "PluginProcess",
    "PluginStartError",
    "ReadResult",
    "Registration",
    "capture_registrations",
    "is_secret",
    "normalize_unknowns",
    "plugin_env",
    "strip_secrets",
    "wait_until",
    "wrap_secret",
]
