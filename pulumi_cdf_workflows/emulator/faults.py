"""Injected faults and the request log: what tests use to see and disturb the wire."""

from __future__ import annotations

import copy
import re
import threading
from dataclasses import dataclass, field
from typing import Any, Literal

REDACTED = "<redacted>"
_SECRET_KEYS = frozenset({"clientsecret", "client_secret"})


@dataclass
class Fault:
    """Disturbs the next `times` requests whose method matches and whose URL path matches `path` (re.search).

    when="before": sleep `delay`, then drop the connection, or answer `status` without processing the request,
    or (no status, no drop) process it normally. when="after": process the request, sleep `delay`, then drop
    the connection or replace the real reply with `status` (or, with neither, send the real reply late).
    """

    method: str | None = None
    path: str = ""
    times: int = 1
    when: Literal["before", "after"] = "before"
    status: int | None = 503
    retry_after: float | None = None
    drop: bool = False
    delay: float = 0.0
    hits: int = 0
    _pattern: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.when not in ("before", "after"):
            raise ValueError(f"when must be 'before' or 'after', got {self.when!r}")
        if self.times < 1:
            raise ValueError("times must be >= 1")
        if self.delay < 0:
            raise ValueError("delay must be >= 0")
        if self.status is not None and not 100 <= self.status <= 599:
            raise ValueError(f"status must be an HTTP status code, got {self.status}")
        self._pattern = re.compile(self.path)

    @property
    def remaining(self) -> int:
        return self.times - self.hits

    def matches(self, method: str, path: str) -> bool:
        return (
            self.remaining > 0
            and (self.method is None or self.method.upper() == method.upper())
            and self._pattern.search(path) is not None
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "path": self.path,
            "times": self.times,
            "when": self.when,
            "status": self.status,
            "retryAfter": self.retry_after,
            "drop": self.drop,
            "delay": self.delay,
            "hits": self.hits,
        }


class FaultTable:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> Fault:
        with self._lock:
            self._faults.append(fault)
        return fault

    def take(self, method: str, path: str) -> Fault | None:
        """The first matching fault, consuming one of its `times`."""
        with self._lock:
            for fault in self._faults:
                if fault.matches(method, path):
                    fault.hits += 1
                    return fault
        return None

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def all(self) -> list[Fault]:
        with self._lock:
            return list(self._faults)


def redact(value: Any) -> Any:
    """A copy with every client secret replaced; used for the request log."""
    if isinstance(value, dict):
        return {k: (REDACTED if k.lower() in _SECRET_KEYS else redact(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value


class RequestLog:
    """Every request that reached the API side (faulted or not), recorded on arrival."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: list[dict[str, Any]] = []

    def record(self, entry: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            self._entries.append(entry)
        return entry

    def update(self, entry: dict[str, Any], **changes: Any) -> None:
        with self._lock:
            entry.update(changes)

    def entries(self, method: str | None = None, path: str | None = None) -> list[dict[str, Any]]:
        pattern = re.compile(path) if path is not None else None
        with self._lock:
            return [
                copy.deepcopy(e)
                for e in self._entries
                if (method is None or e["method"] == method.upper())
                and (pattern is None or pattern.search(e["path"]))
            ]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
