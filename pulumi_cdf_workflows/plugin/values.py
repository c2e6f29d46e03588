"""Property values: the plugin protocol's `PropertyValue`s to the plain values the dynamic providers take, and back.

The providers see what the dynamic-provider plugin hands them: JSON-like values, numbers as floats, secrets
unwrapped (they know from their models which properties are secret) and values not known yet as the engine's
unknown sentinel. On the way back, a top-level property is secret when the provider declares it secret or when
any part of it arrived secret, so a secret never leaves as plain text.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from typing import Any

from pulumi.output import Unknown
from pulumi.provider.experimental.property_value import Computed, PropertyValue, ResourceReference

from pulumi_cdf_workflows.validation.fields import UNKNOWN


def plain(value: PropertyValue) -> Any:
    """The value as the dynamic providers take it."""
    inner = value.value
    if isinstance(inner, Computed):
        return UNKNOWN
    if isinstance(inner, Mapping):
        return {key: plain(item) for key, item in inner.items()}
    if isinstance(inner, tuple | list):
        return [plain(item) for item in inner]
    if isinstance(inner, ResourceReference):
        # The plugin accepts no resource references, so the engine sends ids; this is a fallback only.
        return plain(inner.resource_id) if inner.resource_id is not None else inner.urn
    return inner


def plain_map(props: Mapping[str, PropertyValue]) -> dict[str, Any]:
    return {key: plain(value) for key, value in props.items()}


def secret_keys(*maps: Mapping[str, PropertyValue]) -> set[str]:
    """The top-level properties that hold a secret anywhere in any of `maps`."""
    return {key for props in maps for key, value in props.items() if value.contains_secret()}


def property_value(value: Any) -> PropertyValue:
    """A provider's plain value as a PropertyValue (ints become the protocol's floats)."""
    if isinstance(value, enum.Enum):
        value = value.value
    if value is None or isinstance(value, bool | str):
        return PropertyValue(value)
    if isinstance(value, Unknown):
        return PropertyValue(UNKNOWN)  # the sentinel crosses the wire as unknown
    if isinstance(value, int | float):
        return PropertyValue(float(value))
    if isinstance(value, Mapping):
        return PropertyValue({str(key): property_value(item) for key, item in value.items()})
    if isinstance(value, list | tuple):
        return PropertyValue([property_value(item) for item in value])
    raise TypeError(f"a provider returned a value of type {type(value).__name__}, which the plugin cannot send")


def property_map(props: Mapping[str, Any], secret: Iterable[str]) -> dict[str, PropertyValue]:
    """A provider's plain properties, with each of `secret` (top-level names) marked secret."""
    hidden = set(secret)
    return {key: property_value(value).with_secret(key in hidden) for key, value in props.items()}
