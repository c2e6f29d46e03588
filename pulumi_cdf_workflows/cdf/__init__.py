"""A small CDF workflows client on requests and pydantic. It knows nothing about Pulumi.

Its names are imported on first use: settings alone do not load requests or the API's models.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pulumi_cdf_workflows.cdf.client import CdfClient
    from pulumi_cdf_workflows.cdf.models import CdfClientCredentials
    from pulumi_cdf_workflows.cdf.settings import ConnectionSettings

_HOMES = {
    "CdfClient": "pulumi_cdf_workflows.cdf.client",
    "CdfClientCredentials": "pulumi_cdf_workflows.cdf.models",
    "ConnectionSettings": "pulumi_cdf_workflows.cdf.settings",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'pulumi_cdf_workflows.cdf' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_HOMES])


__all__ = ["CdfClient", "CdfClientCredentials", "ConnectionSettings"]
