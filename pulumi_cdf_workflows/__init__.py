"""Run Cognite Data Fusion workflows from Pulumi programs."""

from pulumi_cdf_workflows._version import __version__

__all__ = ["__version__"]
