"""CdfClient: one method per CDF endpoint the project needs, each returning a typed object."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar
from urllib.parse import quote

import requests
from pydantic import BaseModel, ValidationError

from pulumi_cdf_workflows._version import __version__
from pulumi_cdf_workflows.cdf._redact import redact_json, redact_text
from pulumi_cdf_workflows.cdf._retry import (
    SAFE_RETRY_STATUSES,
    UNSAFE_RETRY_STATUSES,
    RetryPolicy,
    connection_not_established,
    parse_retry_after,
)
from pulumi_cdf_workflows.cdf.auth import (
    BearerAuth,
    ClientCredentialsTokenProvider,
    StaticTokenProvider,
    TokenProvider,
)
from pulumi_cdf_workflows.cdf.errors import (
    CdfApiError,
    CdfAuthError,
    CdfConnectionError,
    CdfError,
    CdfNotFoundError,
    ExecutionMayHaveStartedError,
    RequestOutcomeUnknownError,
)
from pulumi_cdf_workflows.cdf.models import (
    ClientCredentials,
    CreatedSession,
    Workflow,
    WorkflowExecution,
    WorkflowExecutionDetailed,
    WorkflowTrigger,
    WorkflowVersion,
)
from pulumi_cdf_workflows.cdf.settings import ConnectionSettings

_log = logging.getLogger(__name__)

API_SUBVERSION = "20230101"
APP_NAME = "pulumi-cdf-workflows"

_M = TypeVar("_M", bound=BaseModel)
# Builds the error for a state-changing request whose outcome is unknown:
# (what went wrong, HTTP status or None, CDF's message or None, request id or None).
_OutcomeUnknown = Callable[[str, "int | None", "str | None", "str | None"], CdfError]


def _q(segment: str) -> str:
    return quote(str(segment), safe="")


class CdfClient:
    """A client for the CDF workflows, workflow executions and sessions APIs of one project.

    One ``requests.Session`` per client (keep-alive); tokens are shared process-wide (see ``auth``).

    >>> client = CdfClient(ConnectionSettings(project="p", base_url=url, token="static-abc"))
    >>> client.run("my-workflow", "1", input={"a": 1}).status
    'RUNNING'
    """

    _page_limit = 1000  # items per list request (the API's maximum)

    def __init__(
        self,
        settings: ConnectionSettings,
        *,
        sleep: Callable[[float], None] = time.sleep,
        policy: RetryPolicy | None = None,
    ) -> None:
        self.settings = settings
        self._http = requests.Session()
        self._timeout = (settings.connect_timeout, settings.read_timeout)
        self._policy = policy or RetryPolicy(
            max_retries=settings.max_retries, max_total_wait=settings.max_retry_wait, sleep=sleep
        )
        self._auth: TokenProvider
        if settings.token is not None:
            self._auth = StaticTokenProvider(settings.token)
        else:
            assert settings.token_url and settings.client_id and settings.client_secret  # settings validated
            self._auth = ClientCredentialsTokenProvider(
                token_url=settings.token_url,
                client_id=settings.client_id,
                client_secret=settings.client_secret,
                scopes=settings.scopes,
                audience=settings.audience,
                http=self._http,
                timeout=self._timeout,
                policy=self._policy,
            )

    @property
    def _in_project(self) -> str:
        return f"in project {self.settings.project!r}"

    def __repr__(self) -> str:
        return f"CdfClient(project={self.settings.project!r}, base_url={self.settings.base_url!r})"

    def __enter__(self) -> CdfClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the keep-alive connections."""
        self._http.close()

    # ---------------------------------------------------------------- sessions

    def create_session(
        self, client_credentials: ClientCredentials | None = None, token_exchange: bool = False
    ) -> CreatedSession:
        """``POST /sessions``: one session, by the SDK's rules.

        ``client_credentials`` given: a client-credentials session with those; else ``token_exchange``:
        a token-exchange session; else the connection's own OAuth client id/secret, or token exchange
        when the connection uses a static token.
        """
        secrets: list[str] = []
        if client_credentials is not None:
            item: dict[str, Any] = client_credentials.dump()
            secrets.append(client_credentials.client_secret.get_secret_value())
            kind = f"client-credentials session for client id {client_credentials.client_id!r}"
        elif token_exchange or not self.settings.uses_oauth:
            item = {"tokenExchange": True}
            kind = "token-exchange session"
        else:
            assert self.settings.client_id and self.settings.client_secret
            item = {
                "clientId": self.settings.client_id,
                "clientSecret": self.settings.client_secret.get_secret_value(),
            }
            kind = f"client-credentials session for client id {self.settings.client_id!r}"
        what = f"Creating a {kind} {self._in_project}"
        body = self._request("POST", "/sessions", what=what, body={"items": [item]}, safe=True, secrets=secrets)
        return self._load(CreatedSession, self._first_item(body, what), what)

    # ---------------------------------------------------------------- executions

    def run_execution(
        self,
        workflow_external_id: str,
        version: str,
        *,
        nonce: str,
        input: dict[str, Any] | None = None,
        metadata: dict[str, str] | None = None,
    ) -> WorkflowExecution:
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
                + _request_id_note(request_id),
                project=project,
                workflow_external_id=workflow_external_id,
                version=version,
                status=status,
                cdf_message=cdf_message,
                request_id=request_id,
            )

        reply = self._request(
            "POST",
            f"/workflows/{_q(workflow_external_id)}/versions/{_q(version)}/run",
            what=what,
            body=body,
            safe=False,
            outcome_unknown=unknown,
            secrets=[nonce],
        )
        try:
            return self._load(WorkflowExecution, reply, what)
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
        client_credentials: ClientCredentials | None = None,
        nonce: str | None = None,
    ) -> WorkflowExecution:
        """Run a workflow version with the SDK's session rules.

        An explicit ``nonce`` wins (no session is created); otherwise a session is created from
        ``client_credentials``, else from the connection's OAuth client, else by token exchange.
        """
        if not nonce:
            nonce = self.create_session(client_credentials).nonce.get_secret_value()
        return self.run_execution(workflow_external_id, version, nonce=nonce, input=input, metadata=metadata)

    def retrieve_execution(self, execution_id: str) -> WorkflowExecutionDetailed:
        """``GET /workflows/executions/{id}``. Raises :class:`CdfNotFoundError` only for a 404: any other
        refusal (a malformed id, no access) says nothing about whether the execution exists."""
        what = f"Retrieving workflow execution {execution_id!r} {self._in_project}"
        reply = self._request(
            "GET", f"/workflows/executions/{_q(execution_id)}", what=what, safe=True, only_404_is_not_found=True
        )
        return self._load(WorkflowExecutionDetailed, reply, what)

    def list_executions(
        self,
        workflow_filters: Sequence[tuple[str, str | None] | str] | None = None,
        created_time_start: int | None = None,
        created_time_end: int | None = None,
        statuses: Sequence[str] | None = None,
        limit: int | None = 1000,
    ) -> list[WorkflowExecution]:
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

        results: list[WorkflowExecution] = []
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
            results.extend(self._load(WorkflowExecution, item, what) for item in items)
            cursor = reply.get("nextCursor")
            if not cursor or not items:
                break
        return results if limit is None else results[:limit]

    def cancel_execution(self, execution_id: str, reason: str | None = None) -> WorkflowExecution:
        """``POST /workflows/executions/{id}/cancel``. An unknown outcome raises
        :class:`RequestOutcomeUnknownError` (the cancel may have been applied)."""
        what = f"Cancelling workflow execution {execution_id!r} {self._in_project}"
        reply = self._request(
            "POST",
            f"/workflows/executions/{_q(execution_id)}/cancel",
            what=what,
            body={"reason": reason} if reason else {},
            safe=False,
            outcome_unknown=_outcome_unknown(what, "cancel", execution_id),
        )
        return self._load(WorkflowExecution, reply, what)

    def retry_execution(
        self, execution_id: str, client_credentials: ClientCredentials | None = None
    ) -> WorkflowExecution:
        """``POST /workflows/executions/{id}/retry`` with a fresh session (same rules as :meth:`run`)."""
        what = f"Retrying workflow execution {execution_id!r} {self._in_project}"
        nonce = self.create_session(client_credentials).nonce.get_secret_value()
        reply = self._request(
            "POST",
            f"/workflows/executions/{_q(execution_id)}/retry",
            what=what,
            body={"authentication": {"nonce": nonce}},
            safe=False,
            outcome_unknown=_outcome_unknown(what, "retry", execution_id),
            secrets=[nonce],
        )
        return self._load(WorkflowExecution, reply, what)

    # ---------------------------------------------------------------- workflows and versions

    def retrieve_workflow(self, external_id: str) -> Workflow | None:
        """``GET /workflows/{id}``; None when it does not exist."""
        what = f"Retrieving workflow {external_id!r} {self._in_project}"
        try:
            reply = self._request("GET", f"/workflows/{_q(external_id)}", what=what, safe=True)
        except CdfNotFoundError:
            return None
        return self._load(Workflow, reply, what)

    def retrieve_workflow_version(self, workflow_external_id: str, version: str) -> WorkflowVersion | None:
        """``GET /workflows/{id}/versions/{version}``; None when it does not exist."""
        what = f"Retrieving workflow {workflow_external_id!r} version {version!r} {self._in_project}"
        try:
            reply = self._request(
                "GET", f"/workflows/{_q(workflow_external_id)}/versions/{_q(version)}", what=what, safe=True
            )
        except CdfNotFoundError:
            return None
        return self._load(WorkflowVersion, reply, what)

    def upsert_workflow(
        self,
        external_id: str,
        description: str | None = None,
        *,
        data_set_id: int | None = None,
        max_concurrent_executions: int | None = None,
    ) -> Workflow:
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
        return self._load(Workflow, self._first_item(reply, what), what)

    def delete_workflow(self, external_id: str) -> None:
        """``POST /workflows/delete``: the workflow and all its versions. An unknown id is not an error;
        CDF refuses while executions of the workflow run."""
        what = f"Deleting workflow {external_id!r} {self._in_project}"
        body = {"items": [{"externalId": external_id}]}
        self._request("POST", "/workflows/delete?ignoreUnknownIds=true", what=what, body=body, safe=True)

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
    ) -> WorkflowVersion:
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
        return self._load(WorkflowVersion, self._first_item(reply, what), what)

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
        client_credentials: ClientCredentials | None = None,
    ) -> WorkflowTrigger:
        """``POST /workflows/triggers`` with one item. Like the SDK, it first creates the session the trigger
        runs with (those credentials, else the connection's own client, else token exchange)."""
        what = f"Upserting workflow trigger {external_id!r} {self._in_project}"
        nonce = self.create_session(client_credentials).nonce.get_secret_value()
        item: dict[str, Any] = {
            "externalId": external_id,
            "triggerRule": trigger_rule,
            "workflowExternalId": workflow_external_id,
            "workflowVersion": workflow_version,
            "authentication": {"nonce": nonce},
        }
        if input is not None:
            item["input"] = input
        if metadata is not None:
            item["metadata"] = metadata
        # Safe to send again: an upsert of the same item has the same effect.
        reply = self._request(
            "POST", "/workflows/triggers", what=what, body={"items": [item]}, safe=True, secrets=[nonce]
        )
        return self._load(WorkflowTrigger, self._first_item(reply, what), what)

    def retrieve_trigger(self, external_id: str) -> WorkflowTrigger | None:
        """The trigger with this external id, or None. CDF has no retrieve call: this lists, as the Toolkit does."""
        what = f"Listing workflow triggers {self._in_project}"
        cursor: str | None = None
        while True:
            path = f"/workflows/triggers?limit=1000{'&cursor=' + quote(cursor, safe='') if cursor else ''}"
            reply = self._request("GET", path, what=what, safe=True)
            for item in reply.get("items") or [] if isinstance(reply, dict) else []:
                if isinstance(item, dict) and item.get("externalId") == external_id:
                    return self._load(WorkflowTrigger, item, what)
            cursor = reply.get("nextCursor") if isinstance(reply, dict) else None
            if not cursor:
                return None

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
        self._request("POST", f"/workflows/triggers/{_q(external_id)}/{action}", what=what, safe=True)

    # ---------------------------------------------------------------- the wire

    def _headers(self) -> dict[str, str]:
        return {
            "cdf-version": API_SUBVERSION,
            "x-cdp-app": APP_NAME,
            "x-cdp-sdk": f"{APP_NAME}:{__version__}",
            "Content-Type": "application/json",
            "Accept": "application/json",
            "User-Agent": f"{APP_NAME}/{__version__} python-requests/{requests.__version__}",
        }

    def _request(
        self,
        method: str,
        path: str,
        *,
        what: str,
        safe: bool,
        body: dict[str, Any] | None = None,
        outcome_unknown: _OutcomeUnknown | None = None,
        secrets: Iterable[str] = (),
        only_404_is_not_found: bool = False,
    ) -> Any:
        """Send one API request with the retry rules of its kind; return the decoded JSON reply.

        ``safe`` requests are retried on 429/502/503/504 and any connection error; unsafe ones only on
        429 and connections that never got established. ``outcome_unknown`` builds the error for an
        unsafe request whose reply was lost. ``secrets`` are redacted from every error message.
        """
        url = self.settings.api_base + path
        secrets = [s for s in secrets if s]
        data = None
        if body is not None:
            try:
                data = json.dumps(body, allow_nan=False).encode()
            except ValueError as exc:
                raise CdfError(f"{what}: the request body is not valid JSON ({exc})") from None
        retry_statuses = SAFE_RETRY_STATUSES if safe else UNSAFE_RETRY_STATUSES
        started = self._policy.clock()
        retry = 0
        renewed = False
        token = self._auth.token()
        while True:
            secrets.append(token)  # every token this request used is redacted from its errors
            try:
                resp = self._http.request(
                    method,
                    url,
                    data=data,
                    headers=self._headers(),
                    auth=BearerAuth(token),
                    timeout=self._timeout,
                    allow_redirects=False,
                )
            except requests.RequestException as exc:
                never_sent = connection_not_established(exc)
                reason = self._describe_exception(exc, never_sent)
                if not safe and not never_sent:
                    assert outcome_unknown is not None
                    raise outcome_unknown(self._redact(reason, secrets, token), None, None, None) from None
                wait = self._policy.next_wait(retry, started, None)
                if wait is None:
                    reason = self._redact(reason, secrets, token)
                    raise CdfConnectionError(f"{what} failed: {reason} (after {retry + 1} attempts)") from None
                _log.debug("%s: %s; retrying in %.2f s", what, reason, wait)
            else:
                if 200 <= resp.status_code < 300:
                    try:
                        return self._decode(resp, what)
                    except CdfApiError as exc:
                        if outcome_unknown is None:
                            raise
                        # CDF accepted the request; only its reply is unreadable.
                        reason = f"CDF answered {resp.status_code} with a body that is not JSON"
                        raise outcome_unknown(reason, resp.status_code, None, exc.request_id) from None
                if resp.status_code == 401 and not renewed:
                    renewed = True  # CDF did not act on a request it refused as unauthenticated
                    new_token = self._auth.renew(token)
                    if new_token is not None:
                        token = new_token
                        continue
                wait = None
                if resp.status_code in retry_statuses:
                    wait = self._policy.next_wait(retry, started, parse_retry_after(resp.headers.get("Retry-After")))
                if wait is None:
                    raise self._api_error(resp, what, secrets, token, outcome_unknown, only_404_is_not_found)
                _log.debug("%s: CDF answered %s; retrying in %.2f s", what, resp.status_code, wait)
            self._policy.sleep(wait)
            retry += 1
            token = self._auth.token()

    def _describe_exception(self, exc: requests.RequestException, never_sent: bool) -> str:
        if isinstance(exc, requests.exceptions.ConnectTimeout):
            return f"could not connect to {self.settings.base_url} within {self.settings.connect_timeout} s"
        if never_sent:
            return f"could not connect to {self.settings.base_url} (connection refused or unreachable)"
        if isinstance(exc, requests.exceptions.ReadTimeout):
            return f"the request was sent but no reply came within {self.settings.read_timeout} s"
        return f"the request was sent but the connection was lost before a reply ({type(exc).__name__})"

    def _api_error(
        self,
        resp: requests.Response,
        what: str,
        secrets: list[str],
        token: str,
        outcome_unknown: _OutcomeUnknown | None,
        only_404_is_not_found: bool,
    ) -> CdfError:
        status = resp.status_code
        request_id = resp.headers.get("X-Request-ID")
        known = self._secrets(secrets, token)
        cdf_message, missing, duplicated = _parse_envelope(resp)
        cdf_message = redact_text(cdf_message, known)
        missing, duplicated = redact_json(missing, known), redact_json(duplicated, known)
        if outcome_unknown is not None and status >= 500:
            return outcome_unknown(
                f"CDF answered {status} ({cdf_message}) after the request was sent",
                status,
                cdf_message,
                request_id,
            )
        message = f"{what} failed: CDF answered {status}: {cdf_message}"
        if missing:
            message += f"; missing: {json.dumps(missing)}"
        if duplicated:
            message += f"; duplicated: {json.dumps(duplicated)}"
        if status == 401:
            message += "; the credentials were refused" + (
                " even after renewing the token" if self.settings.uses_oauth else " (static token)"
            )
        message += _request_id_note(request_id)
        cls: type[CdfApiError] = CdfApiError
        if status in (401, 403):
            cls = CdfAuthError
        elif status == 404 or (status in (400, 422) and missing and not only_404_is_not_found):
            cls = CdfNotFoundError
        return cls(
            message,
            status=status,
            cdf_message=cdf_message,
            request_id=request_id,
            missing=missing,
            duplicated=duplicated,
        )

    def _secrets(self, secrets: list[str], token: str) -> list[str]:
        known = [*secrets, token]
        if self.settings.client_secret is not None:
            known.append(self.settings.client_secret.get_secret_value())
        if self.settings.token is not None:
            known.append(self.settings.token.get_secret_value())
        return known

    def _redact(self, text: str, secrets: list[str], token: str) -> str:
        return redact_text(text, self._secrets(secrets, token))

    @staticmethod
    def _decode(resp: requests.Response, what: str) -> Any:
        if not resp.content:
            return None
        try:
            return resp.json()
        except ValueError:
            raise CdfApiError(
                f"{what}: CDF answered {resp.status_code} with a body that is not JSON",
                status=resp.status_code,
                request_id=resp.headers.get("X-Request-ID"),
            ) from None

    @staticmethod
    def _first_item(reply: Any, what: str) -> Any:
        items = reply.get("items") if isinstance(reply, dict) else None
        if not isinstance(items, list) or not items:
            raise CdfApiError(f"{what}: the reply has no items")
        return items[0]

    @staticmethod
    def _load(model: type[_M], data: Any, what: str) -> _M:
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            fields = ", ".join(".".join(str(p) for p in e["loc"]) or "<root>" for e in exc.errors())
            raise CdfApiError(f"{what}: the reply is not a valid {model.__name__} (fields: {fields})") from None


