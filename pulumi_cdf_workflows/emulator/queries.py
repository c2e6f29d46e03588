"""What list calls take: opaque cursors over pages, and the filters the backend applies (built by parsing.py)."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from pulumi_cdf_workflows.emulator.exceptions import BadRequest

T = TypeVar("T")


def encode_cursor(payload: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode()


def decode_cursor(cursor: str) -> Any:
    try:
        return json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, TypeError) as exc:
        raise BadRequest("Invalid cursor") from exc


def paginate(items: list[T], limit: int, cursor: str | None) -> tuple[list[T], str | None]:
    """Offset pagination behind an opaque cursor, for lists whose order does not shift (sorted ids)."""
    offset = 0 if cursor is None else decode_cursor(cursor)
    if not isinstance(offset, int) or offset < 0:
        raise BadRequest("Invalid cursor")
    page = items[offset : offset + limit]
    more = offset + limit < len(items)
    return page, (encode_cursor(offset + limit) if more else None)


def page_after(
    items: list[T], key: Callable[[T], list[int]], limit: int, cursor: str | None
) -> tuple[list[T], str | None]:
    """Keyset pagination over `items` sorted by `key` descending: new items do not shift later pages."""
    if cursor is not None:
        after = decode_cursor(cursor)
        if not (isinstance(after, list) and all(isinstance(x, int) for x in after)):
            raise BadRequest("Invalid cursor")
        items = [i for i in items if key(i) < after]
    page = items[:limit]
    return page, (encode_cursor(key(page[-1])) if len(items) > limit else None)


@dataclass(frozen=True)
class WorkflowFilter:
    """`workflowFilters`: (externalId, version or None for any) pairs; no pairs matches everything."""

    pairs: tuple[tuple[str, str | None], ...] = ()

    def matches(self, xid: str, version: str) -> bool:
        return not self.pairs or any(xid == w and v in (None, version) for w, v in self.pairs)


@dataclass(frozen=True)
class ExecutionFilter:
    """The executions list's `filter`: workflows, inclusive createdTime bounds and statuses (None: any)."""

    workflows: WorkflowFilter = WorkflowFilter()
    created_start: int | None = None
    created_end: int | None = None
    statuses: frozenset[str] | None = None

    def matches(self, xid: str, version: str, created_time: int, status: str) -> bool:
        return (
            self.workflows.matches(xid, version)
            and (self.created_start is None or created_time >= self.created_start)
            and (self.created_end is None or created_time <= self.created_end)
            and (self.statuses is None or status in self.statuses)
        )
