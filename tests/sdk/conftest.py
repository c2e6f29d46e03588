"""The TypeScript SDK of the cdf-workflows plugin: generated from the live plugin's schema, compiled with tsc.

`scripts/install-sdkgen` provides the tools (it builds two small Go programs and `npm ci`s the pinned compiler and
@pulumi/pulumi into a cache directory; a few seconds once cached). Where `go`, `node` or `npm` is missing the tests
skip with the reason, except under CI=true, where they fail: CI must run them. Everything built goes to pytest's
temporary directories or to that cache, never into the checkout.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import pytest
from harness import PluginProcess

REPO_ROOT = Path(__file__).resolve().parents[2]
PLUGIN = Path(sys.executable).parent / "pulumi-resource-cdf-workflows"
# A cold build (empty Go and npm caches) takes about 4 minutes on 2 cores; with the pulumi CLI's modules in the
# Go cache, seconds.
INSTALL_TIMEOUT = 1800


def unavailable(reason: str) -> NoReturn:
    """Skip, or fail under CI=true, where these tests must run."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI must build and compile the TypeScript SDK, but {reason}")
    pytest.skip(reason)


def describe(result: subprocess.CompletedProcess[str]) -> str:
    command = " ".join(str(a) for a in result.args)
    return f"`{command}` exited {result.returncode}\n--- stdout ---\n{result.stdout}\n--- stderr ---\n{result.stderr}"


def run(
    command: list[str],
    cwd: Path,
    *,
    env: dict[str, str] | None = None,
    timeout: float = 600,
    secrets: tuple[str, ...] = (),
) -> str:
    """stdout of `command`, which must succeed; its failure message shows none of `secrets`."""
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    if result.returncode != 0:
        message = describe(result)
        for secret in secrets:
            message = message.replace(secret, "[secret]")
        pytest.fail(message)
    return result.stdout


@dataclass(frozen=True)
class Tools:
    bin: Path  # pulumi-sdkgen-nodejs and pulumi-language-nodejs
    node_modules: Path  # @pulumi/pulumi, typescript, @types/node as tools/pulumi-sdkgen-nodejs/package-lock.json pins

    def tsc(self, project: Path) -> list[str]:
        return ["node", str(self.node_modules / "typescript" / "bin" / "tsc"), "-p", str(project)]


@dataclass(frozen=True)
class TypeScriptSdk:
    schema: dict[str, Any]
    root: Path  # the generated sources, package.json and tsconfig.json
    out: Path  # tsc's output: .js and .d.ts, and package.json (as a published SDK has it)
    tsc_output: str
    seconds: dict[str, float]


@pytest.fixture(scope="session")
def sdk_tools() -> Tools:
    missing = [tool for tool in ("go", "node", "npm") if shutil.which(tool) is None]
    if missing:
        unavailable(f"{', '.join(missing)} not on PATH (the TypeScript SDK is generated with Go and compiled with tsc)")
    result = subprocess.run(
        [str(REPO_ROOT / "scripts" / "install-sdkgen")],
        capture_output=True,
        text=True,
        timeout=INSTALL_TIMEOUT,
        check=False,
    )
    assert result.returncode == 0, describe(result)
    bin_dir = Path(result.stdout.strip().splitlines()[-1])
    return Tools(bin=bin_dir, node_modules=bin_dir.parent / "node_modules")


@pytest.fixture(scope="session")
def plugin_schema() -> dict[str, Any]:
    """What `pulumi package get-schema <plugin>` prints: the plugin's GetSchema answer."""
    with PluginProcess(command=[str(PLUGIN), "127.0.0.1:1"], send_secrets=True) as plugin:
        schema: dict[str, Any] = plugin.get_schema()
        return schema


@pytest.fixture(scope="session")
def typescript_sdk(
    sdk_tools: Tools, plugin_schema: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TypeScriptSdk]:
    work = tmp_path_factory.mktemp("typescript-sdk")
    schema_path, root = work / "schema.json", work / "sdk"
    schema_path.write_text(json.dumps(plugin_schema))
    seconds: dict[str, float] = {}

    started = time.perf_counter()
    run([str(sdk_tools.bin / "pulumi-sdkgen-nodejs"), str(schema_path), str(root)], work)
    seconds["generate"] = time.perf_counter() - started

    # The pinned packages stand in for `npm install` in the SDK's directory; Node and tsc follow the link.
    (root / "node_modules").symlink_to(sdk_tools.node_modules, target_is_directory=True)
    started = time.perf_counter()
    result = subprocess.run(sdk_tools.tsc(root), cwd=root, capture_output=True, text=True, timeout=600, check=False)
    seconds["tsc"] = time.perf_counter() - started
    assert result.returncode == 0, describe(result)

    # tsconfig.json is JSON with comments.
    out_dir = re.search(r'"outDir":\s*"([^"]+)"', (root / "tsconfig.json").read_text())
    assert out_dir is not None, "the generated tsconfig.json names no outDir"
    out = root / out_dir.group(1)
    # A published SDK is its output directory with package.json beside it: the code reads its version from there.
    shutil.copy(root / "package.json", out / "package.json")
    yield TypeScriptSdk(plugin_schema, root, out, result.stdout + result.stderr, seconds)
