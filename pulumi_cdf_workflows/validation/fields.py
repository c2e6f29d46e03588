"""The rules every resource's arguments share, and the one way they are validated.

The engine hands a provider plain JSON-like values: every number is a float and values that are not known
yet (during a preview) are the unknown sentinel. `validated` turns them into a resource's argument model, or
into check failures that name the property, the limit and what is wrong with the value. The field types here
carry CDF's rules for identifiers, an execution's or trigger's input and metadata, and credentials.
"""

from __future__ import annotations

import json
import math
import typing
from collections.abc import Mapping
from typing import Annotated, Any, TypeVar

from pulumi.output import Unknown
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic.fields import FieldInfo

from pulumi_cdf_workflows.cdf.settings import ConnectionFields

# The engine's marker for a value that is not known until apply time (pulumi.runtime.rpc.UNKNOWN). The
# plugin hands check and diff `pulumi.output.Unknown` objects instead; both mean the same.
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"

MAX_ID_LENGTH = 255
MAX_INPUT_BYTES = 100 * 1024
MAX_METADATA_PAIRS = 10
MAX_METADATA_KEY = 32
MAX_METADATA_VALUE = 255

def is_unknown(value: Any) -> bool:
    return isinstance(value, Unknown) or (isinstance(value, str) and value == UNKNOWN)


