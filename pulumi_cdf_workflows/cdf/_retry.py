"""When to send a request again, and how long to wait first.

Two kinds of request:
- *safe* ones (GET, lists, session creation, upserts, the token endpoint) change nothing that a second
  copy would change again, so they are retried on 429/502/503/504 and on any connection error or timeout;
- *unsafe* ones (run, retry, cancel) may start or change an execution, so they are retried only when the
  server certainly did not act: a 429, or a connection that failed before the request was sent.
(401 is handled by the client: renew the token once, send once more.)
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime

import requests
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

SAFE_RETRY_STATUSES = frozenset({429, 502, 503, 504})
UNSAFE_RETRY_STATUSES = frozenset({429})

_log = logging.getLogger(__name__)


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


class SendFailed(Exception):
    """``send`` raised and is not to be sent again: its exception, whether it certainly never reached the
    server, and how many attempts were made."""

    def __init__(self, error: requests.RequestException, never_sent: bool, attempts: int) -> None:
        super().__init__(type(error).__name__)
        self.error, self.never_sent, self.attempts = error, never_sent, attempts


def send_with_retries(
    policy: RetryPolicy, send: Callable[[], requests.Response], *, safe: bool, what: str
) -> requests.Response:
    """Call ``send`` until it gives a reply that is not to be retried, and return that reply.

    ``safe`` requests are sent again on 429/502/503/504 and on any connection error; unsafe ones only on 429
    and on connections that were never established. A retryable reply is returned once the policy's budget
    is spent; an exception raises :class:`SendFailed`.
    """
    retry_statuses = SAFE_RETRY_STATUSES if safe else UNSAFE_RETRY_STATUSES
    started = policy.clock()
    retry = 0
    while True:
        try:
            resp = send()
        except requests.RequestException as exc:
            never_sent = connection_not_established(exc)
            wait = policy.next_wait(retry, started, None) if safe or never_sent else None
            if wait is None:
                raise SendFailed(exc, never_sent, retry + 1) from None
            reason = type(exc).__name__
        else:
            if resp.status_code not in retry_statuses:
                return resp
            wait = policy.next_wait(retry, started, parse_retry_after(resp.headers.get("Retry-After")))
            if wait is None:
                return resp
            reason = f"answered {resp.status_code}"
        _log.debug("%s: %s; retrying in %.2f s", what, reason, wait)
        policy.sleep(wait)
        retry += 1
