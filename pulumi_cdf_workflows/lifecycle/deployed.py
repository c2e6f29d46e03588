"""The lifecycle every deployed resource shares (Workflow, WorkflowVersion, WorkflowTrigger): one upsert creates
or updates the object in CDF, a refresh reads it, a delete deletes it.

What makes it safe with a production project:
- check normalises identifiers (`version=1` is "1") and checks locally; a preview writes nothing.
- create reads first. An object that already exists and matches the program is taken into the stack as it is
  (so the `up` after an interrupted one completes); one that differs is never overwritten unless the resource
  says `adopt=True`: create fails, naming what differs and the ways out.
- every resource that takes charge of an object gets a random `claim_id`. A delete never removes an object
  that another resource of the same run has declared or taken charge of since: a rename without an alias, or
  a replacement whose new and old CDF identity are the same, leaves the object in CDF.
"""

from __future__ import annotations

import contextlib
import secrets
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pulumi.dynamic import CheckFailure, CheckResult, CreateResult, DiffResult, ReadResult, UpdateResult
from pydantic import BaseModel, ConfigDict, Field

from pulumi_cdf_workflows.cdf.errors import CdfError
from pulumi_cdf_workflows.cdf.settings import ConnectionSettings
from pulumi_cdf_workflows.lifecycle.permissions import DataSet, Principal, explain_403
from pulumi_cdf_workflows.lifecycle.properties import OnChange, defaults, prop
from pulumi_cdf_workflows.lifecycle.provider import CdfResourceProvider, ProviderError, client_for, report, same
from pulumi_cdf_workflows.validation.fields import ConnectionArgs, identifier, is_unknown, validated

if TYPE_CHECKING:
    from pulumi_cdf_workflows.cdf.client import CdfClient


# The `adopt` argument every deployed resource has.
ADOPT = "adopt"
ADOPTED = "take over an object that already exists in CDF and differs from this program, overwriting it"


class DeployedArgs(BaseModel):
    """What every deployed resource's arguments end with: `adopt` and the connection."""

    model_config = ConfigDict(extra="ignore", hide_input_in_errors=True)

    adopt: bool = prop(False, on_change=OnChange.STORE, description=ADOPTED)
    connection: ConnectionArgs | None = prop(
        None, on_change=OnChange.STORE, secret=True, description="per-resource CDF connection"
    )


class DeployedOutputs(BaseModel):
    """What every deployed resource reports besides its arguments."""

    created_time: int | None = Field(None, description="epoch milliseconds")
    last_updated_time: int | None = Field(None, description="epoch milliseconds")
    project: str | None = Field(None, description="the CDF project it lives in")
    base_url: str | None = Field(None, description="the CDF base URL it lives at")
    claim_id: str | None = Field(
        None, description="a random id this resource got when it took charge of the object in CDF"
    )


_Key = tuple[str, str, str, str]  # base URL, project, kind, CDF id
_claims: dict[_Key, str] = {}  # who took charge of each object last, in this process (this `pulumi up`)
_declared: dict[_Key, set[str]] = {}  # which resources of this program name each object, in this process
_registry_lock = threading.Lock()


def _key(settings: ConnectionSettings, kind: str, id_: str) -> _Key:
    return (str(settings.base_url), settings.project, kind, id_)


