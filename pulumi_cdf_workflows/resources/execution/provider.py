"""The lifecycle of a WorkflowExecution: check, diff, create, read, update and delete.

What all providers share (configuration, connection, clients, progress, errors) is in `lifecycle/`; which
properties replace, are stored or are secret, and their defaults, come from `args.py`.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    CreateResult,
    DiffResult,
    ReadResult,
    UpdateResult,
)

from pulumi_cdf_workflows.cdf.errors import (
    CdfAuthError,
    CdfError,
    CdfNotFoundError,
    ExecutionMayHaveStartedError,
)
from pulumi_cdf_workflows.cdf.models import CdfWorkflowExecution, CdfWorkflowExecutionDetailed
from pulumi_cdf_workflows.cdf.settings import ConnectionSettings
from pulumi_cdf_workflows.lifecycle import plugin_host
from pulumi_cdf_workflows.lifecycle.connection import validate_on_preview
from pulumi_cdf_workflows.lifecycle.permissions import explain_403
from pulumi_cdf_workflows.lifecycle.plugin_host import Interruption
from pulumi_cdf_workflows.lifecycle.properties import OnChange, arguments, defaults, secret_arguments
from pulumi_cdf_workflows.lifecycle.provider import (
    CdfResourceProvider,
    ProviderError,
    cdf_credentials,
    client_for,
    fingerprints,
    fingerprints_changed,
    public_connection,
    report,
    same,
)
from pulumi_cdf_workflows.resources.execution.args import ExecutionArgs, ExecutionOutputs
from pulumi_cdf_workflows.resources.execution.cancelling import cancel_if_running
from pulumi_cdf_workflows.resources.execution.recovery import (
    RUN_MARKER_KEY,
    find_in_flight,
    new_marker,
    recover_lost_run,
    run_identity,
)
from pulumi_cdf_workflows.resources.execution.waiting import (
    ExecutionNotCompleted,
    ExecutionWaiter,
    WaitOutcome,
    compact_tasks,
)
from pulumi_cdf_workflows.validation.fields import (
    MAX_METADATA_PAIRS,
    identifier,
    is_unknown,
    restore_integers,
    validated,
)

if TYPE_CHECKING:
    from pulumi_cdf_workflows.cdf.client import CdfClient


# A change to any of these means a different execution: the workflow runs again (replacement).
REPLACE_PROPERTIES = arguments(ExecutionArgs, OnChange.REPLACE)
# Secret-bearing inputs: compared through salted fingerprints because their values never reach state outputs.
CREDENTIAL_PROPERTIES = secret_arguments(ExecutionArgs)
# Settings that only affect how the provider behaves; stored in place, nothing runs.
SETTING_PROPERTIES = tuple(p for p in arguments(ExecutionArgs, OnChange.STORE) if p not in CREDENTIAL_PROPERTIES)
SETTING_DEFAULTS = defaults(ExecutionArgs, SETTING_PROPERTIES)
# Set in the outputs of a create whose wait ended badly, when the stack records it (the provider plugin does).
CREATE_FAILED = "create_failed"


def _replaced(olds: Mapping[str, Any], news: Mapping[str, Any]) -> list[str]:
    """The inputs whose change runs the workflow again."""
    return [p for p in REPLACE_PROPERTIES if not same(olds.get(p), news.get(p))]


class WorkflowExecutionError(ProviderError):
    """A failure of a WorkflowExecution the user can act on (shown without a traceback)."""


_known_versions: set[tuple[str, str, str, str]] = set()


def _fingerprints(props: Mapping[str, Any]) -> dict[str, str]:
    return fingerprints(props, CREDENTIAL_PROPERTIES)


def _describe_run(args: ExecutionArgs, settings: ConnectionSettings) -> str:
    return f"workflow '{args.workflow_external_id}' version '{args.version}' in CDF project '{settings.project}'"


def _execution_outputs(execution: CdfWorkflowExecution) -> dict[str, Any]:
    tasks = []
    if isinstance(execution, CdfWorkflowExecutionDetailed):
        tasks = compact_tasks(execution.executed_tasks)
    return {
        "execution_id": execution.id,
        "status": execution.status,
        "engine_execution_id": execution.engine_execution_id,
        "created_time": execution.created_time,
        "start_time": execution.start_time,
        "end_time": execution.end_time,
        "reason_for_incompletion": execution.reason_for_incompletion,
        "executed_tasks": tasks,
        "found_in_cdf": True,
    }


def normalized_inputs(news: Mapping[str, Any]) -> dict[str, Any]:
    """The inputs as check returns them, and as refresh resets them: identifiers as the strings CDF uses
    (`version=1` is "1") and settings with their defaults, so that the next diff (and the row `pulumi preview`
    shows) names only what really changed."""
    inputs = dict(news)
    for name in ("workflow_external_id", "version"):
        value = inputs.get(name)
        if value is not None and not is_unknown(value):
            with contextlib.suppress(ValueError):  # validation reports it
                inputs[name] = identifier(name, value)
    for name, default in SETTING_DEFAULTS.items():
        if inputs.get(name) is None:
            inputs[name] = default
    return inputs


class WorkflowExecutionProvider(CdfResourceProvider):
    """The dynamic provider behind :class:`pulumi_cdf_workflows.WorkflowExecution`. Stateless by design."""

    args_model = ExecutionArgs
    outputs_model = ExecutionOutputs

    # --- check ---------------------------------------------------------------------------------------
    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        inputs = normalized_inputs(news)
        args, problems = validated(ExecutionArgs, inputs)
        failures = [CheckFailure(prop, reason) for prop, reason in problems]
        settings = self._checked_settings(inputs, failures)
        # A version this program deploys may not exist yet: its own check covers it.
        read_cdf = validate_on_preview(self._config()) and not inputs.get("deployed_by_stack")
        if settings is not None and args is not None and read_cdf:
            failures.extend(self._confirm_version_exists(args, settings))
        if settings is not None and args is not None and self._runs(olds, inputs):
            operation = "run with a nonce" if args.nonce is not None else "run"
            failures += self._permission_failures(
                settings, inputs, "workflow execution", operation, args.workflow_external_id,
                lambda who: self._workflow_data_set(settings, args.workflow_external_id, who), args.client_credentials,
            )  # fmt: skip
        return CheckResult(inputs, failures)

    @staticmethod
    def _runs(olds: Mapping[str, Any], news: Mapping[str, Any]) -> bool:
        """Whether an `up` would run the workflow: a new resource, or one that a changed input replaces."""
        return not olds or bool(_replaced(olds, news))

    def _confirm_version_exists(self, args: ExecutionArgs, settings: ConnectionSettings) -> list[CheckFailure]:
        key = (str(settings.base_url), settings.project, args.workflow_external_id, args.version)
        if key in _known_versions:
            return []
        try:
            found = client_for(settings).retrieve_workflow_version(args.workflow_external_id, args.version)
        except CdfAuthError as exc:
            if exc.status == 403:  # signed in, but may not read it
                needs = explain_403(exc, "workflow version", "read")
                return [CheckFailure("", f"could not read {_describe_run(args, settings)}: {exc}{needs}")]
            return [CheckFailure("connection", f"could not sign in to CDF to confirm the workflow version: {exc}")]
        except CdfError as exc:
            hint = " (`pulumi config set cdf:validateOnPreview false` skips this read)"
            return [CheckFailure("version", f"could not confirm that the workflow version exists: {exc}{hint}")]
        if found is None:
            return [
                CheckFailure(
                    "version",
                    f"{_describe_run(args, settings)} does not exist. Check workflow_external_id and version. If "
                    "a WorkflowVersion of this program deploys it, take workflow_external_id and version from its "
                    "outputs (in Python, or pass workflow_version=), so that preview knows it comes from this stack; "
                    "if it was deleted in CDF since the last deploy, "
                    "run `pulumi refresh`, and the next `pulumi up` deploys it again",
                )
            ]
        _known_versions.add(key)
        return []

    # --- diff ----------------------------------------------------------------------------------------
    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        # `__provider` is deliberately not compared: a package upgrade must not re-run a workflow.
        replaces = _replaced(olds, news)
        replaces += self._target_changes(olds, news.get("connection"), "runs the workflow again")
        if olds.get(CREATE_FAILED):  # as when nothing was recorded: run again, or take over one still running
            replaces.append(CREATE_FAILED)
        updates = []
        for prop, default in SETTING_DEFAULTS.items():
            old = olds.get(prop, default)
            new = news.get(prop)
            if not same(default if old is None else old, default if new is None else new):
                updates.append(prop)
        fingerprinted = [p for p in CREDENTIAL_PROPERTIES if p not in replaces]
        updates += fingerprints_changed(olds.get("credentials_fingerprint"), news, fingerprinted)
        # With cancel_on_delete the old execution is cancelled before the new one starts, so the two never overlap.
        cancel_first = bool(replaces) and bool(olds.get("cancel_on_delete") or news.get("cancel_on_delete") is True)
        return DiffResult(changes=bool(replaces or updates), replaces=replaces, delete_before_replace=cancel_first)

    # --- create --------------------------------------------------------------------------------------
    def create(self, props: dict[str, Any]) -> CreateResult:
        args = self._validated(props)
        settings = self._settings(args.connection)
        client = client_for(settings)
        label = self._label(props)
        what = _describe_run(args, settings)
        plugin_host.install()
        resource = self._resource_identity()
        identity = run_identity(resource, args, props.get("triggers"), settings) if resource else None
        metadata = dict(args.metadata or {})
        marker = None
        if len(metadata) < MAX_METADATA_PAIRS:  # else the run cannot be tagged: see the README
            marker = new_marker(identity)
            metadata[RUN_MARKER_KEY] = marker
            if identity is not None and (adopted := find_in_flight(client, args, identity, what)) is not None:
                started = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(adopted.created_time / 1000))
                report(label, f"adopted execution {adopted.id} started by an interrupted deploy at {started}")
                return self._created(client, props, args, settings, adopted, what, label)
        credentials = cdf_credentials(args.client_credentials)
        started_ms = int(time.time() * 1000)
        report(label, f"running {what}")
        try:
            execution: CdfWorkflowExecution = client.run(
                args.workflow_external_id,
                args.version,
                input=restore_integers(args.input) if args.input is not None else None,
                metadata=metadata or None,
                client_credentials=credentials,
                nonce=args.nonce.get_secret_value() if args.nonce is not None else None,
            )
        except ExecutionMayHaveStartedError as exc:
            execution = recover_lost_run(client, args, what, marker, started_ms, exc, label)
        except CdfError as exc:
            needs = explain_403(exc, "workflow execution", "run" if args.nonce is None else "run with a nonce")
            raise WorkflowExecutionError(
                f"Could not run {what}: {exc}{needs}. No execution was started; the next `pulumi up` tries again."
            ) from None
        report(label, f"started execution {execution.id} ({execution.status})")
        return self._created(client, props, args, settings, execution, what, label)

    def _created(
        self,
        client: CdfClient,
        props: Mapping[str, Any],
        args: ExecutionArgs,
        settings: ConnectionSettings,
        execution: CdfWorkflowExecution,
        what: str,
        label: str,
    ) -> CreateResult:
        """The stack's record of a started (or adopted) execution, after the wait when one was asked for."""
        outs = self._outputs(props, args, settings)
        outs.update(_execution_outputs(execution))
        if args.wait_for_completion:
            try:
                detailed = self._wait(client, execution.id, args, what, label)
            except ExecutionNotCompleted as exc:
                seen = exc.result.execution
                exc.outputs = {**outs, **(_execution_outputs(seen) if seen else {}), CREATE_FAILED: exc.outcome}
                raise
            if detailed is not None:
                outs.update(_execution_outputs(detailed))
        return CreateResult(execution.id, outs)

    def _validated(self, props: Mapping[str, Any]) -> ExecutionArgs:
        args, problems = validated(ExecutionArgs, props)
        if problems:
            raise WorkflowExecutionError("; ".join(f"{p}: {r}" for p, r in problems))
        if args is None:
            raise WorkflowExecutionError("inputs are still unknown; nothing was run")
        return args

    def _wait(
        self, client: CdfClient, execution_id: str, args: ExecutionArgs, what: str, label: str
    ) -> CdfWorkflowExecutionDetailed | None:
        """The execution once it COMPLETED; None (the last one read, if any) when the deploy was cancelled and
        the stack should record it as it is. Anything else raises."""
        waiter = ExecutionWaiter(
            client,
            execution_id,
            timeout=args.timeout_seconds,
            report=lambda m: report(label, m),
            sleep=plugin_host.pause,
            interrupted=plugin_host.interruption,
            engine_timeout=plugin_host.engine_timeout.get,
        )
        result = waiter.wait()
        if result.outcome is WaitOutcome.COMPLETED:
            assert result.execution is not None
            return result.execution
        if result.outcome is WaitOutcome.INTERRUPTED and result.interruption is Interruption.CANCELLED:
            # The engine waits for this call and records what it returns: the next `up` then runs nothing.
            report(
                label,
                f"stopped waiting for execution {execution_id} because {Interruption.CANCELLED.value}: it still "
                "runs in CDF and was not cancelled; the stack records it, and `pulumi refresh` reads how it ends",
            )
            return result.execution
        cancelled = None
        if result.may_still_run and args.cancel_on_delete:
            # The next `up` runs the workflow again: with cancel_on_delete the two must not overlap.
            try:
                done = cancel_if_running(client, execution_id, f"resource {label} gave up waiting for it")
                cancelled = f"Because cancel_on_delete is set, the provider tried to cancel it: {done}"
            except ProviderError as exc:
                cancelled = (
                    f"Because cancel_on_delete is set, the provider tried to cancel it and failed ({exc}); it may "
                    "still run, so cancel it in CDF first if two must not run at once"
                )
            report(label, cancelled)
        raise ExecutionNotCompleted(result, what, cancelled)

    def _outputs(self, props: Mapping[str, Any], args: ExecutionArgs, settings: ConnectionSettings) -> dict[str, Any]:
        """The non-secret inputs as given (settings with their defaults), the resolved connection target and the
        credential fingerprints."""
        outs: dict[str, Any] = {name: props.get(name) for name in REPLACE_PROPERTIES}
        outs.update(workflow_external_id=args.workflow_external_id, version=args.version)  # "1" for version=1
        outs.update({name: getattr(args, name) for name in SETTING_PROPERTIES})
        outs.update(
            connection=public_connection(props.get("connection")),
            project=settings.project,
            base_url=settings.base_url,
            credentials_fingerprint=_fingerprints(props),
        )
        return outs

    # --- read ----------------------------------------------------------------------------------------
    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        # Refresh passes the stored outputs; `.get` passes the program's inputs, which hold no execution yet.
        adopting = not props.get("execution_id")
        settings = self._settings_where_it_lives(props)
        where = f"CDF project '{settings.project}' at {settings.base_url}"
        label = self._label(props)
        outs = self._public(props)
        try:
            execution = client_for(settings).retrieve_execution(id_)
        except CdfNotFoundError:
            if adopting:
                raise WorkflowExecutionError(
                    f"Execution {id_} does not exist in {where}: check the id and the connection."
                ) from None
            # A run-once execution must not be forgotten, or the next `up` would run it again.
            report(
                label,
                f"execution {id_} is no longer in {where} (CDF keeps execution data for about three months); "
                "the stack keeps its last known state, with found_in_cdf=false",
            )
            outs["found_in_cdf"] = False
            return ReadResult(id_, outs, self._stored_inputs(outs))
        except CdfAuthError as exc:
            raise WorkflowExecutionError(
                f"Could not read execution {id_} in {where}, where it ran: the current credentials were refused "
                f"({exc}). The stack keeps the execution; use credentials that can read that project."
            ) from None
        except CdfError as exc:
            raise WorkflowExecutionError(f"Could not read execution {id_} in {where}: {exc}") from None
        # Adopted executions (WorkflowExecution.get) take their identity from CDF, not the program.
        if adopting:
            outs["workflow_external_id"] = execution.workflow_external_id
            outs["version"] = execution.version
            outs["input"] = execution.input
            metadata = dict(execution.metadata or {})
            metadata.pop(RUN_MARKER_KEY, None)
            outs["metadata"] = metadata or None
            outs["project"] = settings.project
            outs["base_url"] = settings.base_url
        outs.update(_execution_outputs(execution))
        return ReadResult(id_, outs, self._stored_inputs(outs))

    @staticmethod
    def _stored_inputs(outs: Mapping[str, Any]) -> dict[str, Any]:
        """The inputs that the next diff compares with, rebuilt from the outputs so a refresh adds no diff."""
        return normalized_inputs({k: outs.get(k) for k in (*REPLACE_PROPERTIES, *SETTING_PROPERTIES, "connection")})

    # --- update --------------------------------------------------------------------------------------
    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        # Only settings changed (diff replaces for anything else): store them, run nothing.
        outs = {k: v for k, v in olds.items() if k != "__provider"}
        fresh = self._outputs(news, self._validated(news), self._settings(news.get("connection")))
        for key in (*SETTING_PROPERTIES, "connection", "credentials_fingerprint"):
            outs[key] = fresh[key]
        return UpdateResult(outs)

    # --- delete ------------------------------------------------------------------------------------
    def delete(self, id_: str, props: dict[str, Any]) -> None:
        if not props.get("cancel_on_delete"):
            return  # an execution is history; deleting the resource only forgets it
        label = self._label(props)
        client = client_for(self._settings_where_it_lives(props))
        report(label, cancel_if_running(client, id_, f"resource {label} was deleted or replaced"))
