"""CdfBackend sessions, nonces and bearer tokens, driven without sockets."""

from __future__ import annotations

from typing import Any

import pytest

from pulumi_cdf_workflows.emulator.exceptions import BadRequest, OAuthError, Unauthorized
from pulumi_cdf_workflows.emulator.models import CdfBackend

from .conftest import FakeClock, P, nonce

# ----- sessions and nonces


def test_nonce_binds_once_and_activates_the_session(backend: CdfBackend) -> None:
    session = backend.create_session(P, [{"clientId": "c", "clientSecret": "s"}])
    assert session.type == "CLIENT_CREDENTIALS"
    assert session.status == "READY"
    execution = backend.run(P, "wf", "1", {"authentication": {"nonce": session.nonce}})
    assert session.status == "ACTIVE"
    assert backend.sessions(P)[0]["boundExecutionId"] == execution.id
    with pytest.raises(BadRequest, match="already been used"):
        backend.run(P, "wf", "1", {"authentication": {"nonce": session.nonce}})
    assert len(backend.executions()) == 1


def test_nonce_expires_after_nonce_ttl(backend: CdfBackend, clock: FakeClock) -> None:
    expiring = nonce(backend)
    clock.now += 60
    with pytest.raises(BadRequest, match="expired"):
        backend.run(P, "wf", "1", {"authentication": {"nonce": expiring}})


def test_nonce_from_another_project_is_invalid(backend: CdfBackend) -> None:
    with pytest.raises(BadRequest, match="Invalid nonce"):
        backend.run(P, "wf", "1", {"authentication": {"nonce": nonce(backend, "other")}})


def test_sessions_view_never_shows_the_nonce(backend: CdfBackend) -> None:
    created = backend.create_session(P, [{"oneshotTokenExchange": True}])
    [view] = backend.sessions()
    assert view["type"] == "ONESHOT_TOKEN_EXCHANGE"
    assert created.nonce not in str(view)


@pytest.mark.parametrize(
    "items",
    [
        [],
        [{"tokenExchange": True}, {"tokenExchange": True}],
        [{}],
        [{"clientId": "c"}],
        [{"tokenExchange": False}],
    ],
)
def test_session_create_needs_exactly_one_valid_item(backend: CdfBackend, items: list[dict[str, Any]]) -> None:
    with pytest.raises(BadRequest):
        backend.create_session(P, items)


def test_configured_clients_restrict_sessions_and_tokens() -> None:
    b = CdfBackend(clients={"id": "secret"})
    b.create_session(P, [{"clientId": "id", "clientSecret": "secret"}])
    with pytest.raises(BadRequest, match="invalid client credentials"):
        b.create_session(P, [{"clientId": "id", "clientSecret": "wrong"}])
    with pytest.raises(OAuthError) as caught:
        b.issue_token("client_credentials", "other", "secret")
    assert caught.value.status == 401
    assert b.issue_token("client_credentials", "id", "secret")["token_type"] == "Bearer"


# ----- tokens


def test_tokens_expire_after_ttl_and_on_demand(backend: CdfBackend, clock: FakeClock) -> None:
    token = backend.issue_token("client_credentials", "me", "pw")["access_token"]
    assert backend.authenticate(f"Bearer {token}") == "me"
    clock.now += 100
    with pytest.raises(Unauthorized, match="expired"):
        backend.authenticate(f"Bearer {token}")
    fresh = backend.issue_token("client_credentials", "me", "pw")["access_token"]
    backend.expire_tokens()
    with pytest.raises(Unauthorized):
        backend.authenticate(f"Bearer {fresh}")
    assert backend.authenticate("Bearer static-anything") == "static-token"


@pytest.mark.parametrize("header", [None, "", "Basic abc", "Bearer nope"])
def test_bad_authorization_is_unauthorized(backend: CdfBackend, header: str | None) -> None:
    with pytest.raises(Unauthorized):
        backend.authenticate(header)
