"""The Pulumi package schema, derived at run time from the argument and output models and their `prop()`
declarations: types, descriptions, secrets, defaults, required inputs and which changes replace.

A field whose type has no schema counterpart fails here, loudly, rather than going missing from the schema.
"""

from __future__ import annotations

import types
import typing
from typing import Any

from pydantic import BaseModel, SecretStr
from pydantic.fields import FieldInfo

from pulumi_cdf_workflows._version import __version__
from pulumi_cdf_workflows.cdf.settings import INSECURE_HTTP_KEY, SECRET_FIELDS, ConnectionFields
from pulumi_cdf_workflows.lifecycle.connection import (
    DELETE_WAIT_KEY,
    FIELDS,
    READ_TIMEOUT_KEY,
    STACK_CONFIG_KEYS,
    VALIDATE_ON_PREVIEW_KEY,
)
from pulumi_cdf_workflows.lifecycle.properties import OnChange, arguments, secret_arguments, user_arguments
from pulumi_cdf_workflows.plugin.catalog import PACKAGE, RESOURCES, Served
from pulumi_cdf_workflows.plugin.names import camel, model_of
from pulumi_cdf_workflows.plugin.words import description as schema_text

_ANY = {"$ref": "pulumi.json#/Any"}
_PRIMITIVES: dict[Any, str] = {str: "string", SecretStr: "string", bool: "boolean", int: "integer", float: "number"}

# The settings that are not connection fields (those describe themselves in `ConnectionFields`).
_SETTINGS = {
    VALIDATE_ON_PREVIEW_KEY: ("boolean", "check reads CDF before a deploy (version exists, permissions); default true"),
    READ_TIMEOUT_KEY: ("number", "seconds to wait for CDF's reply to one request"),
    DELETE_WAIT_KEY: ("number", "seconds a workflow's delete waits for its running executions to end (default 600)"),
    INSECURE_HTTP_KEY: ("boolean", "allow plain http to a host that is not this machine (default false)"),
}


def config_name(key: str) -> str:
    """The provider's own name of a stack config key: cdf:baseUrl -> baseUrl."""
    return key.split(":", 1)[1]


def type_token(model: type[BaseModel]) -> str:
    return f"{PACKAGE}:index:{model.__name__.removesuffix('Args')}"


class _Builder:
    def __init__(self) -> None:
        self.types: dict[str, Any] = {}

    def type_of(self, annotation: Any) -> dict[str, Any]:
        if annotation is Any:
            return dict(_ANY)
        if annotation in _PRIMITIVES:
            return {"type": _PRIMITIVES[annotation]}
        model = model_of(annotation)
        if model is not None:
            return {"$ref": f"#/types/{self.object_type(model)}"}
        origin, args = typing.get_origin(annotation), typing.get_args(annotation)
        if origin in (typing.Union, types.UnionType):
            present = [a for a in args if a is not type(None)]
            return self.type_of(present[0]) if len(present) == 1 else dict(_ANY)
        if origin is list:
            return {"type": "array", "items": self.type_of(args[0] if args else Any)}
        if origin is dict:
            return {"type": "object", "additionalProperties": self.type_of(args[1] if args else Any)}
        raise TypeError(f"no Pulumi schema type for {annotation!r}: teach plugin/schema.py")

    def object_type(self, model: type[BaseModel]) -> str:
        token = type_token(model)
        if token not in self.types:
            self.types[token] = {}  # a placeholder first, in case the model refers to itself
            self.types[token] = {
                "type": "object",
                "description": schema_text(model.__doc__ or ""),
                "properties": {camel(n): self.field(info) for n, info in model.model_fields.items()},
                "required": [camel(n) for n, info in model.model_fields.items() if info.is_required()],
            }
        return token

    def field(self, info: FieldInfo, *, secret: bool = False, replaces: bool = False) -> dict[str, Any]:
        spec = self.type_of(info.annotation)
        if info.description:
            spec["description"] = schema_text(info.description)
        if secret or SecretStr in (info.annotation, *typing.get_args(info.annotation)):
            spec["secret"] = True
        if replaces:
            spec["replaceOnChanges"] = True
        default = info.get_default(call_default_factory=True)
        if isinstance(default, bool | int | float | str) and not info.is_required():
            spec["default"] = default
        return spec


def resource_spec(served: Served, builder: _Builder) -> dict[str, Any]:
    args, outputs = served.provider.args_model, served.provider.outputs_model
    secret = set(secret_arguments(args))
    replaces = set(arguments(args, OnChange.REPLACE))
    inputs = user_arguments(args)
    fields = args.model_fields

    def spec(name: str) -> dict[str, Any]:
        return builder.field(fields[name], secret=name in secret, replaces=name in replaces)

    properties = {camel(n): spec(n) for n in inputs if n not in secret}  # secrets are never outputs
    properties.update({camel(n): builder.field(info) for n, info in outputs.model_fields.items()})
    extra = served.plugin_outputs.model_fields if served.plugin_outputs is not None else {}
    properties.update({camel(n): builder.field(info) for n, info in extra.items()})
    return {
        "description": schema_text(served.description),
        "inputProperties": {camel(n): spec(n) for n in inputs},
        "requiredInputs": [camel(n) for n in inputs if fields[n].is_required()],
        "properties": properties,
    }


def _config_variables(builder: _Builder) -> dict[str, Any]:
    connection = {f.config_key: f for f in FIELDS}
    variables: dict[str, Any] = {}
    for key in STACK_CONFIG_KEYS:
        if key in connection:
            field = connection[key]
            spec = builder.type_of(ConnectionFields.model_fields[field.name].annotation)
            spec["description"] = f"{field.description} (environment: {field.env_var})"
            if field.name in SECRET_FIELDS:
                spec["secret"] = True
        elif key in _SETTINGS:
            kind, description = _SETTINGS[key]
            spec = {"type": kind, "description": description}
        else:  # a setting added later, until it is described above
            spec = {"type": "string", "description": f"as `{key}` for the Python package"}
        variables[config_name(key)] = spec
    return variables


def package_schema() -> dict[str, Any]:
    builder = _Builder()
    resources = {token: resource_spec(served, builder) for token, served in RESOURCES.items()}
    variables = _config_variables(builder)
    return {
        "name": PACKAGE,
        "displayName": "CDF workflows",
        "version": __version__,
        "description": "Deploy and run Cognite Data Fusion workflows.",
        "config": {"variables": variables},
        "provider": {
            "description": "Where and as whom to reach CDF; each setting falls back to its environment variable.",
            "inputProperties": variables,
        },
        "resources": resources,
        "types": builder.types,
    }
