"""Credential fingerprints in state: a changed nonce, client credentials or connection is noticed without
the state holding the secret, and state written by the previous release still compares correctly."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from pulumi_cdf_workflows.lifecycle.provider import fingerprint_matches as _fingerprint_matches
from pulumi_cdf_workflows.resources.execution.provider import CREDENTIAL_PROPERTIES, _fingerprints
from pulumi_cdf_workflows.validation.fields import canonical_json

NONCE = "nonce-Secret-0123456789abcdef"
CREDENTIALS = {"client_id": "runner", "client_secret": "client-Secret-0123456789abcdef"}
CONNECTION = {"project": "p", "token": "token-Secret-0123456789abcdef"}
GIVEN: dict[str, Any] = {"nonce": NONCE, "client_credentials": CREDENTIALS, "connection": CONNECTION}


def _legacy_fingerprints(props: dict[str, Any], salt: str = "0123456789abcdef0123456789abcdef") -> dict[str, Any]:
    """What 0.1.0 stored: no scheme, a PBKDF2 digest of every credential property, absent ones included."""
    stored: dict[str, Any] = {"salt": salt}
    for name in CREDENTIAL_PROPERTIES:
        digest = hashlib.pbkdf2_hmac("sha256", canonical_json(props.get(name)).encode(), salt.encode(), 20_000)
        stored[name] = digest.hex()[:32]
    return stored


@pytest.mark.parametrize("absent", [{"nonce": None}, {"client_credentials": {}}, {}], ids=["None", "{}", "missing"])
def test_an_absent_credential_gets_no_fingerprint(absent: dict[str, Any]) -> None:
    stored = _fingerprints({"workflow_external_id": "wf", "version": "1", **absent})
    assert set(stored) == {"scheme", "salt"}


@pytest.mark.parametrize("name", ["nonce", "client_credentials"])
def test_a_given_credential_gets_a_fingerprint(name: str) -> None:
    stored = _fingerprints({name: GIVEN[name]})
    assert set(stored) == {"scheme", "salt", name}


@pytest.mark.parametrize("name", CREDENTIAL_PROPERTIES)
def test_the_same_credential_matches_and_a_changed_one_does_not(name: str) -> None:
    stored = _fingerprints(GIVEN)
    assert _fingerprint_matches(stored, name, GIVEN[name])
    changed: Any = NONCE + "x" if name == "nonce" else {**GIVEN[name], "extra": "x"}
    assert not _fingerprint_matches(stored, name, changed)


@pytest.mark.parametrize("absent", [None, {}])
def test_absent_matches_absent_but_not_a_given_credential(absent: Any) -> None:
    stored = _fingerprints({})
    assert _fingerprint_matches(stored, "nonce", absent)
    assert _fingerprint_matches(stored, "client_credentials", absent)
    assert not _fingerprint_matches(stored, "nonce", NONCE)
    assert not _fingerprint_matches(stored, "client_credentials", CREDENTIALS)
    # And the other way round: a credential that was given and is now left out is a change.
    assert not _fingerprint_matches(_fingerprints(GIVEN), "nonce", absent)


def test_key_order_of_a_credential_does_not_matter() -> None:
    stored = _fingerprints({"client_credentials": {"client_id": "runner", "client_secret": "s3cret"}})
    assert _fingerprint_matches(stored, "client_credentials", {"client_secret": "s3cret", "client_id": "runner"})


@pytest.mark.parametrize("name", CREDENTIAL_PROPERTIES)
def test_state_from_the_previous_release_still_compares(name: str) -> None:
    stored = _legacy_fingerprints(GIVEN)
    assert "scheme" not in stored
    assert _fingerprint_matches(stored, name, GIVEN[name])
    changed: Any = NONCE + "x" if name == "nonce" else {**GIVEN[name], "extra": "x"}
    assert not _fingerprint_matches(stored, name, changed)
    assert not _fingerprint_matches(stored, name, None)


@pytest.mark.parametrize("name", CREDENTIAL_PROPERTIES)
def test_an_absent_credential_in_state_from_the_previous_release_still_matches_absent(name: str) -> None:
    stored = _legacy_fingerprints({})
    assert _fingerprint_matches(stored, name, None)
    assert not _fingerprint_matches(stored, name, GIVEN[name])


def test_a_fingerprint_does_not_contain_the_secret() -> None:
    stored = _fingerprints(GIVEN)
    text = repr(stored)
    for secret in (NONCE, CREDENTIALS["client_secret"], CONNECTION["token"]):
        assert secret not in text
        assert secret[:12] not in text
