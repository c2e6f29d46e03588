"""Trigger upserts over HTTP against the emulator: each binds a fresh session's nonce, and a lost reply is
answered with a new session and the same upsert, never by resending a nonce CDF may already have bound."""

from __future__ import annotations

from typing import Any

import pytest

from pulumi_cdf_workflows.cdf import CdfClient
from pulumi_cdf_workflows.cdf.deploy import TRIGGER_UPSERT_ATTEMPTS
from pulumi_cdf_workflows.cdf.errors import CdfApiError, RequestOutcomeUnknownError
from pulumi_cdf_workflows.emulator import CdfEmulator

from .conftest import PROJECT, WF, Sleeps

TRIGGERS = r"/workflows/triggers$"
NIGHTLY = {"triggerType": "schedule", "cronExpression": "0 2 * * *", "timezone": "Europe/Oslo"}


def upsert(client: CdfClient) -> str:
    return client.upsert_trigger("nightly", NIGHTLY, WF, "1", input={"full": 1}).external_id


def session_statuses(emu: CdfEmulator) -> list[str]:
    return [s["status"] for s in emu.sessions(PROJECT)]


def test_an_upsert_binds_one_new_session(emu: CdfEmulator, client: CdfClient) -> None:
    assert upsert(client) == "nightly"
    assert session_statuses(emu) == ["ACTIVE"]
    assert upsert(client) == "nightly"  # an update binds a new session and lets go of the old one
    assert session_statuses(emu) == ["REVOKED", "ACTIVE"]


@pytest.mark.parametrize(
    "fault",
    [
        {"when": "after", "status": None, "drop": True},  # applied, then the reply was lost
        {"when": "after", "status": 503},  # applied, then a gateway error
        {"when": "before", "status": 503},  # not applied
    ],
)
def test_a_lost_reply_is_answered_with_a_new_session_never_the_same_nonce(
    emu: CdfEmulator, client: CdfClient, sleeps: Sleeps, fault: dict[str, Any]
) -> None:
    emu.inject_fault("POST", TRIGGERS, **fault)

    assert upsert(client) == "nightly"

    sent = [r["body"]["items"][0]["authentication"]["nonce"] for r in emu.requests("POST", TRIGGERS)]
    assert len(sent) == 2 and len(emu.requests("POST", r"/sessions$")) == 2
    assert [r["status"] for r in emu.requests("POST", TRIGGERS)][-1] == 200
    (trigger,) = emu.backend.list_triggers(PROJECT, None, None)[0]
    assert trigger.input == {"full": 1}
    assert session_statuses(emu).count("ACTIVE") == 1  # the trigger holds one session


def test_replies_lost_every_time_end_in_an_error_saying_the_upsert_may_have_been_applied(
    emu: CdfEmulator, client: CdfClient, sleeps: Sleeps
) -> None:
    emu.inject_fault("POST", TRIGGERS, times=TRIGGER_UPSERT_ATTEMPTS, when="after", status=503)

    with pytest.raises(RequestOutcomeUnknownError, match="may have been applied; upserting again is safe"):
        upsert(client)
    assert len(emu.requests("POST", TRIGGERS)) == TRIGGER_UPSERT_ATTEMPTS


def test_a_refused_upsert_is_not_sent_again(emu: CdfEmulator, client: CdfClient) -> None:
    with pytest.raises(CdfApiError, match="not found"):
        client.upsert_trigger("nightly", NIGHTLY, WF, "no-such-version")
    assert len(emu.requests("POST", TRIGGERS)) == 1
