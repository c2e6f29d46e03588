"""OAuth tokens, bearer authentication and sessions (whose nonces runs and triggers bind)."""

from __future__ import annotations

import secrets
from typing import Any

from pulumi_cdf_workflows.emulator.exceptions import BadRequest, OAuthError, Unauthorized
from pulumi_cdf_workflows.emulator.state import AccessToken, Session
from pulumi_cdf_workflows.emulator.store import BackendState
from pulumi_cdf_workflows.emulator.validation import single_item


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
            session = Session(
                id=self._next_session_id,
                project=project,
                type=session_type,
                nonce=secrets.token_urlsafe(48),
                nonce_expires_at=self._clock() + self.nonce_ttl,
                creation_time=self.now_ms(),
                client_id=client_id,
            )
            self._next_session_id += 1
            self._sessions[session.id] = session
            self._nonces[session.nonce] = session
            return session

    def sessions(self, project: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return [s.public_json() for s in self._sessions.values() if project is None or s.project == project]
