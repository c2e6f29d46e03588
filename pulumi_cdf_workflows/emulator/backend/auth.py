"""OAuth client credentials, access tokens and bearer authentication, the capabilities each client was given, and the
projects seen (token inspect)."""

from __future__ import annotations

import secrets
from typing import Any

from pulumi_cdf_workflows.emulator.backend.shared import Shared
from pulumi_cdf_workflows.emulator.capabilities import Grants, parse_capabilities, parse_client_capabilities
from pulumi_cdf_workflows.emulator.exceptions import OAuthError, Unauthorized
from pulumi_cdf_workflows.emulator.models import AccessToken


class Auth:
    """Tokens outlive `reset()`: a test's clients stay logged in. Capabilities go back to those given at start.

    `capabilities` maps a client id (or a token's subject, "static-token" for static tokens) to what it may do, in
    CDF's shape (capabilities.py); a client given nothing may do everything.
    """

    def __init__(
        self,
        shared: Shared,
        clients: dict[str, str] | None,
        token_ttl: float,
        capabilities: dict[str, Any] | None = None,
    ) -> None:
        self._shared = shared
        self.clients = dict(clients) if clients is not None else None  # None: any non-empty credentials
        self.token_ttl = token_ttl
        self._tokens: dict[str, AccessToken] = {}
        self._projects: set[str] = set()
        self._initial_grants = parse_client_capabilities(capabilities or {})
        self._grants = dict(self._initial_grants)

    def reset(self) -> None:
        self._projects = set()
        self._grants = dict(self._initial_grants)

    def set_capabilities(self, subject: str, capabilities: list[dict[str, Any]] | None) -> None:
        """What `subject` may do from now on; None: everything again. ValueError for a malformed list."""
        if not isinstance(subject, str) or not subject:
            raise ValueError("client must be a non-empty client id or token subject")
        grants = None if capabilities is None else parse_capabilities(capabilities)
        with self._shared.lock:
            if grants is None:
                self._grants.pop(subject, None)
            else:
                self._grants[subject] = grants

    def grants(self, subject: str) -> Grants | None:
        """What `subject` was given; None for a client given nothing, which may do everything."""
        with self._shared.lock:
            return self._grants.get(subject)

    def capabilities(self) -> dict[str, list[dict[str, Any]]]:
        """Every client given capabilities, with them as token inspect shows them (project scopes filled in)."""
        with self._shared.lock:
            return {subject: grants.to_json() for subject, grants in sorted(self._grants.items())}

    def client_ok(self, client_id: str | None, client_secret: str | None) -> bool:
        if not isinstance(client_id, str) or not isinstance(client_secret, str) or not client_id or not client_secret:
            return False
        if self.clients is None:
            return True
        expected = self.clients.get(client_id)
        return expected is not None and secrets.compare_digest(expected, client_secret)

    def issue_token(self, grant_type: str | None, client_id: str | None, client_secret: str | None) -> AccessToken:
        if grant_type != "client_credentials":
            raise OAuthError("unsupported_grant_type", "Only grant_type=client_credentials is supported")
        if not self.client_ok(client_id, client_secret):
            raise OAuthError("invalid_client", "Client authentication failed: unknown client or wrong secret", 401)
        token = AccessToken(
            "emu-" + secrets.token_urlsafe(32), str(client_id), self._shared.ttl_clock() + self.token_ttl
        )
        with self._shared.lock:
            self._tokens[token.token] = token
        return token

    def authenticate(self, authorization: str | None) -> str:
        """Returns the subject of a valid bearer token or raises 401."""
        if not authorization or not authorization.lower().startswith("bearer "):
            raise Unauthorized("Missing bearer token in the Authorization header")
        token = authorization[7:].strip()
        if token.startswith("static-"):
            return "static-token"  # never echo the token itself (token/inspect shows the subject)
        with self._shared.lock:
            issued = self._tokens.get(token)
            if issued is None:
                raise Unauthorized("Invalid access token")
            if issued.revoked or self._shared.ttl_clock() >= issued.expires_at:
                raise Unauthorized("The access token has expired")
            return issued.client_id

    def expire_tokens(self) -> int:
        """Every issued token becomes invalid; static-* tokens keep working. Returns how many there were."""
        with self._shared.lock:
            for token in self._tokens.values():
                token.revoked = True
            return len(self._tokens)

    def touch_project(self, project: str) -> None:
        with self._shared.lock:
            self._projects.add(project)

    def projects(self, grants: Grants | None = None) -> list[str]:
        """The projects a client's token is good for: those its capabilities name, and every project seen when it
        was given nothing or some capability in all projects."""
        # guess: what CDF lists for an all-projects capability is unknown; the emulator has no list of projects
        # but those requests named, so it shows those.
        with self._shared.lock:
            seen = self._projects if grants is None or grants.all_projects() else set()
            named = grants.named_projects() if grants is not None else set()
            return sorted(seen | named)
