"""The lifecycle of a WorkflowTrigger: upsert on create and update, read on refresh, delete on destroy.

Only a change of `external_id` (or of the project or URL) replaces a trigger; its rule, target version,
input, metadata and credentials are upserted in place, as CDF allows. Every upsert needs a fresh session, so
every update binds the credentials again. CDF never returns a trigger's credentials: state keeps a keyed
hash of the credentials the session is made with (`client_credentials`, else the connection's own client),
so that a rotated secret or another client is noticed.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from pulumi.dynamic import CheckResult, DiffResult

from pulumi_cdf_workflows.cdf import CdfClient, CdfClientCredentials, ConnectionSettings
from pulumi_cdf_workflows.cdf.models import CdfWorkflowTrigger
from pulumi_cdf_workflows.deployed import UpsertProvider
from pulumi_cdf_workflows.inputs import contains_unknown, restore_integers
from pulumi_cdf_workflows.lifecycle import ProviderError, fingerprint_matches, fingerprints
from pulumi_cdf_workflows.schedules import TriggerArgs, describe_schedule, rule_problems, validate_trigger

TRIGGER_OUTPUTS = (
    "is_paused",
    "schedule",
    "next_fire_time",
    "created_time",
    "last_updated_time",
    "credentials_fingerprint",
    "project",
    "base_url",
)
# The fingerprinted name of the credentials a session is made with when no client_credentials are given.
SESSION_CREDENTIALS = "session_credentials"


def _outputs(found: CdfWorkflowTrigger) -> dict[str, Any]:
    return {
        "external_id": found.external_id,
        "trigger_rule": found.trigger_rule,
        "workflow_external_id": found.workflow_external_id,
        "workflow_version": found.workflow_version,
        "input": found.input or None,
        "metadata": found.metadata or None,
        "is_paused": bool(found.is_paused),
        "created_time": found.created_time,
        "last_updated_time": found.last_updated_time,
        # The first firing after the trigger's last change, by CDF's clock: a refresh reads the same value
        # (no drift after a firing), and the emulator's moved clock counts.
        **describe_schedule(found.trigger_rule, _as_datetime(found.last_updated_time)),
    }


def _as_datetime(epoch_ms: int | None) -> datetime | None:
    return None if epoch_ms is None else datetime.fromtimestamp(epoch_ms / 1000, tz=timezone.utc)


def session_credentials(props: Mapping[str, Any], settings: ConnectionSettings) -> Any:
    """What the trigger's session is made with: its client_credentials, else the connection's own OAuth client,
    else token exchange (which follows whoever deploys, so only the kind is kept)."""
    if props.get("client_credentials"):
        return None  # fingerprinted under its own name
    if settings.uses_oauth and settings.client_secret is not None:
        return {"client_id": settings.client_id, "client_secret": settings.client_secret.get_secret_value()}
    return {"token_exchange": True}


class WorkflowTriggerProvider(UpsertProvider):
    """The dynamic provider behind :class:`pulumi_cdf_workflows.WorkflowTrigger`."""

    kind = "workflow trigger"
    secret_inputs = ("client_credentials", "connection")
    replace_properties = ("external_id",)
    update_properties = ("trigger_rule", "workflow_external_id", "workflow_version", "input", "metadata")
    identifier_properties = ("external_id", "workflow_external_id", "workflow_version")
    upsert_identical = True  # CDF never shows a trigger's credentials: taking one over binds this stack's

    def _validate(self, props: Mapping[str, Any]) -> tuple[TriggerArgs | None, list[tuple[str, str]]]:
        return validate_trigger(props)

    def _resource_id(self, props: Mapping[str, Any]) -> str:
        return str(props["external_id"])

    def _comparable(self, prop: str, value: Any) -> Any:
        if prop == "trigger_rule" and isinstance(value, Mapping) and value.get("triggerType") == "schedule":
            return {"timezone": "UTC", **value}  # CDF fills the time zone in
        return value

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        result = super().check(olds, news)
        rule = result.inputs.get("trigger_rule")
        if not result.failures and isinstance(rule, Mapping) and not contains_unknown(rule) and not rule_problems(rule):
            # Known without asking CDF, so a preview shows it (the first firing needs CDF's clock: not here).
            result.inputs["schedule"] = describe_schedule(rule)["schedule"]
        return result

    def diff(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        result = super().diff(id_, olds, news)
        if not result.changes and self._credentials_changed(olds, news):
            return DiffResult(changes=True, replaces=result.replaces, delete_before_replace=False)
        return result

    def _credentials_changed(self, olds: Mapping[str, Any], news: Mapping[str, Any]) -> bool:
        stored = olds.get("credentials_fingerprint")
        if not isinstance(stored, Mapping):
            return False
        value = news.get("client_credentials")
        if contains_unknown(value) or not fingerprint_matches(stored, "client_credentials", value):
            return True
        if SESSION_CREDENTIALS not in stored and "client_credentials" not in stored:
            return False  # state from before the connection's credentials were kept: compare from the next deploy
        connection = news.get("connection")
        if contains_unknown(connection):
            return True
        try:
            settings = self._settings(connection)
        except (ProviderError, ValueError):
            return False  # check reports it
        return not fingerprint_matches(stored, SESSION_CREDENTIALS, session_credentials(news, settings))

    def _rebind(self, olds: Mapping[str, Any], news: Mapping[str, Any], settings: ConnectionSettings) -> bool:
        return self._credentials_changed(olds, news)

    def _upsert(self, client: CdfClient, args: TriggerArgs) -> dict[str, Any]:
        credentials = None
        if args.client_credentials is not None:
            credentials = CdfClientCredentials(
                client_id=args.client_credentials.client_id, client_secret=args.client_credentials.client_secret
            )
        found = client.upsert_trigger(
            args.external_id,
            restore_integers(args.trigger_rule),
            args.workflow_external_id,
            args.workflow_version,
            input=restore_integers(args.input) if args.input is not None else None,
            metadata=args.metadata,
            client_credentials=credentials,
        )
        return _outputs(found)

    def _extra_outputs(self, props: Mapping[str, Any], settings: ConnectionSettings) -> dict[str, Any]:
        values = {"client_credentials": props.get("client_credentials")}
        values[SESSION_CREDENTIALS] = session_credentials(props, settings)
        return {"credentials_fingerprint": fingerprints(values, ["client_credentials", SESSION_CREDENTIALS])}

    def _retrieve(self, client: CdfClient, id_: str, props: Mapping[str, Any]) -> dict[str, Any] | None:
        found = client.retrieve_trigger(id_)
        return None if found is None else _outputs(found)

    def _delete(self, client: CdfClient, id_: str, props: Mapping[str, Any]) -> None:
        client.delete_trigger(id_)
