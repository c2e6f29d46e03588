"""Validation of request bodies (identifiers, limits, run bodies) and `${...}` references; tasks: definitions.py.

Every function raises `BadRequest` with the violated rule, the message a user of the real API would need.
"""

from __future__ import annotations

import copy
import json
import re
from typing import Any

from pulumi_cdf_workflows.emulator.exceptions import BadRequest
from pulumi_cdf_workflows.emulator.state import (
    DEFAULT_LIST_LIMIT,
    MAX_ID_LENGTH,
    MAX_INPUT_BYTES,
    MAX_LIST_LIMIT,
    MAX_METADATA_KEY,
    MAX_METADATA_PAIRS,
    MAX_METADATA_VALUE,
)

_REF_RE = re.compile(r"\$\{([^}]+)\}")


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


def validate_limit(value: Any) -> int:
    if value is None:
        return DEFAULT_LIST_LIMIT
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_LIST_LIMIT:
        raise BadRequest(f"limit must be an integer between 1 and {MAX_LIST_LIMIT}, got {value!r}")
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


def validate_run_body(body: Any) -> tuple[str, dict[str, Any] | None, dict[str, str]]:
    """Returns (nonce, input, metadata) or raises 400 with the violated limit."""
    if not isinstance(body, dict):
        raise BadRequest("Request body must be a JSON object")
    nonce = validate_nonce(body)
    return nonce, validate_input(body.get("input")), validate_metadata(body.get("metadata"))


def _lookup(root: Any, path: list[str]) -> tuple[bool, Any]:
    for part in path:
        if isinstance(root, dict) and part in root:
            root = root[part]
        else:
            return False, None
    return True, root


def resolve_references(value: Any, context: dict[str, Any]) -> Any:
    """Resolves `${workflow.input.x}` / `${task.output.y}` references; unknown ones stay as text."""
    if isinstance(value, dict):
        return {k: resolve_references(v, context) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve_references(v, context) for v in value]
    if not isinstance(value, str) or "${" not in value:
        return value
    whole = _REF_RE.fullmatch(value)
    if whole:
        found, resolved = _lookup(context, whole.group(1).split("."))
        return copy.deepcopy(resolved) if found else value

    def substitute(match: re.Match[str]) -> str:
        found, resolved = _lookup(context, match.group(1).split("."))
        if not found:
            return match.group(0)
        return resolved if isinstance(resolved, str) else json.dumps(resolved)

    return _REF_RE.sub(substitute, value)


def parse_workflow_filters(filters: Any) -> list[tuple[str, str | None]] | None:
    """None means no workflow filter; [] (the SDK's "no ids") also matches everything."""
    if filters is None:
        return None
    if not isinstance(filters, list):
        raise BadRequest("workflowFilters must be a list")
    parsed: list[tuple[str, str | None]] = []
    for f in filters:
        if not isinstance(f, dict) or not isinstance(f.get("externalId"), str):
            raise BadRequest("workflowFilters entries must be objects with externalId and optional version")
        version = f.get("version")
        if version is not None and not isinstance(version, str):
            raise BadRequest("workflowFilters version must be a string")
        parsed.append((f["externalId"], version))
    return parsed or None


def matches(wanted: list[tuple[str, str | None]] | None, xid: str, version: str) -> bool:
    if wanted is None:
        return True
    return any(xid == w and (v is None or v == version) for w, v in wanted)
