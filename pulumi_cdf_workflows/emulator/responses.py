"""Wire layer: read a parsed request's parameters, call the backend, format CDF's JSON reply."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from pulumi_cdf_workflows.emulator.exceptions import ApiError, BadRequest, OAuthError
from pulumi_cdf_workflows.emulator.models import CdfBackend

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
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def project(self) -> str:
        return self.params["project"]

    def query_flag(self, name: str) -> bool:
        return self.query.get(name, "false").lower() == "true"


def error_reply(exc: ApiError | OAuthError) -> JsonReply:
    """The one place where errors become replies."""
    if isinstance(exc, OAuthError):
        return exc.status, exc.body(), {}
    return exc.status, exc.envelope(), {}


def _ok(body: dict[str, Any], status: int = 200) -> JsonReply:
    return status, body, {}


def _page(items: list[dict[str, Any]], cursor: str | None) -> dict[str, Any]:
    body: dict[str, Any] = {"items": items}
    if cursor is not None:
        body["nextCursor"] = cursor
    return body


def _query_limit(req: Request) -> int | None:
    limit = req.query.get("limit")
    if limit is None:
        return None
    try:
        return int(limit)
    except ValueError as exc:
        raise BadRequest("limit must be an integer") from exc


def _body_dict(req: Request) -> dict[str, Any]:
    if req.body is None:
        return {}
    if not isinstance(req.body, dict):
        raise BadRequest("Request body must be a JSON object")
    return req.body


class CdfResponses:
    """One method per CDF endpoint; each returns (status, JSON body, headers)."""

    def __init__(self, backend: CdfBackend) -> None:
        self.backend = backend

    # ----- auth
    def oauth_token(self, req: Request) -> JsonReply:
        form = req.body if isinstance(req.body, dict) else {}
        client_id, client_secret = form.get("client_id"), form.get("client_secret")
        basic = req.extra.get("basic_auth")
        if basic is not None:
            client_id, client_secret = basic
        return _ok(self.backend.issue_token(form.get("grant_type"), client_id, client_secret))

    def token_inspect(self, req: Request) -> JsonReply:
        return _ok(self.backend.token_inspect(req.subject))

    # ----- sessions
    def create_session(self, req: Request) -> JsonReply:
        session = self.backend.create_session(req.project, _body_dict(req).get("items"))
        return _ok({"items": [session.created_json()]})

    def list_sessions(self, req: Request) -> JsonReply:
        items, cursor = self.backend.list_sessions(
            req.project, req.query.get("status"), _query_limit(req), req.query.get("cursor")
        )
        return _ok(_page([s.to_json() for s in items], cursor))

    def retrieve_sessions(self, req: Request) -> JsonReply:
        sessions = self.backend.retrieve_sessions(req.project, _body_dict(req).get("items"))
        return _ok({"items": [s.to_json() for s in sessions]})

    def revoke_sessions(self, req: Request) -> JsonReply:
        sessions = self.backend.revoke_sessions(req.project, _body_dict(req).get("items"))
        return _ok({"items": [s.to_json() for s in sessions]})

    # ----- workflows
    def upsert_workflow(self, req: Request) -> JsonReply:
        workflows = self.backend.upsert_workflow(req.project, _body_dict(req).get("items"))
        return _ok({"items": [w.to_json() for w in workflows]})

    def get_workflow(self, req: Request) -> JsonReply:
        return _ok(self.backend.get_workflow(req.project, req.params["workflow"]).to_json())

    def list_workflows(self, req: Request) -> JsonReply:
        items, cursor = self.backend.list_workflows(req.project, _query_limit(req), req.query.get("cursor"))
        return _ok(_page([w.to_json() for w in items], cursor))

    def delete_workflows(self, req: Request) -> JsonReply:
        self.backend.delete_workflows(req.project, _body_dict(req).get("items"), req.query_flag("ignoreUnknownIds"))
        return _ok({})

    # ----- versions
    def upsert_versions(self, req: Request) -> JsonReply:
        versions = self.backend.upsert_versions(req.project, _body_dict(req).get("items"))
        return _ok({"items": [v.to_json() for v in versions]})

    def get_version(self, req: Request) -> JsonReply:
        found = self.backend.get_version(req.project, req.params["workflow"], req.params["version"])
        return _ok(found.to_json())

    def list_versions(self, req: Request) -> JsonReply:
        body = _body_dict(req)
        flt = body.get("filter") or {}
        if not isinstance(flt, dict):
            raise BadRequest("filter must be an object")
        items, cursor = self.backend.list_versions(
            req.project, flt.get("workflowFilters"), body.get("limit"), body.get("cursor")
        )
        return _ok(_page([v.to_json() for v in items], cursor))

    def delete_versions(self, req: Request) -> JsonReply:
        self.backend.delete_versions(req.project, _body_dict(req).get("items"), req.query_flag("ignoreUnknownIds"))
        return _ok({})

    # ----- executions
    def run(self, req: Request) -> JsonReply:
        execution = self.backend.run(req.project, req.params["workflow"], req.params["version"], req.body)
        return _ok(execution.to_json(), 202)

    def get_execution(self, req: Request) -> JsonReply:
        return _ok(self.backend.get_execution(req.project, req.params["execution"]).to_detailed_json())

    def list_executions(self, req: Request) -> JsonReply:
        items, cursor = self.backend.list_executions(req.project, req.body)
        return _ok(_page(items, cursor))

    def cancel(self, req: Request) -> JsonReply:
        return _ok(self.backend.cancel(req.project, req.params["execution"], req.body).to_json())

    def retry(self, req: Request) -> JsonReply:
        return _ok(self.backend.retry(req.project, req.params["execution"], req.body).to_json())

    def update_task(self, req: Request) -> JsonReply:
        return _ok(self.backend.update_task(req.project, req.params["task"], req.body).to_json())

    # ----- triggers
    def upsert_triggers(self, req: Request) -> JsonReply:
        triggers = self.backend.upsert_triggers(req.project, _body_dict(req).get("items"))
        return _ok({"items": [t.to_json() for t in triggers]})

    def list_triggers(self, req: Request) -> JsonReply:
        items, cursor = self.backend.list_triggers(
            req.project,
            _query_limit(req),
            req.query.get("cursor"),
            req.query.get("workflowExternalId"),
            req.query.get("workflowVersion"),
        )
        return _ok(_page([t.to_json() for t in items], cursor))

    def delete_triggers(self, req: Request) -> JsonReply:
        self.backend.delete_triggers(req.project, _body_dict(req).get("items"))
        return _ok({})

    def trigger_history(self, req: Request) -> JsonReply:
        runs, cursor = self.backend.trigger_history(
            req.project, req.params["trigger"], _query_limit(req), req.query.get("cursor")
        )
        return _ok(_page([r.to_json() for r in runs], cursor))

    def pause_trigger(self, req: Request) -> JsonReply:
        self.backend.pause_trigger(req.project, req.params["trigger"], paused=True)
        return _ok({})

    def resume_trigger(self, req: Request) -> JsonReply:
        self.backend.pause_trigger(req.project, req.params["trigger"], paused=False)
        return _ok({})


def parse_json(raw: bytes) -> Any:
    if not raw.strip():
        return None
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadRequest(f"Request body is not valid JSON: {exc}") from exc