def _request_id_note(request_id: str | None) -> str:
    return f" (X-Request-ID: {request_id})" if request_id else ""


def _outcome_unknown(what: str, action: str, execution_id: str) -> _OutcomeUnknown:
    def build(reason: str, status: int | None, cdf_message: str | None, request_id: str | None) -> CdfError:
        return RequestOutcomeUnknownError(
            f"{what}: {reason}. The {action} may have been applied: retrieve execution {execution_id!r} "
            f"to see its status before sending the {action} again." + _request_id_note(request_id),
            status=status,
            cdf_message=cdf_message,
            request_id=request_id,
        )

    return build


def _parse_envelope(resp: requests.Response) -> tuple[str, list[dict[str, Any]], list[dict[str, Any]]]:
    """CDF's error envelope ``{"error": {"code", "message", "missing"?, "duplicated"?}}`` (or a string)."""
    try:
        body = resp.json()
    except ValueError:
        return (resp.text[:500].strip() or resp.reason or "no message"), [], []
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        message = str(error.get("message") or resp.reason or "no message")
        missing = error.get("missing") if isinstance(error.get("missing"), list) else []
        duplicated = error.get("duplicated") if isinstance(error.get("duplicated"), list) else []
        return message, list(missing or []), list(duplicated or [])
    if isinstance(error, str):
        return error, [], []
    return (resp.text[:500].strip() or resp.reason or "no message"), [], []
