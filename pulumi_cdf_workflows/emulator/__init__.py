"""A local CDF emulator: workflows, triggers, sessions and OAuth token APIs on loopback. Imports nothing from cdf/."""

from pulumi_cdf_workflows.emulator.faults import Fault
from pulumi_cdf_workflows.emulator.models import Outcome
from pulumi_cdf_workflows.emulator.server import CdfEmulator

__all__ = ["CdfEmulator", "Fault", "Outcome"]
