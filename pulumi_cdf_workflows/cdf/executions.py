"""The executions API: run (exactly once), retrieve, list, cancel and retry."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pulumi_cdf_workflows.cdf.errors import CdfApiError, CdfError, ExecutionMayHaveStartedError
from pulumi_cdf_workflows.cdf.models import CdfClientCredentials, CdfWorkflowExecution, CdfWorkflowExecutionDetailed
from pulumi_cdf_workflows.cdf.wire import WireClient, path_segment, request_id_note, run_outcome_unknown


class ExecutionCalls(WireClient):
    # ---------------------------------------------------------------- executions

    def run_execution(
        self,
        workflow_external_id: str,
        version: str,
        *,
        nonce: str,
        input: dict[str, Any] | None = None,
        metadata: dict[str, str] | None = None,
    ) -> CdfWorkflowExecution:
        """``POST /workflows/{id}/versions/{version}/run`` with the given nonce: exactly one run request.

        Never sent twice unless the server certainly did not act (429, 401 before renewal, connection
        refused). If the reply is lost, raises :class:`ExecutionMayHaveStartedError`.
        """
        project = self.settings.project
        what = f"Running workflow {workflow_external_id!r} version {version!r} in project {project!r}"
        body: dict[str, Any] = {"authentication": {"nonce": nonce}}
        if input is not None:
            body["input"] = input
        if metadata is not None:
            body["metadata"] = metadata

        def unknown(reason: str, status: int | None, cdf_message: str | None, request_id: str | None) -> CdfError:
            return ExecutionMayHaveStartedError(
                f"{what}: {reason}. The execution may have started: check the executions list "
                f"(workflow {workflow_external_id!r}, version {version!r}) before running it again."
                + request_id_note(request_id),
                project=project,
                workflow_external_id=workflow_external_id,
                version=version,
                status=status,
                cdf_message=cdf_message,
                request_id=request_id,
            )

        reply = self._request(
            "POST",
            f"/workflows/{path_segment(workflow_external_id)}/versions/{path_segment(version)}/run",
            what=what,
            body=body,
            safe=False,
            outcome_unknown=unknown,
            secrets=[nonce],
        )
        try:
            return self._load(CdfWorkflowExecution, reply, what)
        except CdfApiError as exc:
            # CDF accepted the run (2xx): an execution exists, whatever the body says.
            error = unknown(f"CDF accepted the request but its reply could not be read ({exc})", None, None, None)
            found_id = reply.get("id") if isinstance(reply, dict) else None
            if isinstance(error, ExecutionMayHaveStartedError) and isinstance(found_id, str) and found_id:
                error.execution_id = found_id
            raise error from None

    def run(
        self,
        workflow_external_id: str,
        version: str,
        input: dict[str, Any] | None = None,
        metadata: dict[str, str] | None = None,
        client_credentials: CdfClientCredentials | None = None,
        nonce: str | None = None,
    ) -> CdfWorkflowExecution:
        """Run a workflow version with the SDK's session rules.

        An explicit ``nonce`` wins (no session is created); otherwise a session is created from
        ``client_credentials``, else from the connection's OAuth client, else by token exchange.
        """
        if not nonce:
            nonce = self.create_session(client_credentials).nonce.get_secret_value()
        return self.run_execution(workflow_external_id, version, nonce=nonce, input=input, metadata=metadata)

    def retrieve_execution(self, execution_id: str) -> CdfWorkflowExecutionDetailed:
        """``GET /workflows/executions/{id}``. Raises :class:`CdfNotFoundError` only for a 404: any other
        refusal (a malformed id, no access) says nothing about whether the execution exists."""
        what = f"Retrieving workflow execution {execution_id!r} {self._in_project}"
        reply = self._request(
            "GET",
            f"/workflows/executions/{path_segment(execution_id)}",
            what=what,
            safe=True,
            only_404_is_not_found=True,
        )
        return self._load(CdfWorkflowExecutionDetailed, reply, what)

    def list_executions(
        self,
        workflow_filters: Sequence[tuple[str, str | None] | str] | None = None,
        created_time_start: int | None = None,
        created_time_end: int | None = None,
        statuses: Sequence[str] | None = None,
        limit: int | None = 1000,
    ) -> list[CdfWorkflowExecution]:
        """``POST /workflows/executions/list``, following cursors until ``limit`` items (None: all).

        ``workflow_filters`` holds ``(external_id, version)`` pairs; a version of None (or a bare
        external id) matches every version. Times are epoch milliseconds.
        """
        filter_: dict[str, Any] = {}
        if workflow_filters is not None:
            entries = []
            for entry in workflow_filters:
                external_id, version = (entry, None) if isinstance(entry, str) else entry
                entries.append({"externalId": external_id} | ({"version": version} if version is not None else {}))
            filter_["workflowFilters"] = entries
        if created_time_start is not None:
            filter_["createdTimeStart"] = created_time_start
        if created_time_end is not None:
            filter_["createdTimeEnd"] = created_time_end
        if statuses is not None:
            filter_["status"] = [s.upper() for s in statuses]
        described = ", ".join(
            f"{e['externalId']!r}" + (f" version {e['version']!r}" if "version" in e else "")
            for e in filter_.get("workflowFilters", [])
        )
        what = f"Listing workflow executions{' of ' + described if described else ''} {self._in_project}"

        results: list[CdfWorkflowExecution] = []
        cursor: str | None = None
        while limit is None or len(results) < limit:
            body: dict[str, Any] = {
                "limit": self._page_limit if limit is None else min(self._page_limit, limit - len(results))
            }
            if filter_:
                body["filter"] = filter_
            if cursor:
                body["cursor"] = cursor
            reply = self._request("POST", "/workflows/executions/list", what=what, body=body, safe=True)
            items = reply.get("items") if isinstance(reply, dict) else None
            if not isinstance(items, list):
                raise CdfApiError(f"{what} failed: the reply has no items list")
            results.extend(self._load(CdfWorkflowExecution, item, what) for item in items)
            cursor = reply.get("nextCursor")
            if not cursor or not items:
                break
        return results if limit is None else results[:limit]

    def cancel_execution(self, execution_id: str, reason: str | None = None) -> CdfWorkflowExecution:
        """``POST /workflows/executions/{id}/cancel``. An unknown outcome raises
        :class:`RequestOutcomeUnknownError` (the cancel may have been applied)."""
        what = f"Cancelling workflow execution {execution_id!r} {self._in_project}"
        reply = self._request(
            "POST",
            f"/workflows/executions/{path_segment(execution_id)}/cancel",
            what=what,
            body={"reason": reason} if reason else {},
            safe=False,
            outcome_unknown=run_outcome_unknown(what, "cancel", execution_id),
        )
        return self._load(CdfWorkflowExecution, reply, what)

    def retry_execution(
        self, execution_id: str, client_credentials: CdfClientCredentials | None = None
    ) -> CdfWorkflowExecution:
        """``POST /workflows/executions/{id}/retry`` with a fresh session (same rules as :meth:`run`)."""
        what = f"Retrying workflow execution {execution_id!r} {self._in_project}"
        nonce = self.create_session(client_credentials).nonce.get_secret_value()
        reply = self._request(
            "POST",
            f"/workflows/executions/{path_segment(execution_id)}/retry",
            what=what,
            body={"authentication": {"nonce": nonce}},
            safe=False,
            outcome_unknown=run_outcome_unknown(what, "retry", execution_id),
            secrets=[nonce],
        )
        return self._load(CdfWorkflowExecution, reply, what)
