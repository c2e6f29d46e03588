"""A small CDF workflows client on requests and pydantic. It knows nothing about Pulumi."""

from pulumi_cdf_workflows.cdf.client import CdfClient
from pulumi_cdf_workflows.cdf.models import CdfClientCredentials
from pulumi_cdf_workflows.cdf.settings import ConnectionSettings

__all__ = ["CdfClient", "CdfClientCredentials", "ConnectionSettings"]
