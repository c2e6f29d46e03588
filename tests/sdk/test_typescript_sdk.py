"""The TypeScript SDK: generated from the plugin's schema, it compiles with no error, and its classes are the
schema's resources with its camelCase inputs, required ones required, and its secrets wrapped as secrets."""

from __future__ import annotations

import json
import re
import subprocess
from typing import Any

import pytest

from .conftest import INSTALL_TIMEOUT, Tools, TypeScriptSdk, describe

# The first test to run builds the tools (sdk_tools): minutes with cold Go and npm caches.
pytestmark = pytest.mark.timeout(INSTALL_TIMEOUT + 300)
RESOURCES = ("WorkflowExecution", "Workflow", "WorkflowVersion", "WorkflowTrigger")
TOKEN = "cdf-workflows:index:{}"


def _block(source: str, opening: str) -> str:
    """The body of the top-level declaration that starts with `opening` (up to its closing brace at column 0)."""
    start = source.index(opening)
    return source[start : source.index("\n}", start)]


def _module(name: str) -> str:
    return name[0].lower() + name[1:]


def test_the_generated_sdk_compiles_with_no_error(typescript_sdk: TypeScriptSdk) -> None:
    assert typescript_sdk.tsc_output.strip() == ""
    print(", ".join(f"{step} {seconds:.1f} s" for step, seconds in typescript_sdk.seconds.items()))
    for name in RESOURCES:
        assert (typescript_sdk.out / f"{_module(name)}.js").is_file()
        assert (typescript_sdk.out / f"{_module(name)}.d.ts").is_file()


def test_package_json_names_the_plugin_and_the_pins_satisfy_its_ranges(
    typescript_sdk: TypeScriptSdk, sdk_tools: Tools
) -> None:
    package = json.loads((typescript_sdk.root / "package.json").read_text())
    assert package["name"] == "@pulumi/cdf-workflows"
    assert package["version"] == typescript_sdk.schema["version"]
    assert package["pulumi"] == {"resource": True, "name": "cdf-workflows", "version": typescript_sdk.schema["version"]}
    # `npm ls` reads only the files: it fails on a pinned package outside the generated package.json's range.
    result = subprocess.run(
        ["npm", "ls", "--depth=0", "--json"],
        cwd=typescript_sdk.root,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, describe(result)
    installed = json.loads(result.stdout)["dependencies"]
    assert set(installed) == {*package.get("dependencies", {}), *package.get("devDependencies", {})}


@pytest.mark.parametrize("name", RESOURCES)
def test_each_resource_is_a_class_with_the_schemas_camelcase_inputs_and_outputs(
    typescript_sdk: TypeScriptSdk, name: str
) -> None:
    spec: dict[str, Any] = typescript_sdk.schema["resources"][TOKEN.format(name)]
    declarations = (typescript_sdk.out / f"{_module(name)}.d.ts").read_text()
    index = (typescript_sdk.out / "index.d.ts").read_text()
    assert re.search(rf"export declare const {name}: typeof import\(\"\./{_module(name)}\"\)\.{name};", index)

    resource = _block(declarations, f"export declare class {name} extends pulumi.CustomResource {{")
    outputs = set(re.findall(r"^    readonly (\w+): pulumi\.Output<", resource, re.MULTILINE))
    assert outputs == set(spec["properties"])

    args = _block(declarations, f"export interface {name}Args {{")
    inputs = dict(re.findall(r"^    (\w+)(\??): pulumi\.Input<", args, re.MULTILINE))
    assert set(inputs) == set(spec["inputProperties"])
    assert {key for key, optional in inputs.items() if not optional} == set(spec.get("requiredInputs", []))
    assert all(re.fullmatch(r"[a-z][a-zA-Z0-9]*", key) for key in inputs), "inputs are camelCase"


@pytest.mark.parametrize("name", RESOURCES)
def test_the_schemas_secret_inputs_are_sent_as_secrets(typescript_sdk: TypeScriptSdk, name: str) -> None:
    spec: dict[str, Any] = typescript_sdk.schema["resources"][TOKEN.format(name)]
    code = (typescript_sdk.out / f"{_module(name)}.js").read_text()
    secret_inputs = {key for key, prop in spec["inputProperties"].items() if prop.get("secret")}
    assert secret_inputs, f"{name} declares no secret input: the schema lost its connection's secrecy"
    assert set(re.findall(r"pulumi\.secret\(args\.(\w+)\)", code)) == secret_inputs
    secret_outputs = [key for key, prop in spec["properties"].items() if prop.get("secret")]
    declared = re.search(r"additionalSecretOutputs: \[([^\]]*)\]", code)
    assert (json.loads(f"[{declared.group(1)}]") if declared else []) == secret_outputs


def test_the_provider_config_keeps_its_secrets(typescript_sdk: TypeScriptSdk) -> None:
    variables: dict[str, Any] = typescript_sdk.schema["config"]["variables"]
    code = (typescript_sdk.out / "provider.js").read_text()
    secrets = {key for key, variable in variables.items() if variable.get("secret")}
    assert set(re.findall(r"pulumi\.secret\(args\.(\w+)\)", code)) == secrets
    config = (typescript_sdk.out / "config" / "vars.d.ts").read_text()
    assert set(re.findall(r"^export declare const (\w+):", config, re.MULTILINE)) == set(variables)
