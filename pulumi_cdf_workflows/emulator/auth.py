"""OAuth tokens, bearer authentication and the sessions API (create, list, byids, revoke) whose nonces runs and
triggers bind. Sessions API as cognite-sdk-python drives it: `cognite/client/_api/iam/sessions.py`.
"""

from __future__ import annotations

import secrets
from typing import Any

from pulumi_cdf_workflows.emulator.exceptions import BadRequest, OAuthError, Unauthorized
from pulumi_cdf_workflows.emulator.state import AccessToken, Session, paginate
from pulumi_cdf_workflows.emulator.store import BackendState
from pulumi_cdf_workflows.emulator.validation import single_item

SESSION_STATUSES = ("READY", "ACTIVE", "CANCELLED", "EXPIRED", "REVOKED", "ACCESS_LOST")  # [SDK SessionStatus]
DEFAULT_SESSION_LIMIT = 25  # [cdf-api.md 2.8; SDK DEFAULT_LIMIT_READ]
MAX_SESSION_LIMIT = 1000
MAX_SESSION_IDS = 1000  # byids takes 1..1000 ids [cdf-api.md 2.8]


class AuthBackend(BackendState):
    """The token endpoint, token inspection and the sessions API."""

    def _client_ok(self, client_id: Any, client_secret: Any) -> bool:
        if not isinstance(client_id, str) or not isinstance(client_secret, str) or not client_id or not client_secret:
            return False
        if self.clients is None:
            return True
        expected = self.clients.get(client_id)
        return expected is not None and secrets.compare_digest(expected, client_secret)

    def issue_token(self, grant_type: Any, client_id: Any, client_secret: Any) -> dict[str, Any]:
        if grant_type != "client_credentials":
            raise OAuthError("unsupported_grant_type", "Only grant_type=client_credentials is supported")
        if not self._client_ok(client_id, client_secret):
            raise OAuthError("invalid_client", "Client authentication failed: unknown client or wrong secret", 401)
        token = "emu-" + secrets.token_urlsafe(32)
        with self._lock:
            self._tokens[token] = AccessToken(token, str(client_id), self._clock() + self.token_ttl)
        return {"access_token": token, "token_type": "Bearer", "expires_in": int(self.token_ttl)}

    def authenticate(self, authorization: str | None) -> str:
        """Returns the subject of a valid bearer token or raises 401."""
        if not authorization or not authorization.lower().startswith("bearer "):
            raise Unauthorized("Missing bearer token in the Authorization header")
        token = authorization[7:].strip()
        if token.startswith("static-"):
            return "static-token"  # never echo the token itself (token/inspect shows the subject)
        with self._lock:
            issued = self._tokens.get(token)
            if issued is None:
                raise Unauthorized("Invalid access token")
            if issued.revoked or self._clock() >= issued.expires_at:
                raise Unauthorized("The access token has expired")
            return issued.client_id

    def expire_tokens(self) -> int:
        with self._lock:
            for token in self._tokens.values():
                token.revoked = True
            return len(self._tokens)

    def token_inspect(self, subject: str) -> dict[str, Any]:
        with self._lock:
            projects = sorted(self._projects)
        scope: dict[str, Any] = {"all": {}}
        return {
            "subject": subject,
            "projects": [{"projectUrlName": p, "groups": []} for p in projects],
            "capabilities": [
                {
                    "workflowOrchestrationAcl": {"actions": ["READ", "WRITE"], "scope": scope},
                    "projectScope": {"allProjects": {}},
                },
                {
                    "sessionsAcl": {"actions": ["LIST", "CREATE", "DELETE"], "scope": scope},
                    "projectScope": {"allProjects": {}},
                },
            ],
        }

    def touch_project(self, project: str) -> None:
        with self._lock:
            self._projects.add(project)

    # ----- sessions

    def create_session(self, project: str, items: Any) -> Session:
        item = single_item(items, "session")
        client_id: str | None = None
        if "clientId" in item or "clientSecret" in item:
            if not self._client_ok(item.get("clientId"), item.get("clientSecret")):
                raise BadRequest("Could not create a session: invalid client credentials")
            session_type, client_id = "CLIENT_CREDENTIALS", item["clientId"]
        elif item.get("tokenExchange") is True:
            session_type = "TOKEN_EXCHANGE"
        elif item.get("oneshotTokenExchange") is True:
            session_type = "ONESHOT_TOKEN_EXCHANGE"
        else:
            raise BadRequest(
                "A session needs clientId and clientSecret, tokenExchange: true or oneshotTokenExchange: true"
            )
        with self._lock:
            now = self.now_ms()
            session = Session(
                id=self._next_session_id,
                project=project,
                type=session_type,
                nonce=secrets.token_urlsafe(48),
                nonce_expires_at=self._clock() + self.nonce_ttl,
                creation_time=now,
                expiration_time=now + round(self.nonce_ttl * 1000),
                client_id=client_id,
            )
            self._next_session_id += 1
            self._sessions[session.id] = session
            self._nonces[session.nonce] = session
            return session

    def list_sessions(self, project: str, status: Any, limit: Any, cursor: Any) -> tuple[list[Session], str | None]:
        """`GET /sessions?status&limit&cursor` [SDK SessionsAPI.list]: limit 1..1000, default 25."""
        if status is not None and status not in SESSION_STATUSES:
            raise BadRequest(f"status must be one of {', '.join(SESSION_STATUSES)}, got {status!r}")
        if limit is None:
            limit = DEFAULT_SESSION_LIMIT
        elif isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_SESSION_LIMIT:
            raise BadRequest(f"limit must be an integer between 1 and {MAX_SESSION_LIMIT}, got {limit!r}")
        # guess: a session whose nonce expired unbound stays READY (whether CDF shows it as EXPIRED is unknown).
        with self._lock:
            # guess: CDF's order of the session list is undocumented; creation order (ascending id) is used, so
            # sessions created while a client pages do not shift the pages it has not read yet.
            items = sorted(
                (s for s in self._sessions.values() if s.project == project and status in (None, s.status)),
                key=lambda s: s.id,
            )
        return paginate(items, limit, cursor)

    def retrieve_sessions(self, project: str, items: Any) -> list[Session]:
        """`POST /sessions/byids` with 1..1000 `{id}`: "fails if any of the IDs does not belong to an existing
        session" [SDK SessionsAPI.retrieve]."""
        with self._lock:
            return self._known_sessions(project, _session_ids(items, MAX_SESSION_IDS))

    def revoke_sessions(self, project: str, items: Any) -> list[Session]:
        """`POST /sessions/revoke` with at least one `{id}`; idempotent [DOCS sessions; SDK SessionsAPI.revoke].

        A revoked session's nonce can no longer be bound (store.py `_check_nonce`).
        """
        # The SDK sends at most 100 per request, "a self-inflicted limit": the API has none [SDK SessionsAPI].
        with self._lock:
            sessions = self._known_sessions(project, _session_ids(items, None))
            for session in sessions:
                # guess: CDF says revocation "may take up to 1 hour to take effect"; the emulator revokes at once.
                session.status = "REVOKED"
            return sessions

    def _known_sessions(self, project: str, ids: list[int]) -> list[Session]:
        found = {i: s for i in ids if (s := self._sessions.get(i)) is not None and s.project == project}
        missing = [{"id": i} for i in ids if i not in found]
        if missing:
            # guess: status 400 with `missing` (CDF's usual byids answer, which the SDK reads as not found); the
            # wording is the emulator's own. Revoke is assumed to answer unknown ids the same way.
            raise BadRequest("Sessions not found", missing=missing)
        return [found[i] for i in ids]

    def sessions(self, project: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return [s.public_json() for s in self._sessions.values() if project is None or s.project == project]


def _session_ids(items: Any, most: int | None) -> list[int]:
    """The ids of `{"items": [{"id": ...}]}`, each once, in order; 400 unless 1..`most` integer ids."""
    if not isinstance(items, list) or not items or (most is not None and len(items) > most):
        upper = f"1 to {most}" if most is not None else "at least 1"
        raise BadRequest(f"items must hold {upper} {{id}} objects")
    ids: list[int] = []
    for item in items:
        session_id = item.get("id") if isinstance(item, dict) else None
        if isinstance(session_id, bool) or not isinstance(session_id, int) or set(item) != {"id"}:
            raise BadRequest("items must be objects with an integer id and nothing else")
        if session_id not in ids:  # guess: a repeated id is answered once, not refused as duplicated
            ids.append(session_id)
    return ids
