"""`${...}` references in task parameters, resolved when a task starts (`${workflow.input.x}`, `${task.output.y}`)."""

from __future__ import annotations

import copy
import json
import re
from typing import Any

_REF_RE = re.compile(r"\$\{([^}]+)\}")


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
