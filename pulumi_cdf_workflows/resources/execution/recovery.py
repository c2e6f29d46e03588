"""Finding executions this resource started, instead of running again: the one a run request started when its
reply was lost or unreadable, and one an interrupted `pulumi up` started that still runs.

Every run is tagged with a metadata marker when a pair is free: `<identity>.<attempt>`. The identity is the same
for every run of one resource (project, stack, name) with the same inputs and target, so a later `up` can find an
interrupted one's run; the attempt part tells one request's run from earlier ones. CDF's reply may also name the
execution.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from pulumi_cdf_workflows.cdf.errors import CdfError, ExecutionMayHaveStartedError
from pulumi_cdf_workflows.cdf.models import CdfWorkflowExecution, CdfWorkflowStatus
from pulumi_cdf_workflows.cdf.settings import ConnectionSettings
from pulumi_cdf_workflows.lifecycle.provider import ProviderError, report
from pulumi_cdf_workflows.resources.execution.args import ExecutionArgs
from pulumi_cdf_workflows.validation.fields import MAX_METADATA_PAIRS, canonical_json

if TYPE_CHECKING:
    from pulumi_cdf_workflows.cdf.client import CdfClient


# Metadata key that tags each run so a lost reply, or an interrupted deploy, can be matched to its execution.
RUN_MARKER_KEY = "pulumiRunMarker"
# An interrupted deploy's run is looked for among the workflow version's RUNNING executions created within CDF's
# longest execution (24 h, plus clock skew), in at most 5 list requests.
IN_FLIGHT_WINDOW_MS = (24 * 60 + 10) * 60 * 1000
IN_FLIGHT_MAX_EXECUTIONS = 5000


def run_identity(resource: str, args: ExecutionArgs, triggers: Any, settings: ConnectionSettings) -> str:
    """What makes two runs the same run of one resource: the resource, what it runs with and where."""
    what = {
        "resource": resource,
        "workflow_external_id": args.workflow_external_id,
        "version": args.version,
        "input": args.input,
        "metadata": args.metadata,
        "triggers": triggers,
        "definition_hash": args.definition_hash,
        "project": settings.project,
        "base_url": settings.base_url,
    }
    return hashlib.sha256(canonical_json(what).encode()).hexdigest()[:32]


def new_marker(identity: str | None) -> str:
    """A run's marker: its identity and this attempt (or only an attempt when the resource is not known)."""
    attempt = uuid.uuid4().hex[:12]
    return f"{identity}.{attempt}" if identity else attempt


def find_in_flight(client: CdfClient, args: ExecutionArgs, identity: str, what: str) -> CdfWorkflowExecution | None:
    """The oldest RUNNING execution that a run of this resource with these inputs started (an interrupted `up`'s)."""
    since = int(time.time() * 1000) - IN_FLIGHT_WINDOW_MS
    try:
        running = client.list_executions(
            [(args.workflow_external_id, args.version)],
            created_time_start=since,
            statuses=[CdfWorkflowStatus.RUNNING],
            limit=IN_FLIGHT_MAX_EXECUTIONS,
        )
    except CdfError as exc:
        raise ProviderError(
            f"Could not check whether an interrupted deploy already started {what}: listing its running executions "
            f"failed ({exc}). Nothing was run; the next `pulumi up` tries again."
        ) from None
    ours = [e for e in running if (e.metadata or {}).get(RUN_MARKER_KEY, "").partition(".")[0] == identity]
    if not ours and len(running) >= IN_FLIGHT_MAX_EXECUTIONS:
        raise ProviderError(
            f"Could not check whether an interrupted deploy already started {what}: more than "
            f"{IN_FLIGHT_MAX_EXECUTIONS} executions of it are running. Nothing was run; the next `pulumi up` tries "
            "again."
        )
    return min(ours, key=lambda e: e.created_time) if ours else None


_T = TypeVar("_T")


def _patiently(attempt: Callable[[], _T | None]) -> tuple[_T | None, str | None]:
    """Up to 4 tries over about 12 s: an execution whose reply was lost may take a moment to be readable.
    Returns what was found (or None) and the last error."""
    problem = None
    for number in range(4):
        if number:
            time.sleep(2.0 * number)
        try:
            found = attempt()
        except CdfError as exc:
            problem = str(exc)
            continue
        if found is not None:
            return found, None
    return None, problem


def recover_lost_run(
    client: CdfClient,
    args: ExecutionArgs,
    what: str,
    marker: str | None,
    started_ms: int,
    lost: ExecutionMayHaveStartedError,
    label: str,
) -> CdfWorkflowExecution:
    """The run request's reply was lost or unreadable. Find the execution instead of running again: by
    the id CDF's reply named, else by the marker the run was tagged with."""
    check_list = (
        f"Check the executions of workflow '{args.workflow_external_id}' version '{args.version}' in CDF "
        "before the next `pulumi up`, which will run the workflow again"
    )
    if lost.execution_id:
        execution_id = lost.execution_id
        found, problem = _patiently(lambda: client.retrieve_execution(execution_id))
        if found is not None:
            report(label, f"CDF accepted the run as execution {found.id}; its reply was unreadable")
            return found
        raise ProviderError(
            f"CDF accepted the run of {what} as execution {execution_id}, but its reply could not be "
            f"read and the execution could not be read back ({problem}). It was started and nothing was "
            f"recorded in the stack. {check_list}."
        ) from None
    if marker is None:
        raise ProviderError(
            f"The reply to the run request for {what} was lost ({lost}), and the execution cannot be "
            f"identified because metadata already holds {MAX_METADATA_PAIRS} pairs (one free pair lets "
            f"the provider tag the run). {check_list}."
        ) from None
    report(label, f"reply to the run request was lost; looking for the execution tagged {marker}")
    # Allow for clock skew between this machine and CDF when filtering by creation time.
    since = started_ms - 5 * 60 * 1000

    def tagged() -> CdfWorkflowExecution | None:
        listed = client.list_executions(
            workflow_filters=[(args.workflow_external_id, args.version)], created_time_start=since
        )
        return next((e for e in listed if (e.metadata or {}).get(RUN_MARKER_KEY) == marker), None)

    found_tagged, problem = _patiently(tagged)
    if found_tagged is not None:
        report(label, f"found execution {found_tagged.id} started by the lost request")
        return found_tagged
    detail = f" (listing executions failed: {problem})" if problem else ""
    raise ProviderError(
        f"The reply to the run request for {what} was lost ({lost}), and no execution tagged "
        f"{RUN_MARKER_KEY}={marker} was found{detail}; it may still appear. {check_list}."
    ) from None
