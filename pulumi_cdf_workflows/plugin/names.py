"""Property names: camelCase on the plugin's side (Pulumi's convention), snake_case in the argument models.

Only the names a model declares are renamed, recursively into fields that are models themselves (a connection,
client credentials); free-form values (an execution's input, metadata, a definition) keep the keys the user gave.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel


def camel(name: str) -> str:
    """workflow_external_id -> workflowExternalId (the rule `lifecycle.connection.config_key` follows too)."""
    first, *rest = name.split("_")
    return first + "".join(part.title() for part in rest)


def model_of(annotation: Any) -> type[BaseModel] | None:
    """The model a field holds (`ConnectionArgs | None` -> ConnectionArgs), or None for any other type."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        found = [m for m in map(model_of, typing.get_args(annotation)) if m is not None]
        return found[0] if len(found) == 1 else None
    return None


def _nested(models: Sequence[type[BaseModel]], name: str) -> type[BaseModel] | None:
    info = next((m.model_fields[name] for m in models if name in m.model_fields), None)
    return None if info is None else model_of(info.annotation)


def to_snake(props: Mapping[str, Any], *models: type[BaseModel]) -> dict[str, Any]:
    """Plugin properties as the models (a resource's arguments and outputs) name them; names they do not declare
    pass unchanged."""
    snake = {camel(name): name for model in models for name in model.model_fields}
    result: dict[str, Any] = {}
    for key, value in props.items():
        name = snake.get(key, key)
        inner = _nested(models, name)
        result[name] = to_snake(value, inner) if inner is not None and isinstance(value, Mapping) else value
    return result


def to_camel(props: Mapping[str, Any], *models: type[BaseModel]) -> dict[str, Any]:
    """The models' properties as the plugin names them (the inverse of `to_snake`)."""
    result: dict[str, Any] = {}
    for key, value in props.items():
        inner = _nested(models, key)
        renamed = camel(key) if any(key in model.model_fields for model in models) else key
        result[renamed] = to_camel(value, inner) if inner is not None and isinstance(value, Mapping) else value
    return result


def camel_path(path: str, model: type[BaseModel]) -> str:
    """A check failure's property path (`connection.base_url`) as the plugin names it (`connection.baseUrl`)."""
    parts: list[str] = []
    current: type[BaseModel] | None = model
    for part in path.split("."):
        declared = current is not None and part in current.model_fields
        parts.append(camel(part) if declared else part)
        current = _nested([current], part) if declared and current is not None else None
    return ".".join(parts)
