"""Cancelling an execution that may have ended meanwhile: `cancel_on_delete`, and a wait that gave up."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pulumi_cdf_workflows.cdf.errors import CdfApiError, CdfError, CdfNotFoundError
from pulumi_cdf_workflows.cdf.models import CdfWorkflowStatus
from pulumi_cdf_workflows.lifecycle.provider import ProviderError

if TYPE_CHECKING:
    from pulumi_cdf_workflows.cdf.client import CdfClient


def cancel_if_running(client: CdfClient, execution_id: str, why: str) -> str:
    """Cancel the execution unless it has ended; says what happened. Only "it has already ended" is not an
    error: any other refusal raises with CDF's message."""
    where = f"CDF project '{client.settings.project}'"
    try:
        execution = client.retrieve_execution(execution_id)
    except CdfNotFoundError:
        return f"execution {execution_id} is no longer in {where}; nothing to cancel"
    except CdfError as exc:
        raise ProviderError(f"Could not read execution {execution_id} to cancel it: {exc}") from None
    if execution.status != CdfWorkflowStatus.RUNNING:
        return f"execution {execution_id} already {execution.status}; nothing to cancel"
    try:
        client.cancel_execution(execution_id, reason=f"Cancelled by Pulumi: {why}"[:500])
    except CdfNotFoundError:
        return f"execution {execution_id} is no longer in {where}; nothing to cancel"
    except CdfApiError as exc:
        if exc.status in (400, 409):
            # CDF refuses to cancel an execution that has ended; tell that apart from other refusals.
            try:
                now = client.retrieve_execution(execution_id)
            except CdfError:
                now = None
            if now is not None and now.status != CdfWorkflowStatus.RUNNING:
                return f"execution {execution_id} ended {now.status} before the cancel; nothing to cancel"
        raise ProviderError(
            f"CDF refused to cancel execution {execution_id} in {where}: {exc}. It is still RUNNING; "
            "the resource stays in the stack."
        ) from None
    except CdfError as exc:
        raise ProviderError(f"Could not cancel execution {execution_id}: {exc}") from None
    return f"cancelled execution {execution_id}"
