"""Injected faults and the request log: what tests use to see and disturb the wire."""

from __future__ import annotations

import copy
import json
import re
import threading
from dataclasses import dataclass, field
from typing import Any, Literal

REDACTED = "<redacted>"
# Compared after lower-casing and dropping "-" and "_", so clientSecret, client_secret and
# Client-Secret are one key; exact names only, so e.g. tokenExchange or token_type stay readable.
_SECRET_KEYS = frozenset(
    {
        "nonce",
        "secret",
        "clientsecret",
        "token",
        "accesstoken",
        "refreshtoken",
        "idtoken",
        "sessiontoken",
        "password",
        "assertion",
        "clientassertion",
        "apikey",
        "xapikey",
        "authorization",
        "proxyauthorization",
        "cookie",
        "setcookie",
    }
)
HTML_CONTENT_TYPE = "text/html; charset=utf-8"
JSON_CONTENT_TYPE = "application/json"


@dataclass
class Fault:
    """Disturbs the next `times` requests whose method matches and whose URL path matches `path` (re.search).

    when="before": sleep `delay`, then drop the connection, or answer `status` without processing the request,
    or (no status, no drop) process it normally. when="after": process the request, sleep `delay`, then drop
    the connection or replace the real reply with `status` (or, with neither, send the real reply late).

    `body` replaces the reply's body (a CDF error envelope by default): a str is sent as-is with
    `content_type` (default HTML, like a proxy's error page), anything else as JSON. With when="after"
    and status=None the real status code is kept, so a run can answer 202 with a body CDF never sends.
    `drop` wins over status and body. In library use, `body` may also be a function of the real reply's
    body (when="after"), e.g. `lambda real: {"id": real["id"]}` for a reply that lost every other field.
    """

    method: str | None = None
    path: str = ""
    times: int = 1
    when: Literal["before", "after"] = "before"
    status: int | None = 503
    retry_after: float | None = None
    drop: bool = False
    delay: float = 0.0
    body: Any = None
    content_type: str | None = None
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
        if self.body is not None and self.status is None and self.when == "before" and not self.drop:
            raise ValueError("a body with when='before' needs a status: there is no real reply to keep")
        if self.content_type is not None and (
            not isinstance(self.content_type, str) or "\r" in self.content_type or "\n" in self.content_type
        ):
            raise ValueError(f"content_type must be one header value, got {self.content_type!r}")
        if self.body is not None and not isinstance(self.body, str) and not callable(self.body):
            try:
                json.dumps(self.body)  # fail here, not with a broken reply mid-test
            except (TypeError, ValueError) as exc:
                raise ValueError(f"body must be a str or JSON-able, got {type(self.body).__name__}") from exc
        self._pattern = re.compile(self.path)

    @property
    def replaces_reply(self) -> bool:
        """Whether the fault answers itself (status or body) rather than only delaying the real reply."""
        return self.status is not None or self.body is not None

    def encoded_body(self, real_body: Any = None) -> tuple[bytes, str] | None:
        """The bytes and content type to send instead of the default error envelope; None without a body."""
        body = self.body(copy.deepcopy(real_body)) if callable(self.body) else self.body
        if body is None:
            return None
        if isinstance(body, str):
            return body.encode("utf-8"), self.content_type or HTML_CONTENT_TYPE
        return json.dumps(body).encode("utf-8"), self.content_type or JSON_CONTENT_TYPE

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
            "body": "<function>" if callable(self.body) else copy.deepcopy(self.body),
            "contentType": self.content_type,
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


def is_secret_key(key: object) -> bool:
    return isinstance(key, str) and key.lower().replace("-", "").replace("_", "") in _SECRET_KEYS


def redact(value: Any) -> Any:
    """A copy with the value of every secret-named key replaced, at any depth (bodies, queries, headers)."""
    if isinstance(value, dict):
        return {k: (REDACTED if is_secret_key(k) else redact(v)) for k, v in value.items()}
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
                if (method is None or e["method"] == method.upper()) and (pattern is None or pattern.search(e["path"]))
            ]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
