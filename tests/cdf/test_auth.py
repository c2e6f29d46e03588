"""Tokens: the client-credentials request, the process-wide cache, renewal and auth errors."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from pydantic import SecretStr

from pulumi_cdf_workflows.cdf import CdfClient
from pulumi_cdf_workflows.cdf.errors import CdfAuthError
from pulumi_cdf_workflows.emulator import CdfEmulator

from .conftest import (
    CLIENT_ID,
    CLIENT_SECRET,
    PROJECT,
    RUN_PATH,
    TOKEN_PATH,
    WF,
    Sleeps,
    oauth_settings,
    start_emulator,
    static_settings,
)


def test_token_request_is_a_client_credentials_form_with_credentials_in_the_body(
    emu: CdfEmulator, make_client: Callable[..., CdfClient]
) -> None:
    client = make_client(scopes=["scope-a", "scope-b"], audience="my-audience")
    client.retrieve_workflow_version(WF, "1")
    [token_request] = emu.requests("POST", TOKEN_PATH)
    assert token_request["body"] == {
        "grant_type": "client_credentials",
        "client_id": CLIENT_ID,
        "client_secret": "<redacted>",
        "scope": "scope-a scope-b",
        "audience": "my-audience",
    }
    assert "authorization" not in token_request["headers"]  # no HTTP Basic
    assert token_request["headers"]["content-type"].startswith("application/x-www-form-urlencoded")


def test_default_scope_is_base_url_default(emu: CdfEmulator, client: CdfClient) -> None:
    client.retrieve_workflow_version(WF, "1")
    [token_request] = emu.requests("POST", TOKEN_PATH)
    assert token_request["body"]["scope"] == f"{emu.base_url}/.default"
    assert "audience" not in token_request["body"]


def test_one_token_per_process_shared_by_all_clients(emu: CdfEmulator, make_client: Callable[..., CdfClient]) -> None:
    first, second = make_client(), make_client()
    for _ in range(3):
        first.retrieve_workflow_version(WF, "1")
        second.retrieve_workflow_version(WF, "1")
    assert len(emu.requests("POST", TOKEN_PATH)) == 1
    assert len(emu.requests("GET")) == 6


def test_a_different_key_gets_its_own_token(emu: CdfEmulator, make_client: Callable[..., CdfClient]) -> None:
    make_client().retrieve_workflow_version(WF, "1")
    make_client(scopes=["other"]).retrieve_workflow_version(WF, "1")
    make_client(audience="aud").retrieve_workflow_version(WF, "1")
    assert len(emu.requests("POST", TOKEN_PATH)) == 3


def test_concurrent_callers_cause_one_token_fetch(emu: CdfEmulator, make_client: Callable[..., CdfClient]) -> None:
    clients = [make_client() for _ in range(12)]
    barrier = threading.Barrier(len(clients))
    errors: list[BaseException] = []

    def call(client: CdfClient) -> None:
        try:
            barrier.wait()
            client.retrieve_workflow_version(WF, "1")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=call, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(emu.requests("POST", TOKEN_PATH)) == 1
    assert len(emu.requests("GET")) == 12


class Clock:
    """A monotonic clock that tests move by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_token_is_renewed_30_seconds_before_it_expires(sleeps: Sleeps) -> None:
    emu = start_emulator(token_ttl=3600)
    clock = Clock()
    try:
        client = CdfClient(oauth_settings(emu), sleep=sleeps, clock=clock)
        client.retrieve_workflow_version(WF, "1")
        clock.now += 3569  # 31 s left
        client.retrieve_workflow_version(WF, "1")
        assert len(emu.requests("POST", TOKEN_PATH)) == 1
        clock.now += 1.5  # now less than 30 s are left
        client.retrieve_workflow_version(WF, "1")
        assert len(emu.requests("POST", TOKEN_PATH)) == 2
        assert [r["status"] for r in emu.requests("GET")] == [200, 200, 200]
        client.close()
    finally:
        emu.stop()


def test_a_short_lived_token_is_used_for_three_quarters_of_its_life(sleeps: Sleeps) -> None:
    # A 3-second token renewed 30 s early would be fetched again for every request.
    emu = start_emulator(token_ttl=3)
    clock = Clock()
    try:
        client = CdfClient(oauth_settings(emu), sleep=sleeps, clock=clock)
        for _ in range(10):
            client.retrieve_workflow_version(WF, "1")
            clock.now += 0.2
        assert len(emu.requests("POST", TOKEN_PATH)) == 1  # 2 s of its 3 s used
        clock.now += 0.3  # 2.3 s: less than a quarter of its life left
        client.retrieve_workflow_version(WF, "1")
        assert len(emu.requests("POST", TOKEN_PATH)) == 2
        client.close()
    finally:
        emu.stop()


