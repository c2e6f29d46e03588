"""The WorkflowExecution resource class: what a Pulumi program writes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pulumi import Input, Output, ResourceOptions

from pulumi_cdf_workflows.lifecycle.connection import (
    CdfConnection,
    ClientCredentials,
    connection_props,
    credentials_props,
)
from pulumi_cdf_workflows.lifecycle.resource import CdfResource
from pulumi_cdf_workflows.resources.execution.provider import WorkflowExecutionProvider
from pulumi_cdf_workflows.resources.workflow_version import WorkflowVersion


def _deployed_by_this_program(*identifiers: Any) -> Output[bool] | None:
    """True when the workflow or version comes from a Workflow or WorkflowVersion of this program: then the first
    preview cannot find the version in CDF yet, and check must not refuse it for that."""
    outputs = [value for value in identifiers if isinstance(value, Output)]
    if not outputs:
        return None

    async def deployed() -> bool:
        from pulumi_cdf_workflows.resources.workflow import Workflow  # only programs with executions need it

        for output in outputs:
            if any(isinstance(r, Workflow | WorkflowVersion) for r in await output.resources()):
                return True
        return False

    return Output.from_input(deployed())


class WorkflowExecution(CdfResource, module="cdf", name="WorkflowExecution"):
    """One run of a CDF workflow version, started when the resource is created.

    Creating the resource runs `workflow_external_id`/`version` with `input` and `metadata`; the resource
    id is the execution id. A change to the workflow, version, input, metadata or `triggers` runs the
    workflow again (replacement); other changes are stored without running anything.

    >>> run = WorkflowExecution("backfill", workflow_external_id="foo", version="1", input={"a": 1})
    >>> pulumi.export("status", run.status)
    """

    execution_id: Output[str]
    """The CDF execution id (also the resource id)."""
    status: Output[str]
    """RUNNING, COMPLETED, FAILED, TIMED_OUT or TERMINATED, as CDF spells it."""
    engine_execution_id: Output[str | None]
    created_time: Output[int]
    """Epoch milliseconds."""
    start_time: Output[int | None]
    end_time: Output[int | None]
    reason_for_incompletion: Output[str | None]
    executed_tasks: Output[list[dict[str, Any]]]
    """Task results (external id, status, times, reason, bounded output) once the provider has read them."""
    found_in_cdf: Output[bool]
    """False once a refresh no longer finds the execution in CDF (CDF keeps execution data for about three
    months); the other outputs then keep their last known values, and nothing runs again."""
    workflow_external_id: Output[str]
    version: Output[str]
    input: Output[dict[str, Any] | None]
    metadata: Output[dict[str, str] | None]
    triggers: Output[list[Any] | None]
    definition_hash: Output[str | None]
    """The hash of the WorkflowVersion's definition it ran (with `workflow_version=`)."""
    wait_for_completion: Output[bool]
    timeout_seconds: Output[float]
    cancel_on_delete: Output[bool]
    deployed_by_stack: Output[bool]
    credentials_fingerprint: Output[dict[str, str]]
    project: Output[str]
    """The CDF project the execution runs in."""
    base_url: Output[str]

    def __init__(
        self,
        resource_name: str,
        *,
        workflow_external_id: Input[str] | None = None,
        version: Input[str] | None = None,
        input: Input[Mapping[str, Any]] | None = None,
        metadata: Input[Mapping[str, Input[str]]] | None = None,
        client_credentials: ClientCredentials | Mapping[str, Any] | None = None,
        nonce: Input[str] | None = None,
        triggers: Input[Sequence[Any]] | None = None,
        wait_for_completion: Input[bool] | None = None,
        timeout_seconds: Input[float] | None = None,
        cancel_on_delete: Input[bool] | None = None,
        connection: CdfConnection | Mapping[str, Any] | None = None,
        workflow_version: WorkflowVersion | None = None,
        opts: ResourceOptions | None = None,
    ) -> None:
        """Run workflow `workflow_external_id` version `version` when this resource is created.

        :param workflow_external_id: external id of the workflow.
        :param version: version of the workflow.
        :param input: the execution's input, a JSON object of at most 100 KB (`${workflow.input}`).
        :param metadata: at most 10 string pairs; keys at most 32 characters, values at most 255.
        :param client_credentials: credentials the execution's session is created with.
        :param nonce: a session nonce to bind the execution to instead of creating a session.
        :param triggers: arbitrary values; any change runs the workflow again.
        :param wait_for_completion: create waits for the execution to end and fails unless it COMPLETED.
        :param timeout_seconds: how long create waits (default 3600).
        :param cancel_on_delete: delete and replacement cancel the execution if it is still running.
        :param connection: per-resource CDF connection; overrides stack config and environment.
        :param workflow_version: a WorkflowVersion of this stack, instead of workflow_external_id and version:
            the execution runs it once deployed, and again whenever its definition changes (its hash).
        """
        definition_hash = None
        if workflow_version is not None:
            if workflow_external_id is not None or version is not None:
                raise TypeError("give WorkflowExecution either workflow_version or workflow_external_id and version")
            workflow_external_id = workflow_version.workflow_external_id
            version = workflow_version.version
            definition_hash = workflow_version.definition_hash
        adopting = opts is not None and opts.id is not None
        if not adopting and (workflow_external_id is None or version is None):
            raise TypeError("WorkflowExecution needs workflow_external_id and version (or workflow_version)")
        props: dict[str, Any] = {
            "deployed_by_stack": _deployed_by_this_program(workflow_external_id, version),
            "workflow_external_id": workflow_external_id,
            "version": version,
            "input": input,
            "metadata": metadata,
            "client_credentials": credentials_props(client_credentials),
            "nonce": Output.secret(nonce) if nonce is not None else None,
            "triggers": triggers,
            "definition_hash": definition_hash,
            "wait_for_completion": wait_for_completion,
            "timeout_seconds": timeout_seconds,
            "cancel_on_delete": cancel_on_delete,
            "connection": connection_props(connection),
        }
        super().__init__(WorkflowExecutionProvider, resource_name, props, opts)

    @staticmethod
    def get(
        resource_name: str,
        execution_id: Input[str],
        connection: CdfConnection | Mapping[str, Any] | None = None,
        opts: ResourceOptions | None = None,
    ) -> WorkflowExecution:
        """Look up an execution started elsewhere (a trigger, the toolkit, a person). Runs nothing, and
        `pulumi destroy` never cancels it. Use this instead of `import_`, which dynamic providers cannot
        support (pulumi/pulumi#16175)."""
        return WorkflowExecution(
            resource_name,
            connection=connection,
            opts=ResourceOptions.merge(opts, ResourceOptions(id=execution_id)),
        )
