"""CdfBackend sessions, nonces and bearer tokens, driven without sockets; lifetimes on a fake clock."""

from __future__ import annotations

import pytest

from pulumi_cdf_workflows.emulator.backend import CdfBackend
from pulumi_cdf_workflows.emulator.exceptions import BadRequest, NotFound, OAuthError, Unauthorized

from .conftest import FakeClock, P, nonce, run

# ----- sessions and nonces


def test_nonce_binds_once_and_activates_the_session(backend: CdfBackend) -> None:
    session = backend.sessions.create(P, "CLIENT_CREDENTIALS", "c", "s")
    assert (session.type, session.status, session.client_id) == ("CLIENT_CREDENTIALS", "READY", "c")
    execution = backend.executions.run(P, "wf", "1", session.nonce, None, {})
    assert session.status == "ACTIVE"
    assert backend.sessions.views(P)[0]["boundExecutionId"] == execution.id
    with pytest.raises(BadRequest, match="already been used"):
        backend.executions.run(P, "wf", "1", session.nonce, None, {})
    assert len(backend.executions.views()) == 1


def test_nonce_expires_after_nonce_ttl(backend: CdfBackend, clock: FakeClock) -> None:
    expiring = nonce(backend)
    clock.now += 60
    with pytest.raises(BadRequest, match="expired"):
        backend.executions.run(P, "wf", "1", expiring, None, {})


def test_a_clock_move_does_not_expire_nonces_or_tokens(backend: CdfBackend) -> None:
    fresh = nonce(backend)
    token = backend.auth.issue_token("client_credentials", "me", "pw").token
    backend.scheduler.advance(7 * 24 * 3600)
    backend.scheduler.set_time(backend.now_ms() + 365 * 24 * 3600 * 1000)
    assert backend.auth.authenticate(f"Bearer {token}") == "me"
    assert backend.executions.run(P, "wf", "1", fresh, None, {}).status == "RUNNING"


def test_nonce_from_another_project_is_invalid(backend: CdfBackend) -> None:
    with pytest.raises(BadRequest, match="Invalid nonce"):
        backend.executions.run(P, "wf", "1", nonce(backend, "other"), None, {})


def test_a_revoked_sessions_nonce_cannot_be_bound(backend: CdfBackend) -> None:
    session = backend.sessions.create(P, "TOKEN_EXCHANGE")
    backend.sessions.revoke(P, [session.id])
    with pytest.raises(BadRequest, match="revoked"):
        backend.executions.run(P, "wf", "1", session.nonce, None, {})


def test_sessions_view_never_shows_the_nonce(backend: CdfBackend) -> None:
    created = backend.sessions.create(P, "ONESHOT_TOKEN_EXCHANGE")
    [view] = backend.sessions.views()
    assert view["type"] == "ONESHOT_TOKEN_EXCHANGE"
    assert created.nonce not in str(view)


def test_configured_clients_restrict_sessions_and_tokens() -> None:
    b = CdfBackend(clients={"id": "secret"})
    b.sessions.create(P, "CLIENT_CREDENTIALS", "id", "secret")
    with pytest.raises(BadRequest, match="invalid client credentials"):
        b.sessions.create(P, "CLIENT_CREDENTIALS", "id", "wrong")
    with pytest.raises(OAuthError) as caught:
        b.auth.issue_token("client_credentials", "other", "secret")
    assert caught.value.status == 401
    assert b.auth.issue_token("client_credentials", "id", "secret").client_id == "id"


# ----- tokens


def test_tokens_expire_after_ttl_and_on_demand(backend: CdfBackend, clock: FakeClock) -> None:
    token = backend.auth.issue_token("client_credentials", "me", "pw").token
    assert backend.auth.authenticate(f"Bearer {token}") == "me"
    clock.now += 100
    with pytest.raises(Unauthorized, match="expired"):
        backend.auth.authenticate(f"Bearer {token}")
    fresh = backend.auth.issue_token("client_credentials", "me", "pw").token
    backend.auth.expire_tokens()
    with pytest.raises(Unauthorized):
        backend.auth.authenticate(f"Bearer {fresh}")
    assert backend.auth.authenticate("Bearer static-anything") == "static-token"


@pytest.mark.parametrize("header", [None, "", "Basic abc", "Bearer nope"])
def test_bad_authorization_is_unauthorized(backend: CdfBackend, header: str | None) -> None:
    with pytest.raises(Unauthorized):
        backend.auth.authenticate(header)


def test_reset_forgets_everything_but_tokens(backend: CdfBackend) -> None:
    token = backend.auth.issue_token("client_credentials", "me", "pw").token
    execution = run(backend)  # its task has an end time
    backend.auth.touch_project(P)
    backend.reset()
    assert backend.executions.views() == [] and backend.sessions.views() == [] and backend.auth.projects() == []
    with pytest.raises(NotFound):
        backend.executions.get(P, execution.id)
    with pytest.raises(NotFound):
        backend.workflows.get_version(P, "wf", "1")
    assert backend.executions.next_due() is None
    assert backend.auth.authenticate(f"Bearer {token}") == "me"
