"""CDF's rules for single request fields: identifiers, list limits, inputs, metadata, nonces; tasks: definitions.py.

Every function raises `BadRequest` with the violated rule, the message a user of the real API would need.
"""

from __future__ import annotations

import json
from typing import Any

from pulumi_cdf_workflows.emulator.exceptions import BadRequest

MAX_ID_LENGTH = 255
MAX_INPUT_BYTES = 102400
MAX_METADATA_PAIRS = 10
MAX_METADATA_KEY = 32
MAX_METADATA_VALUE = 255
MAX_REASON = 500
MAX_LIST_LIMIT = 1000
DEFAULT_LIST_LIMIT = 100


def single_item(items: Any, what: str) -> dict[str, Any]:
    """The one object of an `items` list that CDF limits to one per request; 400 otherwise."""
    if not isinstance(items, list) or len(items) != 1:
        raise BadRequest(f"items must contain exactly 1 {what} (this call takes one per request)")
    if not isinstance(items[0], dict):
        raise BadRequest("items[0] must be an object")
    return items[0]


def validate_identifier(value: Any, name: str) -> str:
    """CDF's rule for external ids and versions: a string of 1..255 chars, no edge whitespace, no NUL."""
    if not isinstance(value, str) or not value:
        raise BadRequest(f"{name} must be a non-empty string")
    if len(value) > MAX_ID_LENGTH:
        raise BadRequest(f"{name} must be at most {MAX_ID_LENGTH} characters, got {len(value)}")
    if value != value.strip():
        raise BadRequest(f"{name} must not have leading or trailing whitespace")
    if "\0" in value:
        raise BadRequest(f"{name} must not contain null characters")
    return value


def validate_limit(value: Any, default: int = DEFAULT_LIST_LIMIT, most: int = MAX_LIST_LIMIT) -> int:
    """A list call's `limit`: an integer in 1..`most`, `default` when left out."""
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= most:
        raise BadRequest(f"limit must be an integer between 1 and {most}, got {value!r}")
    return value


def validate_cursor(value: Any) -> str | None:
    if value is not None and not isinstance(value, str):
        raise BadRequest("cursor must be a string")
    return value


def validate_nonce(body: dict[str, Any]) -> str:
    auth = body.get("authentication")
    nonce = auth.get("nonce") if isinstance(auth, dict) else None
    if not isinstance(nonce, str) or not nonce:
        raise BadRequest("authentication.nonce is required")
    return nonce


def validate_input(value: Any) -> dict[str, Any] | None:
    """An optional JSON object of at most 100 KB (as compact UTF-8 JSON)."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise BadRequest("input must be a JSON object")
    size = len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))
    if size > MAX_INPUT_BYTES:
        raise BadRequest(f"input must be at most {MAX_INPUT_BYTES} bytes (100 KB) of JSON, got {size} bytes")
    return value


def validate_metadata(metadata: Any) -> dict[str, str]:
    """At most 10 string pairs, keys up to 32 and values up to 255 characters; None is {}."""
    if metadata is None:
        return {}
    if not isinstance(metadata, dict):
        raise BadRequest("metadata must be an object of string values")
    if len(metadata) > MAX_METADATA_PAIRS:
        raise BadRequest(f"metadata must have at most {MAX_METADATA_PAIRS} key-value pairs, got {len(metadata)}")
    for key, value in metadata.items():
        if len(key) > MAX_METADATA_KEY:
            raise BadRequest(f"metadata key {key[:40]!r} is longer than {MAX_METADATA_KEY} characters")
        if not isinstance(value, str):
            raise BadRequest(f"metadata value for {key!r} must be a string")
        if len(value) > MAX_METADATA_VALUE:
            raise BadRequest(f"metadata value for {key!r} is longer than {MAX_METADATA_VALUE} characters")
    return metadata