class UpsertProvider(CdfResourceProvider):
    """The lifecycle of a resource that CDF creates and updates with one upsert.

    check validates without calling CDF; diff replaces when an identity property or the place it lives
    (project, base URL set by the program or stack config) changes, updates in place otherwise; create reads,
    then adopts or upserts; refresh reads where it lives, and one CDF no longer has leaves the state (the next
    `up` creates it again); delete deletes, and "already gone" is fine.
    """

    kind = "resource"
    # Identifiers that the engine may send as numbers (version=1 arrives as 1.0): check makes them strings.
    identifier_properties: tuple[str, ...] = ()
    # Whether taking over an identical object still upserts it (a trigger must bind this stack's session).
    upsert_identical = False

    # --- what each resource says -------------------------------------------------------------------------
    def _validate(self, props: Mapping[str, Any]) -> tuple[Any, list[tuple[str, str]]]:
        return validated(self.args_model, props)

    def _resource_id(self, props: Mapping[str, Any]) -> str:
        raise NotImplementedError

    def _upsert(self, client: CdfClient, args: Any) -> dict[str, Any]:
        """Create or update in CDF; returns the outputs CDF's reply gives."""
        raise NotImplementedError

    def _retrieve(self, client: CdfClient, id_: str, props: Mapping[str, Any]) -> dict[str, Any] | None:
        raise NotImplementedError

    def _delete(self, client: CdfClient, id_: str, props: Mapping[str, Any]) -> None:
        raise NotImplementedError

    def _comparable(self, prop: str, value: Any) -> Any:
        """The value as CDF would store it, for diff (e.g. a definition with its defaults filled)."""
        return value

    def _extra_outputs(self, props: Mapping[str, Any], settings: ConnectionSettings) -> dict[str, Any]:
        return {}

    def _describe_difference(self, prop: str, in_cdf: Any, in_program: Any) -> str:
        def shown(value: Any) -> str:
            return "not set" if value in (None, {}, []) else repr(value)

        return f"{prop} is {shown(in_cdf)} in CDF and {shown(in_program)} in this program"

    # --- check -------------------------------------------------------------------------------------------
    def _normalized(self, news: Mapping[str, Any]) -> dict[str, Any]:
        """The inputs as stored: identifiers as strings, so `version=1` and the "1" CDF returns are the same."""
        result = dict(news)
        for name in self.identifier_properties:
            value = result.get(name)
            if value is not None and not is_unknown(value):
                with contextlib.suppress(ValueError):  # validation reports it
                    result[name] = identifier(name, value)
        for name, default in defaults(self.args_model, self.setting_properties).items():
            if result.get(name) is None:
                result[name] = default
        return result

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        inputs = self._normalized(news)
        args, problems = self._validate(inputs)
        failures = [CheckFailure(prop, reason) for prop, reason in problems]
        settings = self._checked_settings(inputs, failures)
        if settings is not None and args is not None:
            id_ = self._resource_id(inputs)
            self._declare(_key(settings, self.kind, id_))
            operation = "create" if not olds else "update" if self._writes(olds, inputs) else None
            if operation is not None:
                failures += self._permission_failures(
                    settings, inputs, self.kind, operation, id_, lambda who: self._data_set(settings, args, who),
                    getattr(args, "client_credentials", None),  # a trigger's session is made with them
                )  # fmt: skip
        return CheckResult(inputs, failures)

    def _writes(self, olds: Mapping[str, Any], news: Mapping[str, Any]) -> bool:
        """Whether an `up` would write this resource to CDF (an update of something CDF keeps)."""
        return any(self._changed(p, olds, news) for p in (*self.replace_properties, *self.update_properties))

    def _data_set(self, settings: ConnectionSettings, args: Any, principal: Principal) -> DataSet:
        """The data set the resource's workflow is in, for the permission check."""
        return self._workflow_data_set(settings, args.workflow_external_id, principal)

    def _declare(self, key: _Key) -> None:
        if self.resource:
            with _registry_lock:
                _declared.setdefault(key, set()).add(self.resource)

    # --- diff --------------------------------------------------------------------------------------------
    def _changed(self, prop: str, olds: Mapping[str, Any], news: Mapping[str, Any]) -> bool:
        return not same(self._comparable(prop, olds.get(prop)), self._comparable(prop, news.get(prop)))

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        replaces = [p for p in self.replace_properties if self._changed(p, olds, news)]
        replaces += self._target_changes(olds, news.get("connection"), f"deploys the {self.kind} there")
        updates = [p for p in self.update_properties if self._changed(p, olds, news)]
        updates += self._settings_changed(olds, news)
        return DiffResult(changes=bool(replaces or updates), replaces=replaces, delete_before_replace=False)

    def _settings_changed(self, olds: Mapping[str, Any], news: Mapping[str, Any]) -> list[str]:
        known = defaults(self.args_model, self.setting_properties)
        return [p for p in self.setting_properties if not same(olds.get(p, known[p]), news.get(p, known[p]))]

    # --- create and update -------------------------------------------------------------------------------
    def _args(self, props: Mapping[str, Any]) -> Any:
        args, problems = self._validate(props)
        if problems or args is None:
            raise ProviderError("; ".join(f"{p}: {r}" if p else r for p, r in problems) or "inputs are still unknown")
        return args

    def _outputs(
        self, props: Mapping[str, Any], from_cdf: Mapping[str, Any], settings: ConnectionSettings
    ) -> dict[str, Any]:
        outs = self._public(props)
        for name, default in defaults(self.args_model, self.setting_properties).items():
            outs[name] = default if props.get(name) is None else props[name]
        outs.update(from_cdf, project=settings.project, base_url=settings.base_url)
        outs.update(self._extra_outputs(props, settings))
        return outs

    def create(self, props: dict[str, Any]) -> CreateResult:
        props = self._normalized(props)
        args = self._args(props)
        settings = self._settings(props.get("connection"))
        client = client_for(settings)
        id_ = self._resource_id(props)
        where = f"CDF project '{settings.project}'"
        try:
            found = self._retrieve(client, id_, props)
        except CdfError as exc:
            problem = f"could not read whether it exists: {exc}"
            raise ProviderError(
                f"Could not deploy {self.kind} {id_}: {problem}{explain_403(exc, self.kind, 'read')}"
            ) from None
        existed = found is not None
        differences = [] if found is None else self._differences(found, props)
        if differences and not props.get(ADOPT):
            raise ProviderError(self._conflict(id_, where, differences))
        if found is None or differences or self.upsert_identical:
            found = self._deploy(client, args, id_)
        if existed:
            taken = "took over and overwrote (adopt=True)" if differences else "took into the stack"
            report(self._label(props), f"{taken} {self.kind} {id_}, which already existed in {where}")
        claim = secrets.token_hex(8)
        with _registry_lock:
            _claims[_key(settings, self.kind, id_)] = claim
        outs = self._outputs(props, found, settings)
        outs["claim_id"] = claim
        return CreateResult(id_, outs)

    def _deploy(self, client: CdfClient, args: Any, id_: str, operation: str = "create") -> dict[str, Any]:
        try:
            return self._upsert(client, args)
        except CdfError as exc:
            raise ProviderError(
                f"Could not deploy {self.kind} {id_}: {exc}{explain_403(exc, self.kind, operation)}"
            ) from None

    def _differences(self, found: Mapping[str, Any], props: Mapping[str, Any]) -> list[str]:
        return [
            self._describe_difference(prop, found.get(prop), props.get(prop))
            for prop in self.update_properties
            if self._changed(prop, found, props)
        ]

    def _conflict(self, id_: str, where: str, differences: list[str]) -> str:
        cls = type(self).__name__.removesuffix("Provider")
        return (
            f"{self.kind} {id_} already exists in {where} and differs from this program: {'; '.join(differences)}. "
            "Nothing was changed. If this resource was renamed or moved into a component, give it "
            "`aliases` (ResourceOptions) naming its old name, so Pulumi knows it is the same resource; to only "
            f"read the existing one, use `{cls}.get(...)`; to take it over and overwrite it with this program, "
            "set `adopt=True`."
        )

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        news = self._normalized(news)
        args = self._args(news)
        settings = self._settings(news.get("connection"))
        id_ = self._resource_id(news)
        if any(self._changed(p, olds, news) for p in self.update_properties) or self._rebind(olds, news, settings):
            from_cdf = self._deploy(client_for(settings), args, id_, "update")
        else:  # only settings changed: nothing to write
            from_cdf = {}
        outs = {k: v for k, v in olds.items() if k != "__provider"}
        outs.update(self._outputs(news, from_cdf, settings))
        return UpdateResult(outs)

    def _rebind(self, olds: Mapping[str, Any], news: Mapping[str, Any], settings: ConnectionSettings) -> bool:
        """Whether an update must write although no CDF property changed (a trigger's rotated credentials)."""
        return False

    # --- read --------------------------------------------------------------------------------------------
    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        settings = self._settings_where_it_lives(props)
        try:
            found = self._retrieve(client_for(settings), id_, props)
        except CdfError as exc:
            where = f"CDF project '{settings.project}'"
            raise ProviderError(
                f"Could not read {self.kind} {id_} in {where}: {exc}{explain_403(exc, self.kind, 'read')}"
            ) from None
        if found is None:
            if not props.get("project"):
                raise ProviderError(f"{self.kind} {id_} does not exist in CDF project '{settings.project}'")
            return ReadResult(None, {})  # gone: the engine forgets it, and the next `up` creates it again
        outs = self._public(props)
        outs.update(found, project=settings.project, base_url=settings.base_url)
        return ReadResult(id_, outs)

    # --- delete ------------------------------------------------------------------------------------------
    def delete(self, id_: str, props: dict[str, Any]) -> None:
        settings = self._settings_where_it_lives(props)
        keeper = self._keeper(_key(settings, self.kind, id_), props)
        if keeper is not None:
            report(self._label(props), f"left {self.kind} {id_} in CDF: {keeper}")
            return
        try:
            self._delete(client_for(settings), id_, props)
        except CdfError as exc:
            raise ProviderError(
                f"Could not delete {self.kind} {id_}: {exc}{explain_403(exc, self.kind, 'delete')}"
            ) from None

    def _keeper(self, key: _Key, props: Mapping[str, Any]) -> str | None:
        """Why the object must stay, when another resource of this run has taken it over or names it."""
        with _registry_lock:
            claim = _claims.get(key)
            others = sorted(_declared.get(key, set()) - {getattr(self, "resource", None)})
        if others:
            return f"{', '.join(others)} of this program manages it now (a renamed resource, or two with one id)"
        if claim is not None and claim != props.get("claim_id"):
            return "another resource of this deployment took charge of it (a rename or a same-id replacement)"
        return None
