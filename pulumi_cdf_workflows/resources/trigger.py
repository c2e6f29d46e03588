"""WorkflowTrigger: a trigger that runs a workflow version, as a resource. Its arguments and outputs, its
lifecycle, and its Pulumi class.

Only a change of `external_id` (or of the project or URL) replaces a trigger; its rule, target version,
input, metadata and credentials are upserted in place, as CDF allows. Every upsert needs a fresh session, so
every update binds the credentials again. CDF never returns a trigger's credentials: state keeps a keyed
hash of the credentials the session is made with (`client_credentials`, else the connection's own client),
so that a rotated secret or another client is noticed.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from pulumi import Input, Output, ResourceOptions
from pulumi.dynamic import CheckResult, DiffResult
from pydantic import Field, field_validator

from pulumi_cdf_workflows.cdf.models import CdfWorkflowTrigger
from pulumi_cdf_workflows.cdf.settings import ConnectionSettings
from pulumi_cdf_workflows.lifecycle.connection import (
    CdfConnection,
    ClientCredentials,
    connection_props,
    credentials_props,
)
from pulumi_cdf_workflows.lifecycle.deployed import DeployedArgs, DeployedOutputs, UpsertProvider
from pulumi_cdf_workflows.lifecycle.properties import OnChange, prop
from pulumi_cdf_workflows.lifecycle.provider import (
    ProviderError,
    cdf_credentials,
    fingerprint_matches,
    fingerprints,
    fingerprints_changed,
)
from pulumi_cdf_workflows.lifecycle.resource import DeployedResource
from pulumi_cdf_workflows.resources.workflow_version import WorkflowVersion
from pulumi_cdf_workflows.validation.fields import (
    ClientCredentialsArgs,
    ExecutionInput,
    Identifier,
    Metadata,
    contains_unknown,
    refuse_problems,
    restore_integers,
)
from pulumi_cdf_workflows.validation.trigger_rules import describe_schedule, rule_problems

if TYPE_CHECKING:
    from pulumi_cdf_workflows.cdf.client import CdfClient


class WorkflowTriggerArgs(DeployedArgs):
    """A trigger's arguments: its rule, the version it runs, with what input and as whom."""

    external_id: Identifier = prop(on_change=OnChange.REPLACE, description="the trigger's external id")
    trigger_rule: dict[str, Any] = prop(
        on_change=OnChange.UPDATE, structured=True, description="CDF's rule: schedule, dataModeling or recordStream"
    )
    workflow_external_id: Identifier = prop(on_change=OnChange.UPDATE, description="the workflow it runs")
    workflow_version: Identifier = prop(on_change=OnChange.UPDATE, description="the version it runs")
    input: ExecutionInput = prop(
        None, on_change=OnChange.UPDATE, description="input of the runs it starts (CDF adds version); <= 100 KB"
    )
    metadata: Metadata = prop(None, on_change=OnChange.UPDATE, description="copied onto its runs; <= 10 pairs")
    client_credentials: ClientCredentialsArgs | None = prop(
        None, on_change=OnChange.UPDATE, secret=True, description="the credentials it runs with"
    )

    @field_validator("trigger_rule", mode="before")
    @classmethod
    def _rule(cls, value: Any) -> Any:
        refuse_problems(rule_problems(value))
        return value


