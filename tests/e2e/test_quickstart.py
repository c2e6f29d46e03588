"""The README's first command, as a new user runs it: scripts/quickstart prints an execution id and COMPLETED."""

from __future__ import annotations

import os
import re
import subprocess

import pytest

from .conftest import CLEAN_CDF_ENV, REPO_ROOT, describe

pytestmark = pytest.mark.e2e


def test_quickstart_runs_the_workflow_and_prints_its_id_and_status(pulumi_cli: str) -> None:
    env = {**os.environ, **CLEAN_CDF_ENV}
    for name in ("PULUMI_BACKEND_URL", "PULUMI_HOME", "PULUMI_CONFIG_PASSPHRASE", "PULUMI_CONFIG_PASSPHRASE_FILE"):
        env.pop(name, None)  # the script sets up its own

    result = subprocess.run(
        [str(REPO_ROOT / "scripts" / "quickstart")], env=env, capture_output=True, text=True, timeout=900, check=False
    )

    assert result.returncode == 0, describe(result)
    assert re.search(r"(?m)^executionId: [0-9a-f-]{36}$", result.stdout), describe(result)
    assert re.search(r"(?m)^status:      COMPLETED$", result.stdout), describe(result)
    assert "Traceback" not in result.stdout + result.stderr, describe(result)
