"""The workflows, workflow versions and triggers APIs: what a stack deploys."""

from __future__ import annotations

import contextlib
from typing import Any
from urllib.parse import quote

from pulumi_cdf_workflows.cdf.errors import (
    CdfApiError,
    CdfError,
    CdfNotFoundError,
    RequestOutcomeUnknownError,
    WorkflowBusyError,
)
from pulumi_cdf_workflows.cdf.models import CdfClientCredentials, CdfWorkflow, CdfWorkflowTrigger, CdfWorkflowVersion
from pulumi_cdf_workflows.cdf.wire import WireClient, outcome_unknown_error, path_segment

TRIGGER_UPSERT_ATTEMPTS = 3


class DeployCalls(WireClient):
    # ---------------------------------------------------------------- workflows and versions

    def retrieve_workflow(self, external_id: str) -> CdfWorkflow | None:
        """``GET /workflows/{id}``; None when it does not exist."""
        what = f"Retrieving workflow {external_id!r} {self._in_project}"
        try:
            reply = self._request("GET", f"/workflows/{path_segment(external_id)}", what=what, safe=True)
        except CdfNotFoundError:
            return None
        return self._load(CdfWorkflow, reply, what)

    def retrieve_workflow_version(self, workflow_external_id: str, version: str) -> CdfWorkflowVersion | None:
        """``GET /workflows/{id}/versions/{version}``; None when it does not exist."""
        what = f"Retrieving workflow {workflow_external_id!r} version {version!r} {self._in_project}"
        try:
            reply = self._request(
                "GET",
                f"/workflows/{path_segment(workflow_external_id)}/versions/{path_segment(version)}",
                what=what,
                safe=True,
            )
        except CdfNotFoundError:
            return None
        return self._load(CdfWorkflowVersion, reply, what)

    def upsert_workflow(
        self,
        external_id: str,
        description: str | None = None,
        *,
        data_set_id: int | None = None,
        max_concurrent_executions: int | None = None,
    ) -> CdfWorkflow:
        """``POST /workflows`` with one item (create or update)."""
        what = f"Upserting workflow {external_id!r} {self._in_project}"
        item: dict[str, Any] = {"externalId": external_id}
        if description is not None:
            item["description"] = description
        if data_set_id is not None:
            item["dataSetId"] = data_set_id
        if max_concurrent_executions is not None:
            item["maxConcurrentExecutions"] = max_concurrent_executions
        reply = self._request("POST", "/workflows", what=what, body={"items": [item]}, safe=True)
        return self._load(CdfWorkflow, self._first_item(reply, what), what)

    def delete_workflow(self, external_id: str) -> None:
        """``POST /workflows/delete``: the workflow and all its versions. An unknown id is not an error;
        CDF refuses while executions of the workflow run."""
        what = f"Deleting workflow {external_id!r} {self._in_project}"
        body = {"items": [{"externalId": external_id}]}
        try:
            self._request("POST", "/workflows/delete?ignoreUnknownIds=true", what=what, body=body, safe=True)
        except CdfApiError as exc:
            # The status of this refusal is undocumented (the SDK's tests check only the message); the words are.
            if 400 <= (exc.status or 0) < 500 and "running executions" in (exc.cdf_message or "").lower():
                raise WorkflowBusyError(
                    exc.message, status=exc.status, cdf_message=exc.cdf_message, request_id=exc.request_id
                ) from None
            raise

    def delete_workflow_version(self, workflow_external_id: str, version: str) -> None:
        """``POST /workflows/versions/delete`` for one version. An unknown version is not an error."""
        what = f"Deleting workflow {workflow_external_id!r} version {version!r} {self._in_project}"
        body = {"items": [{"workflowExternalId": workflow_external_id, "version": version}]}
        self._request("POST", "/workflows/versions/delete?ignoreUnknownIds=true", what=what, body=body, safe=True)

    def upsert_workflow_version(
        self,
        workflow_external_id: str,
        version: str,
        tasks: list[dict[str, Any]],
        description: str | None = None,
    ) -> CdfWorkflowVersion:
        """``POST /workflows/versions`` with one item; ``tasks`` are task definitions (API JSON)."""
        what = f"Upserting workflow {workflow_external_id!r} version {version!r} {self._in_project}"
        definition: dict[str, Any] = {"tasks": tasks}
        if description is not None:
            definition["description"] = description
        item = {
            "workflowExternalId": workflow_external_id,
            "version": version,
            "workflowDefinition": definition,
        }
        reply = self._request("POST", "/workflows/versions", what=what, body={"items": [item]}, safe=True)
        return self._load(CdfWorkflowVersion, self._first_item(reply, what), what)

    # ---------------------------------------------------------------- triggers

    def upsert_trigger(
        self,
        external_id: str,
        trigger_rule: dict[str, Any],
        workflow_external_id: str,
        workflow_version: str,
        *,
        input: dict[str, Any] | None = None,
        metadata: dict[str, str] | None = None,
        client_credentials: CdfClientCredentials | None = None,
    ) -> CdfWorkflowTrigger:
        """``POST /workflows/triggers`` with one item. Like the SDK, it first creates the session the trigger
        runs with (those credentials, else the connection's own client, else token exchange)."""
        what = f"Upserting workflow trigger {external_id!r} {self._in_project}"
        item: dict[str, Any] = {
            "externalId": external_id,
            "triggerRule": trigger_rule,
            "workflowExternalId": workflow_external_id,
            "workflowVersion": workflow_version,
        }
        if input is not None:
            item["input"] = input
        if metadata is not None:
            item["metadata"] = metadata
        # A nonce binds once, so a lost reply is never answered by resending it (CDF would refuse a nonce it
        # already bound): a new session and the same upsert again, which changes nothing more if the first
        # one was applied.
        for attempt in range(1, TRIGGER_UPSERT_ATTEMPTS + 1):
            session = self.create_session(client_credentials)
            nonce = session.nonce.get_secret_value()
            body = {"items": [{**item, "authentication": {"nonce": nonce}}]}
            try:
                reply = self._request(
                    "POST",
                    "/workflows/triggers",
                    what=what,
                    body=body,
                    safe=False,
                    outcome_unknown=outcome_unknown_error(
                        what, "The upsert may have been applied; upserting again is safe."
                    ),
                    secrets=[nonce],
                )
            except RequestOutcomeUnknownError:
                if attempt == TRIGGER_UPSERT_ATTEMPTS:
                    raise
                self._policy.sleep(self._policy.backoff(attempt))
                continue
            except CdfError:
                # CDF refused the upsert, so nothing holds the session: revoke it rather than leave it behind.
                self._revoke_quietly(session.id)
                raise
            return self._load(CdfWorkflowTrigger, self._first_item(reply, what), what)
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _revoke_quietly(self, session_id: int) -> None:
        with contextlib.suppress(CdfError):  # the refusal that brought us here is what the caller must see
            self.revoke_sessions([session_id])

    def list_triggers(self) -> list[CdfWorkflowTrigger]:
        """Every trigger of the project (``GET /workflows/triggers``, following cursors)."""
        what = f"Listing workflow triggers {self._in_project}"
        found: list[CdfWorkflowTrigger] = []
        cursor: str | None = None
        while True:
            path = f"/workflows/triggers?limit=1000{'&cursor=' + quote(cursor, safe='') if cursor else ''}"
            reply = self._request("GET", path, what=what, safe=True)
            items = reply.get("items") if isinstance(reply, dict) else None
            found.extend(self._load(CdfWorkflowTrigger, item, what) for item in items or [])
            cursor = reply.get("nextCursor") if isinstance(reply, dict) else None
            if not cursor:
                return found

    def list_workflow_versions(self, workflow_external_id: str) -> list[CdfWorkflowVersion]:
        """Every version of one workflow (``POST /workflows/versions/list``, following cursors)."""
        what = f"Listing the versions of workflow {workflow_external_id!r} {self._in_project}"
        found: list[CdfWorkflowVersion] = []
        cursor: str | None = None
        while True:
            body: dict[str, Any] = {
                "filter": {"workflowFilters": [{"externalId": workflow_external_id}]},
                "limit": 1000,
            }
            if cursor:
                body["cursor"] = cursor
            reply = self._request("POST", "/workflows/versions/list", what=what, body=body, safe=True)
            items = reply.get("items") if isinstance(reply, dict) else None
            found.extend(self._load(CdfWorkflowVersion, item, what) for item in items or [])
            cursor = reply.get("nextCursor") if isinstance(reply, dict) else None
            if not cursor:
                return found

    def retrieve_trigger(self, external_id: str) -> CdfWorkflowTrigger | None:
        """The trigger with this external id, or None. CDF has no retrieve call: this lists, as the Toolkit does."""
        return next((t for t in self.list_triggers() if t.external_id == external_id), None)

    def delete_trigger(self, external_id: str) -> None:
        """``POST /workflows/triggers/delete``; a trigger that does not exist is not an error."""
        what = f"Deleting workflow trigger {external_id!r} {self._in_project}"
        body = {"items": [{"externalId": external_id}]}
        try:
            self._request("POST", "/workflows/triggers/delete", what=what, body=body, safe=True)
        except CdfNotFoundError:
            return

    def pause_trigger(self, external_id: str, paused: bool = True) -> None:
        """``POST /workflows/triggers/{id}/pause`` (or ``/resume`` with ``paused=False``); idempotent."""
        action = "pause" if paused else "resume"
        what = f"{action.capitalize()} workflow trigger {external_id!r} {self._in_project}"
        self._request("POST", f"/workflows/triggers/{path_segment(external_id)}/{action}", what=what, safe=True)