def test_401_renews_the_token_once_and_resends_once(emu: CdfEmulator, client: CdfClient) -> None:
    client.retrieve_workflow_version(WF, "1")
    emu.expire_tokens()
    assert client.retrieve_workflow_version(WF, "1") is not None
    assert len(emu.requests("POST", TOKEN_PATH)) == 2
    assert [r["status"] for r in emu.requests("GET")] == [200, 401, 200]


def test_401_on_run_renews_and_starts_exactly_one_execution(emu: CdfEmulator, client: CdfClient) -> None:
    nonce = client.create_session().nonce.get_secret_value()
    emu.expire_tokens()
    execution = client.run_execution(WF, "1", nonce=nonce)
    assert [r["status"] for r in emu.requests("POST", RUN_PATH)] == [401, 202]
    assert [e["id"] for e in emu.executions()] == [execution.id]


def test_401_after_renewal_raises_auth_error(emu: CdfEmulator, client: CdfClient) -> None:
    emu.inject_fault(method="GET", path=r"/versions/1$", status=401, times=2)
    with pytest.raises(CdfAuthError) as info:
        client.retrieve_workflow_version(WF, "1")
    assert info.value.status == 401
    assert "even after renewing the token" in str(info.value)
    assert len(emu.requests("GET")) == 2
    assert len(emu.requests("POST", TOKEN_PATH)) == 2


def test_401_with_a_static_token_is_not_resent(emu: CdfEmulator, sleeps: Sleeps) -> None:
    client = CdfClient(static_settings(emu.base_url, token="not-a-valid-token"), sleep=sleeps)
    with pytest.raises(CdfAuthError) as info:
        client.retrieve_workflow_version(WF, "1")
    assert info.value.status == 401
    assert "not-a-valid-token" not in str(info.value)
    assert len(emu.requests("GET")) == 1
    client.close()


def test_wrong_secret_raises_auth_error_naming_url_client_and_idp_error(
    emu: CdfEmulator, make_client: Callable[..., CdfClient]
) -> None:
    client = make_client(client_secret=SecretStr("wrong-s3cret"))
    with pytest.raises(CdfAuthError) as info:
        client.retrieve_workflow_version(WF, "1")
    message = str(info.value)
    assert emu.token_url in message and repr(CLIENT_ID) in message
    assert "invalid_client" in message and "Client authentication failed" in message
    assert "wrong-s3cret" not in message and CLIENT_SECRET not in message
    assert info.value.status == 401
    assert emu.requests("GET") == []


def test_a_wrong_secret_does_not_reuse_a_token_fetched_with_the_right_one(
    emu: CdfEmulator, make_client: Callable[..., CdfClient]
) -> None:
    make_client().retrieve_workflow_version(WF, "1")
    with pytest.raises(CdfAuthError):
        make_client(client_secret=SecretStr("wrong-s3cret")).retrieve_workflow_version(WF, "1")


def test_token_endpoint_503_is_retried(emu: CdfEmulator, client: CdfClient, sleeps: Sleeps) -> None:
    emu.inject_fault(method="POST", path=TOKEN_PATH, status=503)
    assert client.retrieve_workflow_version(WF, "1") is not None
    assert [r["status"] for r in emu.requests("POST", TOKEN_PATH)] == [503, 200]
    assert len(sleeps) == 1


def test_project_in_path_is_the_settings_project(emu: CdfEmulator, client: CdfClient) -> None:
    client.retrieve_workflow_version(WF, "1")
    assert emu.requests("GET")[0]["path"] == f"/api/v1/projects/{PROJECT}/workflows/{WF}/versions/1"


def test_token_endpoint_429_waits_as_retry_after_says_then_the_token_works(
    emu: CdfEmulator, client: CdfClient, sleeps: Sleeps
) -> None:
    emu.inject_fault(method="POST", path=TOKEN_PATH, status=429, retry_after=2)
    assert client.retrieve_workflow_version(WF, "1") is not None
    assert [r["status"] for r in emu.requests("POST", TOKEN_PATH)] == [429, 200]
    assert sleeps == [2.0]  # Retry-After, not the default backoff (at most 0.5 s before the first retry)
    assert [r["status"] for r in emu.requests("GET")] == [200]
