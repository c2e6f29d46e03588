"""pytest plugin (entry point pytest11 `cdf_emulator`): a fresh, started CdfEmulator per test.

`@pytest.mark.cdf_emulator(**kwargs)` passes its keyword arguments to that test's `CdfEmulator`, e.g.
`@pytest.mark.cdf_emulator(capabilities={"deploy-client": [...]})`.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pulumi_cdf_workflows.emulator.server import CdfEmulator


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "cdf_emulator(**kwargs): CdfEmulator arguments for the cdf_emulator fixture (e.g. capabilities)"
    )


@pytest.fixture
def cdf_emulator(request: pytest.FixtureRequest) -> Iterator[CdfEmulator]:
    """A started emulator on 127.0.0.1 (random port), any credentials accepted, 0.05 s per task; a test's
    `cdf_emulator` marker gives it other arguments."""
    marker = request.node.get_closest_marker("cdf_emulator")
    with CdfEmulator(**(marker.kwargs if marker is not None else {})) as emu:
        yield emu
