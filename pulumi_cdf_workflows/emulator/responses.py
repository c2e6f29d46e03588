"""Wire layer: find a request's route (urls.py), read and validate its parameters (parsing.py), call the backend
with typed arguments, and format CDF's JSON reply. Errors become replies in one place: `error_reply`.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from pulumi_cdf_workflows.emulator import parsing, permissions
from pulumi_cdf_workflows.emulator.backend import CdfBackend
from pulumi_cdf_workflows.emulator.capabilities import Grants, Target
from pulumi_cdf_workflows.emulator.exceptions import ApiError, BadRequest, NotFound, OAuthError
from pulumi_cdf_workflows.emulator.urls import url_paths
from pulumi_cdf_workflows.emulator.validation import single_item, validate_identifier

JsonReply = tuple[int, dict[str, Any], dict[str, str]]  # status, body, extra headers


@dataclass
class Request:
    method: str
    path: str
    params: dict[str, str]  # URL-decoded path parameters
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names
    body: Any  # decoded JSON (or form dict for the token endpoint), None when empty
    subject: str = ""  # who the bearer token belongs to, set after authentication
    grants: Grants | None = None  # what the subject may do (None: everything), set after authentication
    basic_auth: tuple[str, str] | None = None  # the token endpoint's HTTP Basic client credentials

    @property
    def project(self) -> str:
        return self.params["project"]

    def query_flag(self, name: str) -> bool:
        return self.query.get(name, "false").lower() == "true"

    def page(self, default: int | None = None) -> parsing.Page:
        """`limit` and `cursor` from the query string."""
        limit = self.query.get("limit")
        try:
            number = None if limit is None else int(limit)
        except ValueError as exc:
            raise BadRequest("limit must be an integer") from exc
        return parsing.page(number, self.query.get("cursor"), default)

    def object(self) -> dict[str, Any]:
        return parsing.body_object(self.body)

    def items(self) -> Any:
        return self.object().get("items")

    def item(self, what: str) -> dict[str, Any]:
        """The one item of a call that takes one per request."""
        return single_item(self.items(), what)

    def readable(self, data_set: Target) -> bool:
        """Whether a list answers an item of a workflow in `data_set` (permissions.py)."""
        return permissions.may_read(self.grants, self.project, data_set)


def error_reply(exc: ApiError | OAuthError) -> JsonReply:
    """The one place where errors become replies."""
    if isinstance(exc, OAuthError):
        return exc.status, exc.body(), {}
    return exc.status, exc.envelope(), {}


def _ok(body: dict[str, Any], status: int = 200) -> JsonReply:
    return status, body, {}


def _page(items: list[dict[str, Any]], cursor: str | None) -> JsonReply:
    body: dict[str, Any] = {"items": items}
    if cursor is not None:
        body["nextCursor"] = cursor
    return _ok(body)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


class CdfResponses:
    """One method per CDF endpoint; each returns (status, JSON body, headers)."""

    def __init__(self, backend: CdfBackend) -> None:
        self.backend = backend

    def dispatch(
        self,
        method: str,
        path: str,
        query: dict[str, str],
        headers: dict[str, str],
        body: Any,
        authorization: str | None,
    ) -> JsonReply:
        """Routes a request to its handler, after authenticating it; 404 or 405 when no route takes it."""
        for route_method, pattern, handler_name, needs_auth in url_paths:
            match = pattern.match(path)
            if match is None or route_method != method:
                continue
            params = {k: unquote(v) for k, v in match.groupdict().items()}
            req = Request(method, path, params, query, headers, body)
            if needs_auth:
                req.subject = self.backend.auth.authenticate(authorization)
            if "project" in params:
                self.backend.auth.touch_project(params["project"])
            if handler_name == "oauth_token" and authorization and authorization.lower().startswith("basic "):
                req.basic_auth = parse_basic(authorization)
            # Under the backend lock, so a reply is never formatted while the scheduler changes what it shows, and
            # the capabilities are checked against the state the handler then changes.
            with self.backend.lock:
                if needs_auth:
                    req.grants = self.backend.auth.grants(req.subject)
                    project = params.get("project")
                    permissions.check(handler_name, req.grants, self.backend, project, params, body)
                result: JsonReply = getattr(self, handler_name)(req)
            return result
        if any(pattern.match(path) for _, pattern, _, _ in url_paths):
            raise ApiError(f"Method {method} not allowed on {path}", status=405)
        raise NotFound(f"No such endpoint: {method} {path}")

    def _workflow_readable(self, req: Request, workflow_xid: str) -> bool:
        """Whether a list answers an item of this workflow (a version, an execution, a trigger)."""
        if req.grants is None:
            return True
        # guess: such an item whose workflow is gone counts as in no data set.
        return req.readable(permissions.workflow_data_set(self.backend, req.project, workflow_xid, None))

    # ----- auth
    def oauth_token(self, req: Request) -> JsonReply:
        form = req.body if isinstance(req.body, dict) else {}
        client_id, client_secret = req.basic_auth or (form.get("client_id"), form.get("client_secret"))
        auth = self.backend.auth
        token = auth.issue_token(_text(form.get("grant_type")), _text(client_id), _text(client_secret))
        return _ok({"access_token": token.token, "token_type": "Bearer", "expires_in": int(auth.token_ttl)})

    def token_inspect(self, req: Request) -> JsonReply:
        """The caller's subject, projects and capabilities [SDK TokenInspection]; a client given nothing gets every
        capability the emulator checks, in all projects."""
        shown = req.grants if req.grants is not None else permissions.all_access()
        return _ok(
            {
                "subject": req.subject,
                # guess: group ids are not emulated; every project shows an empty list.
                "projects": [{"projectUrlName": p, "groups": []} for p in self.backend.auth.projects(req.grants)],
                "capabilities": shown.to_json(),
            }
        )

    # ----- sessions
    def create_session(self, req: Request) -> JsonReply:
        session_type, client_id, client_secret = parsing.session(req.item("session"))
        session = self.backend.sessions.create(req.project, session_type, client_id, client_secret)
        return _ok({"items": [session.created_json()]})

    def list_sessions(self, req: Request) -> JsonReply:
        """`GET /sessions?status&limit&cursor` [SDK SessionsAPI.list]: limit 1..1000, default 25."""
        status = parsing.session_status(req.query.get("status"))
        page = req.page(default=parsing.DEFAULT_SESSION_LIMIT)
        items, cursor = self.backend.sessions.list_sessions(req.project, status, page.limit, page.cursor)
        return _page([s.to_json() for s in items], cursor)

    def retrieve_sessions(self, req: Request) -> JsonReply:
        sessions = self.backend.sessions.retrieve(req.project, parsing.session_ids(req.items()))
        return _ok({"items": [s.to_json() for s in sessions]})

    def revoke_sessions(self, req: Request) -> JsonReply:
        # The SDK sends at most 100 per request, "a self-inflicted limit": the API has none [SDK SessionsAPI].
        sessions = self.backend.sessions.revoke(req.project, parsing.session_ids(req.items(), None))
        if req.grants is not None and not req.grants.allows(req.project, permissions.SESSIONS, "LIST"):
            # "If the caller lacks sessionsAcl:LIST, only the session ID will be present" [SDK SessionsAPI.revoke].
            return _ok({"items": [{"id": s.id} for s in sessions]})
        return _ok({"items": [s.to_json() for s in sessions]})

    # ----- workflows
    def upsert_workflow(self, req: Request) -> JsonReply:
        workflow = self.backend.save_workflow(req.project, parsing.workflow(req.item("workflow")))
        return _ok({"items": [workflow.to_json()]})

    def get_workflow(self, req: Request) -> JsonReply:
        return _ok(self.backend.workflows.get(req.project, req.params["workflow"]).to_json())

    def list_workflows(self, req: Request) -> JsonReply:
        page = req.page()
        items, cursor = self.backend.workflows.list_workflows(req.project, page.limit, page.cursor)
        return _page([w.to_json() for w in items if req.readable(w.data_set_id)], cursor)

    def delete_workflows(self, req: Request) -> JsonReply:
        xids = parsing.workflow_ids(req.items())
        self.backend.delete_workflows(req.project, xids, req.query_flag("ignoreUnknownIds"))
        return _ok({})

    # ----- versions
    def upsert_versions(self, req: Request) -> JsonReply:
        # "Limited to a single workflow version per request" [DOCS create-or-update-a-workflow-version].
        xid, version, description, tasks = parsing.version(req.item("workflow version"))
        found = self.backend.workflows.upsert_version(req.project, xid, version, description, tasks)
        return _ok({"items": [found.to_json()]})

    def get_version(self, req: Request) -> JsonReply:
        found = self.backend.workflows.get_version(req.project, req.params["workflow"], req.params["version"])
        return _ok(found.to_json())

    def list_versions(self, req: Request) -> JsonReply:
        wanted, page = parsing.versions_list(req.object())
        items, cursor = self.backend.workflows.list_versions(req.project, wanted, page.limit, page.cursor)
        return _page([v.to_json() for v in items if self._workflow_readable(req, v.workflow_external_id)], cursor)

    def delete_versions(self, req: Request) -> JsonReply:
        ids = parsing.version_ids(req.items())
        self.backend.workflows.delete_versions(req.project, ids, req.query_flag("ignoreUnknownIds"))
        return _ok({})

    # ----- executions
    def run(self, req: Request) -> JsonReply:
        xid = validate_identifier(req.params["workflow"], "workflowExternalId")
        version = validate_identifier(req.params["version"], "version")
        run = parsing.run(req.body)
        execution = self.backend.executions.run(req.project, xid, version, run.nonce, run.input, run.metadata)
        return _ok(execution.to_json(), 202)

    def get_execution(self, req: Request) -> JsonReply:
        execution_id = parsing.execution_id(req.params["execution"])
        return _ok(self.backend.executions.get(req.project, execution_id).to_detailed_json())

    def list_executions(self, req: Request) -> JsonReply:
        wanted, page = parsing.executions_list(req.object())
        items, cursor = self.backend.executions.list_executions(req.project, wanted, page.limit, page.cursor)
        return _page([e.to_json() for e in items if self._workflow_readable(req, e.workflow_external_id)], cursor)

    def cancel(self, req: Request) -> JsonReply:
        reason = parsing.cancel_reason(req.body)
        execution_id = parsing.execution_id(req.params["execution"])
        return _ok(self.backend.executions.cancel(req.project, execution_id, reason).to_json())

    def retry(self, req: Request) -> JsonReply:
        nonce = parsing.retry_nonce(req.body)
        execution_id = parsing.execution_id(req.params["execution"])
        return _ok(self.backend.executions.retry(req.project, execution_id, nonce).to_json())

    def update_task(self, req: Request) -> JsonReply:
        status, output = parsing.task_update(req.body)
        return _ok(self.backend.executions.update_task(req.project, req.params["task"], status, output).to_json())

    # ----- triggers
    def upsert_triggers(self, req: Request) -> JsonReply:
        trigger = self.backend.triggers.upsert(req.project, parsing.trigger(req.item("trigger")))
        return _ok({"items": [trigger.to_json()]})

    def list_triggers(self, req: Request) -> JsonReply:
        page = req.page()
        wanted = req.query.get("workflowExternalId"), req.query.get("workflowVersion")
        items, cursor = self.backend.triggers.list_triggers(req.project, page.limit, page.cursor, *wanted)
        return _page([t.to_json() for t in items if self._workflow_readable(req, t.workflow_external_id)], cursor)

    def delete_triggers(self, req: Request) -> JsonReply:
        xid = validate_identifier(req.item("{externalId} object").get("externalId"), "externalId")
        self.backend.triggers.delete(req.project, xid)
        return _ok({})

    def trigger_history(self, req: Request) -> JsonReply:
        page = req.page()
        runs, cursor = self.backend.triggers.history(req.project, req.params["trigger"], page.limit, page.cursor)
        return _page([r.to_json() for r in runs], cursor)

    def pause_trigger(self, req: Request) -> JsonReply:
        self.backend.triggers.pause(req.project, req.params["trigger"], paused=True)
        return _ok({})

    def resume_trigger(self, req: Request) -> JsonReply:
        self.backend.triggers.pause(req.project, req.params["trigger"], paused=False)
        return _ok({})


def parse_json(raw: bytes) -> Any:
    if not raw.strip():
        return None
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadRequest(f"Request body is not valid JSON: {exc}") from exc


def parse_basic(header: str) -> tuple[str, str]:
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise OAuthError("invalid_client", "Malformed HTTP Basic credentials", 401) from exc
    client_id, _, secret = decoded.partition(":")
    # RFC 6749 §2.3.1: both parts are form-urlencoded inside the Basic header.
    return unquote(client_id.replace("+", " ")), unquote(secret.replace("+", " "))
