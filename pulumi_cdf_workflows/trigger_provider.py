"""The lifecycle of a WorkflowTrigger: upsert on create and update, read on refresh, delete on destroy.

Only a change of `external_id` (or of the project or URL) replaces a trigger; its rule, target version,
input, metadata and credentials are upserted in place, as CDF allows. Every upsert needs a fresh session, so
every update binds the credentials again. CDF never returns a trigger's credentials: state keeps a keyed
hash of them, so that a rotated secret is noticed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi.dynamic import DiffResult

from pulumi_cdf_workflows.cdf import CdfClient, CdfClientCredentials
from pulumi_cdf_workflows.cdf.models import CdfWorkflowTrigger
from pulumi_cdf_workflows.inputs import contains_unknown, restore_integers
from pulumi_cdf_workflows.lifecycle import UpsertProvider, fingerprint_matches, fingerprints
from pulumi_cdf_workflows.schedules import TriggerArgs, describe_schedule, validate_trigger

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
        **describe_schedule(found.trigger_rule),
    }


class WorkflowTriggerProvider(UpsertProvider):
    """The dynamic provider behind :class:`pulumi_cdf_workflows.WorkflowTrigger`."""

    kind = "workflow trigger"
    secret_inputs = ("client_credentials", "connection")
    replace_properties = ("external_id",)
    update_properties = ("trigger_rule", "workflow_external_id", "workflow_version", "input", "metadata")

    def _validate(self, props: Mapping[str, Any]) -> tuple[TriggerArgs | None, list[tuple[str, str]]]:
        return validate_trigger(props)

    def _resource_id(self, props: Mapping[str, Any]) -> str:
        return str(props["external_id"])

    def _comparable(self, prop: str, value: Any) -> Any:
        if prop == "trigger_rule" and isinstance(value, Mapping) and value.get("triggerType") == "schedule":
            return {"timezone": "UTC", **value}  # CDF fills the time zone in
        if prop == "workflow_version" and isinstance(value, float) and value.is_integer():
            return str(int(value))
        return value

    def diff(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        result = super().diff(id_, olds, news)
        stored = olds.get("credentials_fingerprint")
        value = news.get("client_credentials")
        if isinstance(stored, Mapping) and (
            contains_unknown(value) or not fingerprint_matches(stored, "client_credentials", value)
        ):
            return DiffResult(changes=True, replaces=result.replaces, delete_before_replace=False)
        return result

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

    def _deploy(self, props: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
        id_, outs = super()._deploy(props)
        outs["credentials_fingerprint"] = fingerprints(props, ["client_credentials"])
        return id_, outs

    def _retrieve(self, client: CdfClient, id_: str, props: Mapping[str, Any]) -> dict[str, Any] | None:
        found = client.retrieve_trigger(id_)
        return None if found is None else _outputs(found)

    def _delete(self, client: CdfClient, id_: str, props: Mapping[str, Any]) -> None:
        client.delete_trigger(id_)
