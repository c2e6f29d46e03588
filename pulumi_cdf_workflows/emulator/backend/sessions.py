"""The sessions API (create, list, byids, revoke) and the nonces that executions and triggers bind.

Sessions API as cognite-sdk-python drives it: `cognite/client/_api/iam/sessions.py`.
"""

from __future__ import annotations

import secrets
from typing import Any

from pulumi_cdf_workflows.emulator.backend.auth import Auth
from pulumi_cdf_workflows.emulator.backend.shared import Shared
from pulumi_cdf_workflows.emulator.exceptions import BadRequest
from pulumi_cdf_workflows.emulator.models import Session
from pulumi_cdf_workflows.emulator.queries import paginate

FIRST_SESSION_ID = 4_000_000_000_001


class Sessions:
    def __init__(self, shared: Shared, auth: Auth, nonce_ttl: float) -> None:
        self._shared = shared
        self._auth = auth
        self.nonce_ttl = nonce_ttl
        self.reset()

    def reset(self) -> None:
        self._sessions: dict[int, Session] = {}
        self.by_nonce: dict[str, Session] = {}
        self._next_id = FIRST_SESSION_ID

    def create(
        self, project: str, session_type: str, client_id: str | None = None, client_secret: str | None = None
    ) -> Session:
        if session_type == "CLIENT_CREDENTIALS" and not self._auth.client_ok(client_id, client_secret):
            raise BadRequest("Could not create a session: invalid client credentials")
        with self._shared.lock:
            now = self._shared.now_ms()
            session = Session(
                id=self._next_id,
                project=project,
                type=session_type,
                nonce=secrets.token_urlsafe(48),
                nonce_expires_at=self._shared.ttl_clock() + self.nonce_ttl,
                creation_time=now,
                expiration_time=now + round(self.nonce_ttl * 1000),
                client_id=client_id if session_type == "CLIENT_CREDENTIALS" else None,
            )
            self._next_id += 1
            self._sessions[session.id] = session
            self.by_nonce[session.nonce] = session
            return session

    def list_sessions(
        self, project: str, status: str | None, limit: int, cursor: str | None
    ) -> tuple[list[Session], str | None]:
        """`GET /sessions?status&limit&cursor` [SDK SessionsAPI.list]."""
        # guess: a session whose nonce expired unbound stays READY (whether CDF shows it as EXPIRED is unknown).
        with self._shared.lock:
            # guess: CDF's order of the session list is undocumented; creation order (ascending id) is used, so
            # sessions created while a client pages do not shift the pages it has not read yet.
            items = sorted(
                (s for s in self._sessions.values() if s.project == project and status in (None, s.status)),
                key=lambda s: s.id,
            )
        return paginate(items, limit, cursor)

    def retrieve(self, project: str, ids: list[int]) -> list[Session]:
        """`POST /sessions/byids`: "fails if any of the IDs does not belong to an existing session"
        [SDK SessionsAPI.retrieve]."""
        with self._shared.lock:
            found = {i: s for i in ids if (s := self._sessions.get(i)) is not None and s.project == project}
        missing = [{"id": i} for i in ids if i not in found]
        if missing:
            # guess: status 400 with `missing` (CDF's usual byids answer, which the SDK reads as not found); the
            # wording is the emulator's own. Revoke is assumed to answer unknown ids the same way.
            raise BadRequest("Sessions not found", missing=missing)
        return [found[i] for i in ids]

    def revoke(self, project: str, ids: list[int]) -> list[Session]:
        """`POST /sessions/revoke`; idempotent [DOCS sessions; SDK SessionsAPI.revoke]. A revoked session's nonce
        can no longer be bound."""
        with self._shared.lock:
            sessions = self.retrieve(project, ids)
            for session in sessions:
                # guess: CDF says revocation "may take up to 1 hour to take effect"; the emulator revokes at once.
                session.status = "REVOKED"
            return sessions

    def claim(self, project: str, nonce: str) -> Session:
        """The session of a nonce that can still be bound (to an execution or a trigger); 400 otherwise."""
        session = self.by_nonce.get(nonce)
        if session is None or session.project != project:
            raise BadRequest("Invalid nonce: no session in this project has this nonce")
        if session.status == "REVOKED":
            # guess: CDF's status and wording for a revoked session's nonce are unknown; 400 like other bad nonces.
            raise BadRequest("The nonce's session has been revoked: create a new session")
        if session.bound:
            raise BadRequest("The nonce has already been used: a nonce can be bound only once")
        if self._shared.ttl_clock() >= session.nonce_expires_at:
            raise BadRequest("The nonce has expired: create a new session")
        return session

    def bind_execution(self, session: Session, execution_id: str) -> None:
        session.bound_execution, session.status = execution_id, "ACTIVE"

    def bind_trigger(self, session: Session, trigger_external_id: str) -> None:
        session.bound_trigger, session.status = trigger_external_id, "ACTIVE"

    def release(self, session_id: int) -> None:
        """A trigger let go of its session (a new nonce replaced it, or the trigger is gone): it is revoked."""
        session = self._sessions.get(session_id)
        if session is not None:
            session.status = "REVOKED"

    def views(self, project: str | None = None) -> list[dict[str, Any]]:
        """Every session with what it is bound to, never the nonce (for test assertions)."""
        with self._shared.lock:
            return [s.public_json() for s in self._sessions.values() if project is None or s.project == project]
