"""The state every part of `CdfBackend` shares: one lock, the containers it guards, the clocks and nonces.

`CdfBackend` is assembled from parts that each own one job (auth.py, runner.py, triggers.py, models.py); they
all derive from `BackendState`, so the containers are declared and reset in one place.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable

from pulumi_cdf_workflows.emulator.exceptions import BadRequest
from pulumi_cdf_workflows.emulator.state import (
    AccessToken,
    Clock,
    Execution,
    OutcomeSpec,
    Session,
    Trigger,
    Workflow,
    WorkflowVersion,
)


class BackendState:
    """Thread-safe: one lock guards all state, and a condition on it wakes runner threads without busy loops."""

    def __init__(
        self,
        *,
        clients: dict[str, str] | None = None,
        task_duration: float = 0.05,
        token_ttl: float = 3600,
        nonce_ttl: float = 60,
        clock: Callable[[], float] = time.monotonic,
        wall: Clock | None = None,
    ) -> None:
        self.clients = dict(clients) if clients is not None else None
        self.task_duration = task_duration
        # A test control: CDF may answer a list with fewer items than asked for, and a cursor; with this set,
        # the executions list never answers more than this many per page.
        self.page_size: int | None = None
        self.token_ttl = token_ttl
        self.nonce_ttl = nonce_ttl
        self._clock = clock  # lifetimes of tokens and nonces
        self.wall = wall if wall is not None else Clock()  # every timestamp the API shows; tests move it
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._stopped = False
        self._tokens: dict[str, AccessToken] = {}  # outlive reset(): test clients keep their tokens
        self._threads: set[threading.Thread] = set()
        self._init_state()

    def _init_state(self) -> None:
        self._sessions: dict[int, Session] = {}
        self._nonces: dict[str, Session] = {}
        self._workflows: dict[tuple[str, str], Workflow] = {}
        self._versions: dict[tuple[str, str, str], WorkflowVersion] = {}
        self._executions: dict[str, Execution] = {}
        self._outcomes: dict[tuple[str, str], OutcomeSpec] = {}
        self._triggers: dict[tuple[str, str], Trigger] = {}
        self._projects: set[str] = set()
        self._next_session_id = 4_000_000_000_001
        self._seq = 0
        self._tickets = itertools.count(1)
        self._counter = 1000

    @property
    def lock(self) -> threading.RLock:
        """Hold it to read several objects consistently (the wire layer serialises replies under it)."""
        return self._lock

    def now_ms(self) -> int:
        """The emulator's current time in epoch milliseconds (real time until a test moves it)."""
        return self.wall.now_ms()

    def reset(self) -> None:
        """Forgets projects, sessions, workflows, executions, triggers, outcomes and clock moves; tokens stay valid."""
        with self._lock:
            for execution in self._executions.values():
                execution.generation += 1
            self._init_state()
            self.wall.reset()
            self._changed.notify_all()

    def resume(self) -> None:
        """Allows runners again after shutdown() (an emulator that is started again)."""
        with self._lock:
            self._stopped = False

    def shutdown(self, timeout: float = 2.0) -> None:
        with self._lock:
            self._stopped = True
            for execution in self._executions.values():
                execution.generation += 1
            self._changed.notify_all()
            threads = list(self._threads)
        deadline = time.monotonic() + timeout
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    def _check_nonce(self, project: str, nonce: str) -> Session:
        """The session of a nonce that can still be bound (to an execution or a trigger); 400 otherwise."""
        session = self._nonces.get(nonce)
        if session is None or session.project != project:
            raise BadRequest("Invalid nonce: no session in this project has this nonce")
        if session.status == "REVOKED":
            # guess: CDF's status and wording for a revoked session's nonce are unknown; 400 like other bad nonces.
            raise BadRequest("The nonce's session has been revoked: create a new session")
        if session.bound:
            raise BadRequest("The nonce has already been used: a nonce can be bound only once")
        if self._clock() >= session.nonce_expires_at:
            raise BadRequest("The nonce has expired: create a new session")
        return session

    def _revoke_session(self, session_id: int) -> None:
        """A trigger let go of its session (a new nonce replaced it, or the trigger is gone)."""
        session = self._sessions.get(session_id)
        if session is not None:
            session.status = "REVOKED"
