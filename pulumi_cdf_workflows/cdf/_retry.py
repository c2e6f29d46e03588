"""When to send a request again, and how long to wait first.

Two kinds of request:
- *safe* ones (GET, lists, session creation, upserts, the token endpoint) change nothing that a second
  copy would change again, so they are retried on 429/502/503/504 and on any connection error or timeout;
- *unsafe* ones (run, retry, cancel) may start or change an execution, so they are retried only when the
  server certainly did not act: a 429, or a connection that failed before the request was sent.
(401 is handled by the client: renew the token once, send once more.)
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime

import requests
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

SAFE_RETRY_STATUSES = frozenset({429, 502, 503, 504})
UNSAFE_RETRY_STATUSES = frozenset({429})


@dataclass
class RetryPolicy:
    """Full-jitter exponential backoff, bounded in count and in total time, honouring Retry-After.

    ``sleep`` and ``clock`` are injectable so tests need not wait.
    """

    max_retries: int = 5
    max_total_wait: float = 60.0
    base: float = 0.5
    max_backoff: float = 30.0
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    rand: Callable[[], float] = field(default=random.random)

    def backoff(self, retry_number: int) -> float:
        """Full jitter: uniform in [0, min(max_backoff, base * 2**n)]."""
        return float(self.rand() * min(self.max_backoff, self.base * 2**retry_number))

    def next_wait(self, retry_number: int, started: float, retry_after: float | None) -> float | None:
        """Seconds to wait before retry ``retry_number`` (0-based), or None when the budget is spent.

        ``started`` is ``clock()`` at the first attempt. A Retry-After the budget cannot honour ends
        the retries rather than being shortened.
        """
        if retry_number >= self.max_retries:
            return None
        wait = retry_after if retry_after is not None else self.backoff(retry_number)
        if self.clock() - started + wait > self.max_total_wait:
            return None
        return wait


def parse_retry_after(value: str | None) -> float | None:
    """Retry-After as seconds (delta-seconds or HTTP date); None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def connection_not_established(exc: BaseException) -> bool:
    """True when the request certainly never reached the server: the connection was refused or the
    connect timed out. A read timeout or a dropped connection after sending is *not* this case."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    seen: set[int] = set()
    stack: list[object] = [exc]
    while stack:
        current = stack.pop()
        if not isinstance(current, BaseException) or id(current) in seen:
            continue
        seen.add(id(current))
        # NewConnectionError subclasses ConnectTimeoutError in urllib3 2; both mean "never connected".
        if isinstance(current, (NewConnectionError, ConnectTimeoutError)):
            return True
        stack.extend(current.args)
        stack.append(getattr(current, "reason", None))
        stack.append(current.__cause__)
        stack.append(current.__context__)
    return False
