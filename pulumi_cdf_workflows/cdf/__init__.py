"""A small CDF workflows client on requests and pydantic. It knows nothing about Pulumi.

Its names are imported on first use: settings alone do not load requests or the API's models.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pulumi_cdf_workflows._lazy import lazy_names

if TYPE_CHECKING:
    from pulumi_cdf_workflows.cdf.client import CdfClient
    from pulumi_cdf_workflows.cdf.models import CdfClientCredentials
    from pulumi_cdf_workflows.cdf.settings import ConnectionSettings

_HOMES = {
    "CdfClient": "pulumi_cdf_workflows.cdf.client",
    "CdfClientCredentials": "pulumi_cdf_workflows.cdf.models",
    "ConnectionSettings": "pulumi_cdf_workflows.cdf.settings",
}


__getattr__, __dir__ = lazy_names(__name__, _HOMES)

__all__ = ["CdfClient", "CdfClientCredentials", "ConnectionSettings"]