def contains_unknown(value: Any) -> bool:
    if is_unknown(value):
        return True
    if isinstance(value, Mapping):
        return any(contains_unknown(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(contains_unknown(v) for v in value)
    return False


def restore_integers(value: Any) -> Any:
    """Turn the engine's integral floats back into the integers the user wrote (1.0 -> 1)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer() and math.isfinite(value):
        return int(value)
    if isinstance(value, Mapping):
        return {k: restore_integers(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [restore_integers(v) for v in value]
    return value


def canonical_json(value: Any) -> str:
    """A stable text form for comparing values by meaning: key order and 1 vs 1.0 do not matter."""
    return json.dumps(restore_integers(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _describe(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def check_identifier(name: str, value: str) -> str:
    if value == "":
        raise ValueError(f"{name} must not be empty")
    if len(value) > MAX_ID_LENGTH:
        raise ValueError(f"{name} is {len(value)} characters long; CDF allows at most {MAX_ID_LENGTH}")
    if value != value.strip():
        raise ValueError(f"{name} {_describe(value)} has leading or trailing whitespace, which CDF rejects")
    if "\0" in value:
        raise ValueError(f"{name} must not contain a NUL character")
    return value


VERSION_FIELDS = ("version", "workflow_version")


def identifier(name: str, value: Any) -> str:
    """An external id or version as CDF accepts it; a version written as a number means its digits
    (version=1 is "1", which the engine sends as 1.0)."""
    if name in VERSION_FIELDS and isinstance(value, float) and value.is_integer():
        value = str(int(value))
    if not isinstance(value, str):
        raise ValueError(f"{name} must be a string, got {type(value).__name__}")
    return check_identifier(name, value)


def check_input(value: Any) -> Any:
    """An execution's or trigger's input: a JSON object of at most 100 KB (unknown parts left out)."""
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise ValueError(f"input must be a JSON object (a dict), got {type(value).__name__}")
    known = _without_unknowns(value)
    try:
        size = len(json.dumps(restore_integers(known), separators=(",", ":"), allow_nan=False).encode())
    except (TypeError, ValueError) as exc:
        raise ValueError(f"input must be JSON-serializable: {exc}") from None
    if size > MAX_INPUT_BYTES:
        raise ValueError(f"input is {size} bytes as JSON; CDF allows at most {MAX_INPUT_BYTES} bytes (100 KB)")
    return dict(value)


def check_metadata(value: Any) -> Any:
    """Metadata: at most 10 string pairs, keys at most 32 characters, values at most 255."""
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise ValueError(f"metadata must be a map of strings, got {type(value).__name__}")
    if len(value) > MAX_METADATA_PAIRS:
        raise ValueError(f"metadata has {len(value)} pairs; CDF allows at most {MAX_METADATA_PAIRS}")
    for key, item in value.items():
        if len(key) > MAX_METADATA_KEY:
            raise ValueError(
                f"metadata key {_describe(key)} is {len(key)} characters long; CDF allows at most {MAX_METADATA_KEY}"
            )
        if is_unknown(item):
            continue
        if not isinstance(item, str):
            raise ValueError(
                f"metadata value of {_describe(key)} must be a string, got {type(item).__name__} {_describe(item)}"
            )
        if len(item) > MAX_METADATA_VALUE:
            raise ValueError(
                f"metadata value of {_describe(key)} is {len(item)} characters long; "
                f"CDF allows at most {MAX_METADATA_VALUE}"
            )
    return dict(value)


def refuse_problems(problems: list[str]) -> None:
    """For a structured argument's validator: one line per problem, each starting with its path."""
    if problems:
        raise ValueError("\n".join(problems))


def _identifier_of_field(value: Any, info: ValidationInfo) -> str:
    return identifier(str(info.field_name), value)


# Field types that carry CDF's rules, for every resource's inputs (an execution's and a trigger's input alike).
Identifier = Annotated[str, BeforeValidator(_identifier_of_field)]
ExecutionInput = Annotated[dict[str, Any] | None, BeforeValidator(check_input)]
Metadata = Annotated[dict[str, str] | None, BeforeValidator(check_metadata)]


class ClientCredentialsArgs(BaseModel):
    """OAuth client credentials the execution's session is created with."""

    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    client_id: str = Field(min_length=1)
    client_secret: SecretStr

    @field_validator("client_secret")
    @classmethod
    def _secret_not_empty(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value():
            raise ValueError("client_secret must not be empty")
        return value


class ConnectionArgs(ConnectionFields):
    """The per-resource CDF connection; every field is optional and falls back to stack config and env."""

    @field_validator("*")
    @classmethod
    def _not_empty(cls, value: Any, info: ValidationInfo) -> Any:
        # An empty string would silently fall back to stack config or the environment.
        text = value.get_secret_value() if isinstance(value, SecretStr) else value
        if text == [] or (isinstance(text, str) and not text.strip()):
            raise ValueError(
                f"connection.{info.field_name} must not be empty; leave it out to use stack config or the environment"
            )
        return value


def _without_unknowns(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _without_unknowns(v) for k, v in value.items() if not is_unknown(v)}
    if isinstance(value, list | tuple):
        return [_without_unknowns(v) for v in value if not is_unknown(v)]
    return value


def _failure_property(loc: tuple[int | str, ...], message: str) -> str:
    if not loc:
        # Model-level failures are about credentials: name the property the user should remove.
        return "nonce" if "nonce" in message else "inputs"
    return ".".join(str(part) for part in loc if not isinstance(part, int)) or str(loc[0])


def _failure_reason(error: Mapping[str, Any], prop: str) -> str:
    message = str(error["msg"])
    if message.startswith("Value error, "):
        return message[len("Value error, ") :]
    if error["type"] == "missing":
        return f"{prop} is required"
    if error["type"] == "extra_forbidden":
        return f"{prop} is not a known property"
    return f"{prop}: {message[0].lower()}{message[1:]}"


_M = TypeVar("_M", bound=BaseModel)


def _nested_model(info: FieldInfo) -> bool:
    """Whether a field holds a model of its own (credentials, a connection), whose fields may be unknown one by one."""
    return any(isinstance(arg, type) and issubclass(arg, BaseModel) for arg in typing.get_args(info.annotation))


def _structured(model: type[BaseModel], prop: str) -> bool:
    info = model.model_fields.get(prop)
    extra = info.json_schema_extra if info is not None else None
    return isinstance(extra, dict) and bool(extra.get("structured"))


def validated(model: type[_M], props: Mapping[str, Any]) -> tuple[_M | None, list[tuple[str, str]]]:
    """Validate the engine's inputs against a resource's argument model: the model (None while anything is still
    unknown) and (property, reason) failures. A value a preview does not know yet is neither validated nor
    refused: it is left out, and so are the failures it would cause (a required value reported missing), while
    everything known is checked."""
    known: dict[str, Any] = {}
    unknown: set[tuple[str, ...]] = set()
    for name, info in model.model_fields.items():
        value = props.get(name)
        if value is None:
            continue
        if is_unknown(value):
            unknown.add((name,))
            continue
        if isinstance(value, Mapping) and _nested_model(info):
            unknown |= {(name, str(key)) for key, inner in value.items() if is_unknown(inner)}
            value = {key: inner for key, inner in value.items() if inner is not None and not is_unknown(inner)}
        known[name] = value
    try:
        args = model.model_validate(known)
    except ValidationError as exc:
        failures: list[tuple[str, str]] = []
        for error in exc.errors(include_input=False):
            loc = tuple(str(part) for part in error["loc"])
            if any(loc[: len(path)] == path for path in unknown):
                continue  # about a value the preview does not know yet
            prop = _failure_property(tuple(error["loc"]), str(error["msg"]))
            reason = _failure_reason(error, prop)
            if _structured(model, prop) and error["type"] == "value_error":
                # The engine prints a failure on a named property after its whole value, which buries the
                # reason; with no property it prints the reason alone, which starts with its path.
                failures.extend(("", line) for line in reason.splitlines())
            else:
                failures.append((prop, reason))
        return None, failures
    if unknown or contains_unknown(known):
        return None, []
    return args, []