class WorkflowTriggerOutputs(DeployedOutputs):
    """What a WorkflowTrigger reports besides its arguments."""

    is_paused: bool | None = Field(None, description="paused in CDF (pause and resume are not managed here)")
    schedule: str | None = Field(None, description="when it fires, in words; known already in a preview")
    next_fire_time: str | None = Field(
        None, description="schedules: the first firing after its last change in CDF, by CDF's clock"
    )
    credentials_fingerprint: dict[str, str] | None = Field(
        None, description="keyed hashes of the credentials its session is made with, to notice a change"
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
    """The dynamic provider behind :class:`WorkflowTrigger`."""

    kind = "workflow trigger"
    args_model = WorkflowTriggerArgs
    outputs_model = WorkflowTriggerOutputs
    identifier_properties = ("external_id", "workflow_external_id", "workflow_version")
    upsert_identical = True  # CDF never shows a trigger's credentials: taking one over binds this stack's

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
        if fingerprints_changed(stored, news, ["client_credentials"]):
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

    def _upsert(self, client: CdfClient, args: WorkflowTriggerArgs) -> dict[str, Any]:
        credentials = cdf_credentials(args.client_credentials)
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


class WorkflowTrigger(DeployedResource, module="cdf", name="WorkflowTrigger"):
    """A trigger that runs a workflow version on a schedule, on data-modeling changes or on records in a stream.

    `trigger_rule` is CDF's: `{"triggerType": "schedule", "cronExpression": "0 2 * * 1", "timezone": "Europe/Oslo"}`.
    The trigger runs as `client_credentials` (always secret), else as the connection's own client. CDF never
    returns a trigger's credentials, and they are never an output: state keeps a keyed hash of them.
    """

    external_id: Output[str]
    trigger_rule: Output[dict[str, Any]]
    workflow_external_id: Output[str]
    workflow_version: Output[str]
    input: Output[dict[str, Any] | None]
    metadata: Output[dict[str, str] | None]
    is_paused: Output[bool]
    schedule: Output[str | None]
    """The schedule in words, e.g. "At 02:00, only on Monday (Europe/Oslo)"."""
    next_fire_time: Output[str | None]
    """Schedules: the first firing after its last change in CDF, by CDF's clock, e.g. "Mon 30 Nov 2026 02:00
    Europe/Oslo"; a refresh reads the same value until the trigger changes."""
    credentials_fingerprint: Output[dict[str, str]]

    def __init__(
        self,
        resource_name: str,
        *,
        external_id: Input[str],
        trigger_rule: Input[Mapping[str, Any]],
        workflow_external_id: Input[str] | None = None,
        workflow_version: Input[str] | None = None,
        version: WorkflowVersion | None = None,
        input: Input[Mapping[str, Any]] | None = None,
        metadata: Input[Mapping[str, Input[str]]] | None = None,
        client_credentials: ClientCredentials | Mapping[str, Any] | None = None,
        adopt: Input[bool] | None = None,
        connection: CdfConnection | Mapping[str, Any] | None = None,
        opts: ResourceOptions | None = None,
    ) -> None:
        """:param external_id: the trigger's external id.
        :param trigger_rule: CDF's rule: schedule (`cronExpression`, `timezone`), dataModeling or recordStream.
        :param version: a WorkflowVersion of this stack, instead of workflow_external_id and workflow_version.
        :param input: input of the executions it starts (CDF adds `{"version": ...}`); at most 100 KB.
        :param metadata: copied onto the executions it starts; at most 10 pairs.
        :param client_credentials: the credentials the trigger runs with.
        :param adopt: take over a trigger that already exists in CDF and differs from this program, overwriting
            it. Without it, create fails and says what differs.
        :param connection: per-resource CDF connection; overrides stack config and environment.
        """
        if version is not None:
            workflow_external_id, workflow_version = version.workflow_external_id, version.version
        if workflow_external_id is None or workflow_version is None:
            raise TypeError("WorkflowTrigger needs version, or workflow_external_id and workflow_version")
        props: dict[str, Any] = {
            "external_id": external_id,
            "trigger_rule": trigger_rule,
            "workflow_external_id": workflow_external_id,
            "workflow_version": workflow_version,
            "input": input,
            "metadata": metadata,
            "client_credentials": credentials_props(client_credentials),
            "adopt": adopt,
            "connection": connection_props(connection),
        }
        super().__init__(WorkflowTriggerProvider, resource_name, props, opts)

    @staticmethod
    def get(
        resource_name: str,
        external_id: str,
        connection: CdfConnection | Mapping[str, Any] | None = None,
        opts: ResourceOptions | None = None,
    ) -> WorkflowTrigger:
        """Look up a trigger deployed elsewhere (the Toolkit, another stack). `destroy` never deletes it."""
        return WorkflowTrigger(
            resource_name,
            external_id=external_id,
            trigger_rule={},
            workflow_external_id="",
            workflow_version="",
            connection=connection,
            opts=ResourceOptions.merge(opts, ResourceOptions(id=external_id)),
        )
