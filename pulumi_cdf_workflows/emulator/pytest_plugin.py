"""pytest plugin (entry point pytest11 `cdf_emulator`): a fresh, started CdfEmulator per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pulumi_cdf_workflows.emulator.server import CdfEmulator


@pytest.fixture
def cdf_emulator() -> Iterator[CdfEmulator]:
    """A started emulator on 127.0.0.1 (random port), any credentials accepted, 0.05 s per task."""
    with CdfEmulator() as emu:
        yield emu
