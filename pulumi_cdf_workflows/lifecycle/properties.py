"""A resource's properties, declared once: each argument model's fields say what a change of them does, which
are secret and what they default to, and its outputs model says what the resource reports. Providers, the
resource classes and the README's tables are derived from (or checked against) these declarations."""

from __future__ import annotations

import enum
from typing import Any, cast

from pydantic import BaseModel, Field
from pydantic.config import JsonDict
from pydantic.fields import FieldInfo


class OnChange(str, enum.Enum):
    """What a change of an argument does."""

    REPLACE = "replace"
    """A new resource: a deployed object is recreated where it is identified by it; an execution runs again."""
    UPDATE = "update"
    """Written to CDF in place (an upsert)."""
    STORE = "store"
    """Stored in the stack; nothing is written to CDF and nothing runs."""


def prop(
    default: Any = ...,
    *,
    on_change: OnChange,
    description: str,
    secret: bool = False,
    structured: bool = False,
    internal: bool = False,
    **kwargs: Any,
) -> Any:
    """An argument of a resource: `Field` with what a change does and whether it is secret. A `structured` one
    (a definition, a rule) reports each problem on its own line, starting with its path; an `internal` one is
    set by the resource class, not by the user (and the README does not list it)."""
    extra: dict[str, Any] = {"on_change": on_change.value, "secret": secret, "structured": structured}
    extra["internal"] = internal
    return Field(default, description=description, json_schema_extra=cast(JsonDict, extra), **kwargs)


def _extra(info: FieldInfo) -> dict[str, Any]:
    extra = info.json_schema_extra
    return extra if isinstance(extra, dict) else {}


def arguments(model: type[BaseModel], on_change: OnChange | None = None) -> tuple[str, ...]:
    """The model's arguments, in declaration order; only those a change of which does `on_change`, if given."""
    return tuple(
        name
        for name, info in model.model_fields.items()
        if "on_change" in _extra(info) and (on_change is None or _extra(info)["on_change"] == on_change.value)
    )


def user_arguments(model: type[BaseModel]) -> tuple[str, ...]:
    """The arguments a user gives (not those the resource class sets itself)."""
    return tuple(name for name in arguments(model) if not _extra(model.model_fields[name]).get("internal"))


def secret_arguments(model: type[BaseModel]) -> tuple[str, ...]:
    """Arguments that carry secrets: always secret in state, never returned as outputs."""
    return tuple(name for name, info in model.model_fields.items() if _extra(info).get("secret"))


def defaults(model: type[BaseModel], names: tuple[str, ...]) -> dict[str, Any]:
    """The defaults of these arguments, as check fills them in."""
    return {name: model.model_fields[name].get_default(call_default_factory=True) for name in names}


def output_names(model: type[BaseModel]) -> tuple[str, ...]:
    """The outputs a resource declares (besides its non-secret arguments)."""
    return tuple(model.model_fields)
